"""The special report on one event (舆情专报): what offices file when one incident draws attention.

Sections, in the order offices write them: 事件概述, 首发情况, 传播时间线, 传播分布 (by source and by
media level), 情感走势 (per hour for an event of two days or less, else per day), 重点信息, and the
analyst's 研判与建议 (``--note FILE``). The same ``SpecialReport`` feeds the HTML and the Word file,
so both hold the same sections. Crawled text is cleaned and masked here like the digest's
(``alerts.digest``); escaping is the renderer's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from alerts import digest as d
from alerts import queries as q
from alerts.gather import fill_texts, unit_names, viewer
from alerts.render import inline_css
from config import Config
from storage.models import AnalysisRow, PostRow
from yuqing.base.errors import YuqingError

TIMELINE_MAX = 60  # posts listed in the timeline; the rest are counted
KEY_POSTS = 8
HOURLY_SPAN = timedelta(hours=48)  # an event this short is charted per hour, a longer one per day
SECTIONS = (
    "一、事件概述",
    "二、首发情况",
    "三、传播时间线",
    "四、传播分布",
    "五、情感走势",
    "六、重点信息",
    "七、研判与建议",
)


@dataclass(frozen=True)
class EventPost:
    """One post of the event, without its text (an event may hold thousands)."""

    id: int
    source_id: str
    title: str
    url: str
    published_at: datetime | None
    fetched_at: datetime
    negative: bool
    risk_level: int
    engagement: int  # views + likes + comments + reposts, where stored

    @property
    def time(self) -> datetime:
        return self.published_at or self.fetched_at


@dataclass(frozen=True)
class TimelineRow:
    time: str
    source: str
    level: str
    title: str
    url: str
    first: bool
    negative: bool


@dataclass(frozen=True)
class Share:
    """A count with its share of the event's posts: by source, by media level, by period."""

    label: str
    count: int
    negative: int
    percent: int  # of the largest count (for bars)
    note: str = ""


@dataclass
class SpecialReport:
    """Everything the special report shows, ready to render (HTML) or write (.docx)."""

    title: str
    number: str
    date: str
    event_id: int
    overview: str
    first: TimelineRow | None
    first_text: str
    timeline: list[TimelineRow]
    timeline_more: int
    by_source: list[Share]
    by_level: list[Share]
    trend_unit: str
    trend: list[Share]
    key_posts: list[d.ItemView]
    note: list[str]
    generated: str
    sections: tuple[str, ...] = SECTIONS
    handling: str = ""  # 处置情况: where the event's handling stands (``storage.handling``)


def event_posts(session: Session, event_id: int, scope: q.Scope | None = None) -> list[EventPost]:
    """Every analysed post of the event (of ``scope``'s sources and topics when given), earliest
    post time first."""
    engagement = sum(
        (func.coalesce(column, 0) for column in (PostRow.views, PostRow.likes, PostRow.comments, PostRow.reposts)),
        start=literal(0),
    )
    stmt = (
        select(
            PostRow.id,
            PostRow.source_id,
            PostRow.title,
            PostRow.url,
            PostRow.published_at,
            PostRow.fetched_at,
            AnalysisRow.negative,
            AnalysisRow.risk_level,
            engagement,
        )
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(AnalysisRow.event_id == event_id, *(q.scope_filters(scope) if scope else ()))
    )
    posts = [EventPost(*row[:8], int(row[8] or 0)) for row in session.execute(stmt)]
    return sorted(posts, key=lambda p: (p.time, p.id))


def find_event(session: Session, event_id: int) -> q.EventSummary:
    """The event, or a ``YuqingError`` saying where event ids are shown."""
    event = q.event_rows(session, [event_id]).get(event_id)
    if event is None:
        raise YuqingError(
            f"no event {event_id}",
            "event ids are the numbers in the digest's 热点事件 links and in `yuqing posts show POST_ID`",
        )
    return event


def key_items(session: Session, posts: Sequence[EventPost], limit: int = KEY_POSTS) -> list[q.Item]:
    """The posts analysts read first: highest risk, negative, most engagement, earliest; with texts."""
    ranked = sorted(posts, key=lambda p: (-p.risk_level, not p.negative, -p.engagement, p.time, p.id))[:limit]
    order = {p.id: i for i, p in enumerate(ranked)}
    stmt = select(*q.ITEM_COLUMNS).join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
    items = [q.Item(*row) for row in session.execute(stmt.where(PostRow.id.in_(sorted(order))))]
    items.sort(key=lambda i: order[i.id])
    fill_texts(session, items)
    return items


def trend(posts: Sequence[EventPost], tz: ZoneInfo) -> tuple[str, list[Share]]:
    """Posts and negative posts per hour (an event of two days or less) or per day, gaps included."""
    if not posts:
        return "日", []
    times = [p.time.astimezone(tz) for p in posts]
    hourly = times[-1] - times[0] <= HOURLY_SPAN
    step = timedelta(hours=1) if hourly else timedelta(days=1)

    def bucket(t: datetime) -> datetime:
        return (
            t.replace(minute=0, second=0, microsecond=0)
            if hourly
            else t.replace(hour=0, minute=0, second=0, microsecond=0)
        )

    total: Counter[datetime] = Counter(bucket(t) for t in times)
    negative: Counter[datetime] = Counter(bucket(t) for t, p in zip(times, posts, strict=True) if p.negative)
    top = max(total.values())
    out, at = [], bucket(times[0])
    while at <= bucket(times[-1]):
        label = at.strftime("%m-%d %H时" if hourly else "%m-%d")
        out.append(Share(label, total[at], negative[at], round(100 * total[at] / top)))
        at += step  # wall-clock arithmetic: a day stays a calendar day across DST changes
    return ("小时" if hourly else "日"), out


