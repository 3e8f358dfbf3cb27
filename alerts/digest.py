"""The digest's content as plain values, built by pure functions from query results.

Everything crawled is masked here (``mask_pii``) when the config says so; escaping is left to
the renderer (Jinja2 autoescape for HTML, RFC 2047 for headers)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from alerts.chart import Chart
from alerts.queries import Counts, EventSummary, Item
from config.sources_model import Source
from nlp.pii import mask_pii
from storage.health import HealthStatus
from storage.runs import SourceRuns
from yuqing.base.text import strip_controls

if TYPE_CHECKING:
    from alerts.analyses import Analyses

MEDIA_LEVELS = ("中央级", "省级", "市级", "县区级", "境外")
UNKNOWN_LEVEL = "未知"  # a source whose level nobody configured
TITLE_MAX = 200
# Zero-width and line/paragraph separators; control and bidi characters go by ``strip_controls``.
INVISIBLE_RE = re.compile(r"[\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
Mask = Callable[[str], str]


def clean(text: str) -> str:
    """Crawled text made fit to show: no control, zero-width or bidi characters, one line."""
    return " ".join(INVISIBLE_RE.sub("", strip_controls(text or "")).split())


def clean_url(url: str) -> str:
    """A stored link fit to show (rows stored before control characters were stripped on insert)."""
    return strip_controls(url or "").strip()


def no_mask(text: str) -> str:
    return text


def masker(enabled: bool) -> Mask:
    """``mask_pii`` or the identity, as configured (``digest.mask_pii``)."""
    return mask_pii if enabled else no_mask


@dataclass(frozen=True)
class Segment:
    """A piece of text; ``hit`` marks a matched term to highlight."""

    text: str
    hit: bool = False


@dataclass
class ItemView:
    """One post as shown to analysts."""

    id: int
    title: list[Segment]
    title_plain: str
    source: str
    time: str
    url: str
    risk: str
    risk_level: int
    negative: bool
    terms: list[str]
    excerpt: list[Segment]
    topics: list[str]
    event_note: str = ""
    console_url: str = ""  # its page in the console (settings web.base_url), or ""


@dataclass
class EventView:
    title: str
    post_count: int
    source_count: int
    first_seen: str
    last_seen: str
    risk: str
    risk_level: int
    url: str
    source: str
    handling: str = ""  # 待研判, or e.g. 已交办（深圳市委政法委）
    console_url: str = ""


@dataclass
class TopicSection:
    id: str
    name: str
    relevant: int
    negative: int
    items: list[ItemView]
    refs: list[int] = field(default_factory=list)  # ids of its top posts already shown above


@dataclass
class SourceHealth:
    id: str
    name: str
    media_level: str
    region: str
    runs: int
    failed: int
    collected: int
    status: str
    problem: bool
    error: str


@dataclass
class Change:
    """A count and its change against the previous window."""

    label: str
    value: int
    previous: int

    @property
    def delta(self) -> str:
        diff = self.value - self.previous
        return "持平" if diff == 0 else f"{'+' if diff > 0 else ''}{diff}"


@dataclass
class Digest:
    """Everything one digest shows, ready to render."""

    title: str
    group_id: str
    group_name: str
    period: str
    start: datetime
    end: datetime
    generated: str
    summary: list[Change]
    zero: bool
    zero_text: str
    items: list[ItemView]
    events: list[EventView]
    topics: list[TopicSection]
    quiet_topics: list[str]
    coverage: list[tuple[str, int]]
    coverage_text: str
    sources: list[SourceHealth]
    source_problems: int
    series: list[tuple[str, int, int]]
    chart: Chart | None = None  # the 7-day bars (``alerts.chart``), drawn by the reader's software
    extras: dict[str, Any] = field(default_factory=dict)
    backlog: int = 0  # older posts collected in the window (补采历史信息), counted nowhere else
    backlog_text: str = ""
    partial_until: str = ""  # 非完整: the period had not ended when built; counted until this time
    analyses: Analyses | None = None

    @property
    def negative(self) -> int:
        return next(c.value for c in self.summary if c.label == "负面")

    @property
    def date_label(self) -> str:
        return self.end.strftime("%Y-%m-%d")


def period_text(start: datetime, end: datetime, now: datetime) -> str:
    """``2026-12-01 08:00 至 2026-12-02 08:00``, saying 非完整 when the period has not ended at ``now``."""
    text = f"{start:%Y-%m-%d %H:%M} 至 {end:%Y-%m-%d %H:%M}"
    return text + (f"（非完整：统计截至{now:%m-%d %H:%M}）" if now < end else "")


def local_time(value: datetime | None, tz: tzinfo, now: datetime) -> str:
    """A time as analysts read it, in the configured timezone: ``11-27 14:20`` this year (``now``'s),
    ``2018-06-27 12:11`` in any other."""
    if not value:
        return ""
    local = value.astimezone(tz)
    return local.strftime("%m-%d %H:%M" if local.year == now.astimezone(tz).year else "%Y-%m-%d %H:%M")


def span_text(span: timedelta) -> str:
    """``3天``, ``36小时``, ``90分钟``: a duration setting as analysts read it."""
    minutes = int(span.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}天"
    return f"{minutes // 60}小时" if minutes % 60 == 0 else f"{minutes}分钟"


def backlog_text(count: int, max_age: timedelta) -> str:
    """The digest's one line on older posts collected in its window (a first crawl's history)."""
    if not count:
        return ""
    return (
        f"补采历史信息{count}条（发布时间早于采集时间{span_text(max_age)}以上，已入库可检索，"
        "未计入本期统计，不作预警）。"
    )


def risk_name(level: int, names: Sequence[str]) -> str:
    return names[level - 1] if 1 <= level <= len(names) else ""


def term_spans(topics: Sequence[Any], field_name: str, text: str) -> list[tuple[int, int]]:
    """Character spans of matched terms in one field; offsets are checked against the text and
    the term is searched for when they do not match (the text may have been normalised)."""
    spans: list[tuple[int, int]] = []
    for topic in topics or []:
        for term in (topic.get("terms") or []) if isinstance(topic, dict) else []:
            if not isinstance(term, dict) or term.get("field", "text") != field_name:
                continue
            word, start, end = str(term.get("term", "")), term.get("start"), term.get("end")
            if isinstance(start, int) and isinstance(end, int) and text[start:end] == word and word:
                spans.append((start, end))
            elif word and (found := text.find(word)) >= 0:
                spans.append((found, found + len(word)))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def segments(text: str, spans: Sequence[tuple[int, int]], lo: int = 0, hi: int | None = None) -> list[Segment]:
    """``text[lo:hi]`` cut into plain and highlighted pieces."""
    hi = len(text) if hi is None else hi
    out: list[Segment] = []
    pos = lo
    for start, end in spans:
        start, end = max(start, lo), min(end, hi)
        if start >= end:
            continue
        if start > pos:
            out.append(Segment(text[pos:start]))
        out.append(Segment(text[start:end], True))
        pos = end
    if pos < hi:
        out.append(Segment(text[pos:hi]))
    return out


def excerpt(text: str, spans: Sequence[tuple[int, int]], chars: int) -> list[Segment]:
    """About ``chars`` characters of ``text`` around its first matched term, with ellipses."""
    spans = [(s, e) for s, e in spans if e <= len(text)]
    lo = max(0, spans[0][0] - chars // 3) if spans else 0
    hi = min(len(text), lo + chars)
    pieces = segments(text, spans, lo, hi)
    if lo > 0:
        pieces.insert(0, Segment("…"))
    if hi < len(text):
        pieces.append(Segment("…"))
    return pieces


def matched_terms(topics: Sequence[Any]) -> list[str]:
    words: dict[str, None] = {}
    for topic in topics or []:
        for term in (topic.get("terms") or []) if isinstance(topic, dict) else []:
            if isinstance(term, dict) and term.get("term"):
                words[str(term["term"])] = None
    return list(words)


def console_link(base_url: str | None, kind: str, ident: int) -> str:
    """The page of a post (``posts``) or an event (``events``) in the console; "" without a base URL."""
    return f"{base_url.rstrip('/')}/{kind}/{ident}" if base_url else ""


def item_view(
    item: Item,
    sources: Mapping[str, Source],
    topic_names: Mapping[str, str],
    names: Sequence[str],
    tz: tzinfo,
    chars: int,
    mask: Mask,
    now: datetime,
    console: str | None = None,
) -> ItemView:
    """One post, masked, with its terms highlighted in the title and an excerpt of the text."""
    # Masking keeps lengths (digits become '*'), so term offsets stay valid on masked text.
    # The link is masked too: personal data in a query or path (?mobile=…) is sent otherwise.
    title, text = mask(clean(item.title)), mask(clean(item.text))
    if len(title) > TITLE_MAX:
        title = title[:TITLE_MAX] + "…"
    source = sources.get(item.source_id)
    return ItemView(
        id=item.id,
        title=segments(title, term_spans(item.topics, "title", title)),
        title_plain=title,
        source=source.name if source else item.source_id,
        time=local_time(item.time, tz, now),
        url=mask(clean_url(item.url)),
        risk=risk_name(item.risk_level, names),
        risk_level=item.risk_level,
        negative=bool(item.negative),
        terms=[mask(t) for t in matched_terms(item.topics)],
        excerpt=excerpt(text, term_spans(item.topics, "text", text), chars),
        topics=[
            topic_names.get(t.get("topic", ""), t.get("topic", "")) for t in item.topics or [] if isinstance(t, dict)
        ],
        event_note=f"同一事件共{item.event_posts}篇，{item.event_sources}个来源" if item.event_posts > 1 else "",
        console_url=console_link(console, "posts", item.id),
    )


def handling_text(status: str, unit: str | None, units: Mapping[str, str]) -> str:
    """Where an event's handling stands, with the unit it was handed to (by its group's name)."""
    return f"{status}（{units.get(unit, unit)}）" if unit else status


def event_view(
    event: EventSummary,
    sources: Mapping[str, Source],
    names: Sequence[str],
    tz: tzinfo,
    mask: Mask,
    now: datetime,
    units: Mapping[str, str] | None = None,
    console: str | None = None,
) -> EventView:
    """An event as digests and reports list it (``units``: group id → name, for its handling)."""
    source = sources.get(event.source_id)
    return EventView(
        mask(clean(event.title))[:TITLE_MAX],
        event.post_count,
        event.source_count,
        local_time(event.first_seen, tz, now),
        local_time(event.last_seen, tz, now),
        risk_name(event.risk_level, names),
        event.risk_level,
        mask(clean_url(event.url)),
        source.name if source else event.source_id,
        handling_text(event.status, event.unit, units or {}),
        console_link(console, "events", event.id),
    )


def coverage(relevant_by_source: Mapping[str, int], sources: Mapping[str, Source]) -> list[tuple[str, int]]:
    """Relevant posts per media level, in the usual order, levels without posts left out."""
    totals: dict[str, int] = {}
    for source_id, n in relevant_by_source.items():
        source = sources.get(source_id)
        level = source.media_level if source and source.media_level else "其他"
        totals[level] = totals.get(level, 0) + n
    order = [*MEDIA_LEVELS, UNKNOWN_LEVEL, "其他"]
    return sorted(((k, v) for k, v in totals.items() if v), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)


def coverage_text(levels: Sequence[tuple[str, int]]) -> str:
    """``中央级媒体12篇，省级媒体5篇`` (the office's own wording)."""
    if not levels:
        return "本期无相关报道"
    return "，".join(
        f"{level}媒体{n}篇"
        if level in MEDIA_LEVELS
        else f"级别未知的来源{n}篇"
        if level == UNKNOWN_LEVEL
        else f"其他来源{n}篇"
        for level, n in levels
    )


def source_health(
    source: Source, runs: SourceRuns | None, collected: int, streak: HealthStatus | None = None
) -> SourceHealth:
    """One enabled source's state over the window: silence is never shown as a quiet day. ``streak`` is
    the daemon's verdict on the source's latest runs (failing N runs in a row, or no new posts for
    longer than it usually goes without); a source it alerts on is a problem here too."""
    n_runs, failed = (runs.runs, runs.failed) if runs else (0, 0)
    if streak is not None and streak.alert and not (n_runs and failed == n_runs):
        status, problem = streak.label_zh, True
    elif n_runs == 0:
        status, problem = "窗口内未运行", True
    elif failed == n_runs:
        status, problem = "采集失败", True
    elif collected == 0 and runs is not None and runs.items == 0:
        status, problem = "未采到内容", True
    elif failed:
        status, problem = f"{failed}次失败", False
    else:
        status, problem = "正常", False
    error = clean(runs.last_error if runs else "")[:200]
    return SourceHealth(
        source.id,
        source.name,
        source.media_level or "",
        source.region or "",
        n_runs,
        failed,
        collected,
        status,
        problem,
        error,
    )


def zero_text(counts: Counts, healthy: int, total_sources: int) -> str:
    """The plain statement of a day without negative items (零舆情) with the coverage proving it."""
    text = (
        f"本期未发现负面舆情（零舆情）。监测覆盖：{total_sources}个信息源中{healthy}个运行正常，"
        f"共采集{counts.collected}篇，其中相关{counts.relevant}篇。"
    )
    if healthy < total_sources:
        text += (
            f"注意：{total_sources - healthy}个信息源采集异常（见“信息源运行情况”），零舆情结论仅覆盖运行正常的来源。"
        )
    return text


def summary(current: Counts, previous: Counts) -> list[Change]:
    return [
        Change("采集", current.collected, previous.collected),
        Change("相关", current.relevant, previous.relevant),
        Change("负面", current.negative, previous.negative),
        Change("高风险", current.high_risk, previous.high_risk),
    ]