def shares(total: Counter[str], negative: Counter[str], order: Sequence[str] = ()) -> list[Share]:
    """Counts as rows, in ``order`` when given, else most first; ``percent`` of the largest."""
    top = max(total.values(), default=1)
    keys = sorted(total, key=lambda k: (order.index(k) if k in order else len(order), -total[k], k))
    return [Share(k, total[k], negative[k], round(100 * total[k] / top)) for k in keys]


def note_paragraphs(text: str, mask: d.Mask) -> list[str]:
    """The analyst's 研判 text as paragraphs (blank lines separate them), cleaned and masked."""
    blocks = [" ".join(line.strip() for line in block.splitlines()) for block in text.replace("\r", "").split("\n\n")]
    return [mask(d.clean(b)) for b in blocks if d.clean(b)]


def overview(
    first: TimelineRow | None, posts: Sequence[EventPost], sources: int, levels: str, risk: str, last: str
) -> str:
    """事件概述: who reported first and when, how far it spread, how negative, its engagement."""
    if first is None:
        return "本事件暂无已分析的信息。"
    negative = sum(p.negative for p in posts)
    text = (
        f"{first.time}，{first.source}（{first.level}）首发《{first.title}》。截至{last}，共监测到相关信息"
        f"{len(posts)}篇，涉及{sources}个来源（{levels}）；其中负面信息{negative}篇，"
        f"占{round(100 * negative / len(posts))}%。"
    )
    if risk:
        text += f"事件风险等级：{risk}。"
    engagement = sum(p.engagement for p in posts)
    if engagement:
        text += f"已采集的互动数据（浏览、点赞、评论、转发）合计{engagement}。"
    return text


def build_special(
    session: Session,
    config: Config,
    event_id: int,
    now: datetime,
    note: str = "",
    number: int | None = None,
    scope: q.Scope | None = None,
) -> SpecialReport:
    """The special report on event ``event_id`` as of ``now``; ``note`` is the analyst's 研判;
    ``scope``: only the posts a unit may see (the console, for a unit's user)."""
    tz = ZoneInfo(config.settings.timezone)
    mask = d.masker(config.alerts.digest.mask_pii)
    sources = {s.id: s for s in config.sources.sources}
    event = find_event(session, event_id)
    posts = event_posts(session, event_id, scope)

    def row(p: EventPost, first: bool) -> TimelineRow:
        source = sources.get(p.source_id)
        level = source.media_level if source and source.media_level else d.UNKNOWN_LEVEL
        title = mask(d.clean(p.title))[: d.TITLE_MAX]
        url = mask(d.clean_url(p.url))
        return TimelineRow(
            d.local_time(p.time, tz, now), source.name if source else p.source_id, level, title, url, first, p.negative
        )

    rows = [row(p, i == 0) for i, p in enumerate(posts)]
    by_source = Counter(r.source for r in rows)
    by_level = Counter(r.level for r in rows)
    level_order = [*d.MEDIA_LEVELS, d.UNKNOWN_LEVEL]
    unit, points = trend(posts, tz)
    view = viewer(config, tz, now)
    first = rows[0] if rows else None
    levels = d.coverage_text(d.coverage(Counter(p.source_id for p in posts), sources))
    local_now = now.astimezone(tz)
    event_title = mask(d.clean(event.title))[: d.TITLE_MAX] or f"事件{event_id}"
    return SpecialReport(
        title=f"关于“{event_title}”的舆情专报",
        number=f"〔{local_now.year}〕第{number}期" if number else f"〔{local_now.year}〕事件{event_id}",
        date=local_now.strftime("%Y年%m月%d日"),
        event_id=event_id,
        overview=overview(
            first,
            posts,
            len(by_source),
            levels,
            d.risk_name(event.risk_level, config.alerts.risk.names),
            rows[-1].time if rows else "",
        ),
        first=first,
        first_text=f"{first.time} {first.source}（{first.level}）：{first.title}" if first else "暂无",
        timeline=rows[:TIMELINE_MAX],
        timeline_more=max(0, len(rows) - TIMELINE_MAX),
        by_source=shares(by_source, Counter(r.source for r in rows if r.negative)),
        by_level=shares(by_level, Counter(r.level for r in rows if r.negative), level_order),
        trend_unit=unit,
        trend=points,
        key_posts=[view(i) for i in key_items(session, posts)],
        note=note_paragraphs(note, mask),
        generated=local_now.strftime("%Y-%m-%d %H:%M"),
        handling=d.handling_text(event.status, event.unit, unit_names(config)),
    )


def special_html(env: Environment, r: SpecialReport) -> str:
    """The special report as HTML (CSS inlined: it is mailed or opened as a file alike)."""
    return inline_css(env.get_template("report_event.html.j2").render(r=r))
