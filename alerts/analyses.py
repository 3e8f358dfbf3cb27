"""The analyses of a report period (舆情日报, 周报, 月报, 专报 alike): sentiment, media type and level,
regions, rising terms (热词), and the spread and engagement (热度) of the top events.

``build_analyses`` runs the queries (``alerts.queries``) for any window [start, end) and group scope;
everything else here is a pure function of their results. The templates ``_analyses.*.j2`` and
``alerts.docx_export.add_analyses`` render an ``Analyses`` value; docs/ALERTS.md explains each figure.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.orm import Session

from alerts import queries as q
from alerts.digest import MEDIA_LEVELS, UNKNOWN_LEVEL, Mask, clean, clean_url, local_time, no_mask
from config.sources_model import Source
from nlp.places import Gazetteer, Place, place_of_region

POSITIVE_MAX = 0.2
"""A relevant post is 正面 when it is not negative and its negative score (the sentiment model's
probability of negative) is at most this; 中性 between this and the negative threshold."""
MEDIA_TYPES = ("新闻", "政务", "社交", "论坛", "博客")
BASELINE_DAYS = 30
HOT_MIN_COUNT = 3  # a term named in fewer of the period's posts is never a 热词
HOT_MIN_RATIO = 2.0  # at least twice as frequent (per post) as over the baseline
HOT_MIN_BASELINE = 50  # relevant posts the baseline needs before anything is called rising
HOT_CANDIDATES = 300
HOT_TERMS = 10
TOP_EVENTS = 5
UNPLACED = "未识别"


@dataclass(frozen=True)
class Share:
    """One row of a distribution: a label, its posts and its share of the total in percent."""

    label: str
    count: int
    percent: float

    @property
    def percent_text(self) -> str:
        return f"{self.percent:.1f}%"


@dataclass(frozen=True)
class Region:
    """A province's posts with its cities (posts naming only the province count for it alone)."""

    share: Share
    cities: list[Share]


@dataclass(frozen=True)
class HotTerm:
    """A rising term: posts naming it in the period and over the baseline."""

    word: str
    count: int
    baseline: int
    ratio: float  # smoothed per-post rate in the period over the baseline's

    @property
    def trend(self) -> str:
        return "新出现" if self.baseline == 0 else f"↑{self.ratio:.1f}倍"


@dataclass(frozen=True)
class EventSpread:
    """How one event spread: first report, posts per hour, reposts by media level, engagement."""

    id: int
    title: str
    url: str
    posts: int
    sources: int
    first_source: str
    first_level: str
    first_time: str
    hours: list[tuple[str, int]]
    peak: str
    reposts_by_level: list[tuple[str, int]]
    likes: int | None
    comments: int | None
    reposts: int | None
    views: int | None

    @property
    def engagement_text(self) -> str:
        """``点赞120，评论35，转发8，阅读1.2万`` (what is stored), or a plain statement that nothing is."""
        parts = [
            f"{label}{number_text(value)}"
            for label, value in (
                ("点赞", self.likes),
                ("评论", self.comments),
                ("转发", self.reposts),
                ("阅读", self.views),
            )
            if value is not None
        ]
        return "，".join(parts) if parts else "信息源未提供互动数据"

    @property
    def hours_text(self) -> str:
        return "，".join(f"{label} {n}篇" for label, n in self.hours)

    @property
    def levels_text(self) -> str:
        return "，".join(f"{level}{n}篇" for level, n in self.reposts_by_level) or "无"


@dataclass
class Analyses:
    """Every analysis of one period and scope, ready to render."""

    relevant: int
    sentiment: list[Share]
    media_types: list[Share]
    media_levels: list[Share]
    regions: list[Region]
    hot_terms: list[HotTerm]
    hot_note: str
    events: list[EventSpread] = field(default_factory=list)

    @property
    def sentiment_text(self) -> str:
        return shares_text(self.sentiment)

    @property
    def media_types_text(self) -> str:
        return shares_text(self.media_types)

    @property
    def media_levels_text(self) -> str:
        return shares_text(self.media_levels)

    @property
    def regions_text(self) -> str:
        return "；".join(
            f"{r.share.label}{r.share.count}篇"
            + (f"（{'、'.join(f'{c.label}{c.count}篇' for c in r.cities)}）" if r.cities else "")
            for r in self.regions
        )

    @property
    def hot_text(self) -> str:
        return "、".join(f"{t.word}（{t.count}篇，{t.trend}）" for t in self.hot_terms)


def number_text(value: int) -> str:
    """``8``, ``1.2万``, ``3.4亿``: counts as Chinese reports write them."""
    if value >= 100_000_000:
        return f"{value / 100_000_000:.1f}亿"
    return f"{value / 10_000:.1f}万" if value >= 10_000 else str(value)


def shares_text(shares: Sequence[Share]) -> str:
    return "，".join(f"{s.label}{s.count}篇（{s.percent_text}）" for s in shares) or "本期无相关信息"


def shares(counts: Mapping[str, int], order: Sequence[str] = ()) -> list[Share]:
    """Counts as shares of their total, in ``order`` first, then the rest by count; zeros left out."""
    total = sum(counts.values())
    rank = {label: i for i, label in enumerate(order)}
    labels = sorted((k for k, v in counts.items() if v), key=lambda k: (rank.get(k, len(rank)), -counts[k], k))
    return [Share(k, counts[k], round(100 * counts[k] / total, 1)) for k in labels] if total else []


def sentiment_shares(negative: int, neutral: int, positive: int) -> list[Share]:
    """Always the three rows, in the reports' order (负面, 中性, 正面)."""
    total = negative + neutral + positive
    return [
        Share(label, n, round(100 * n / total, 1) if total else 0.0)
        for label, n in (("负面", negative), ("中性", neutral), ("正面", positive))
    ]


def by_source_attribute(
    per_source: Mapping[str, int], sources: Mapping[str, Source], attribute: str, unknown: str
) -> dict[str, int]:
    """Posts per value of a source attribute (``media_type``, ``media_level``)."""
    out: Counter[str] = Counter()
    for source_id, n in per_source.items():
        source = sources.get(source_id)
        out[(getattr(source, attribute) if source else None) or unknown] += n
    return dict(out)


def stored_places(text: str) -> list[Place]:
    """The places stored on an analysis (JSON text), tolerant of anything else."""
    try:
        values = json.loads(text)
    except ValueError:
        return []
    return [Place.parse(v) for v in values if isinstance(v, str) and v] if isinstance(values, list) else []


def regions(rows: Sequence[tuple[str, str, int]], source_places: Mapping[str, Place | None]) -> list[Region]:
    """地域分布: a post counts for each province it names (and each named city within it); a post
    naming none counts for its source's configured region, or as 未识别."""
    provinces: Counter[str] = Counter()
    cities: dict[str, Counter[str]] = {}
    for source_id, text, n in rows:
        places = stored_places(text)
        if not places and (own := source_places.get(source_id)) is not None:
            places = [own]
        if not places:
            provinces[UNPLACED] += n
            continue
        for province in {p.province for p in places}:
            provinces[province] += n
        for city in {(p.province, p.city) for p in places if p.city}:
            cities.setdefault(city[0], Counter())[city[1]] += n
    out = []
    for share in shares(provinces):
        if share.label == UNPLACED:
            continue
        out.append(Region(share, shares(cities.get(share.label, Counter()))[:5]))
    return out + [Region(s, []) for s in shares(provinces) if s.label == UNPLACED]


def rising_terms(
    current: Mapping[str, int],
    n_current: int,
    baseline: Mapping[str, int],
    n_baseline: int,
    *,
    min_count: int = HOT_MIN_COUNT,
    min_ratio: float = HOT_MIN_RATIO,
    limit: int = HOT_TERMS,
) -> list[HotTerm]:
    """Terms whose share of posts rose against the baseline: the ratio of the smoothed rates
    (count + 0.5) / (posts + 1) of the period and of the baseline, at least ``min_ratio``, for
    terms named in at least ``min_count`` posts of the period; highest ratio first."""
    out = []
    for word, count in current.items():
        if count < min_count:
            continue
        base = baseline.get(word, 0)
        ratio = ((count + 0.5) / (n_current + 1)) / ((base + 0.5) / (n_baseline + 1))
        if ratio >= min_ratio:
            out.append(HotTerm(word, count, base, ratio))
    out.sort(key=lambda t: (-math.log(t.ratio) * math.log1p(t.count), -t.count, t.word))
    return out[:limit]


def frequent_terms(current: Mapping[str, int], limit: int = HOT_TERMS, min_count: int = HOT_MIN_COUNT) -> list[HotTerm]:
    """The most frequent terms, when there is no baseline to rise against."""
    ranked = sorted(((w, n) for w, n in current.items() if n >= min_count), key=lambda wn: (-wn[1], wn[0]))
    return [HotTerm(w, n, 0, 0.0) for w, n in ranked[:limit]]


def hour_buckets(times: Sequence[datetime], tz: tzinfo, limit: int = 24) -> list[tuple[str, int]]:
    """Posts per local hour (``11-26 21时``), hours with posts only, the latest ``limit``."""
    counts = Counter(t.astimezone(tz).replace(minute=0, second=0, microsecond=0) for t in times)
    return [(f"{h:%m-%d %H}时", counts[h]) for h in sorted(counts)[-limit:]]


def _sum(values: Sequence[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def event_spread(
    event: q.EventSummary,
    posts: Sequence[q.EventPost],
    sources: Mapping[str, Source],
    tz: tzinfo,
    now: datetime,
    mask: Mask = no_mask,
) -> EventSpread:
    """One event's spread from its posts (earliest first); the first post is the 首发."""
    first = posts[0] if posts else None
    first_source = sources.get(first.source_id) if first else None
    levels: Counter[str] = Counter()
    for post in posts[1:]:
        source = sources.get(post.source_id)
        levels[(source.media_level if source else None) or UNKNOWN_LEVEL] += 1
    order = [*MEDIA_LEVELS, UNKNOWN_LEVEL]
    hours = hour_buckets([p.time for p in posts], tz)
    return EventSpread(
        id=event.id,
        title=mask(clean(event.title))[:200],
        url=mask(clean_url(event.url)),
        posts=len(posts) or event.post_count,
        sources=len({p.source_id for p in posts}) or event.source_count,
        first_source=(first_source.name if first_source else first.source_id) if first else "",
        first_level=(first_source.media_level if first_source else UNKNOWN_LEVEL) if first else "",
        first_time=local_time(first.time, tz, now) if first else "",
        hours=hours,
        peak=max(hours, key=lambda h: h[1])[0] if hours else "",
        reposts_by_level=sorted(levels.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99),
        likes=_sum([p.likes for p in posts]),
        comments=_sum([p.comments for p in posts]),
        reposts=_sum([p.reposts for p in posts]),
        views=_sum([p.views for p in posts]),
    )


def hot_terms(
    session: Session, start: datetime, end: datetime, scope: q.Scope, n_current: int, mask: Mask
) -> tuple[list[HotTerm], str]:
    """The period's rising terms against the ``BASELINE_DAYS`` before it, with a note on the method."""
    current = q.word_counts(session, start, end, scope, min_count=HOT_MIN_COUNT, limit=HOT_CANDIDATES)
    base_start = start - timedelta(days=BASELINE_DAYS)
    n_baseline = q.counts(session, base_start, start, scope, 99).relevant
    if n_baseline < HOT_MIN_BASELINE:
        terms = frequent_terms(current)
        note = f"近{BASELINE_DAYS}日相关信息不足{HOT_MIN_BASELINE}篇，暂列本期高频词。"
    else:
        baseline = q.word_counts(session, base_start, start, scope, words=list(current))
        terms = rising_terms(current, n_current, baseline, n_baseline)
        note = f"与前{BASELINE_DAYS}日（相关信息{n_baseline}篇）相比提及比例上升{HOT_MIN_RATIO:g}倍以上的词。"
    return [HotTerm(mask(t.word), t.count, t.baseline, t.ratio) for t in terms], note


def build_analyses(
    session: Session,
    sources: Sequence[Source],
    scope: q.Scope,
    start: datetime,
    end: datetime,
    events: Sequence[q.EventSummary],
    tz: tzinfo,
    now: datetime,
    *,
    gazetteer: Gazetteer | None = None,
    mask: Mask = no_mask,
) -> Analyses:
    """The analyses of the relevant posts of [start, end) in ``scope``; spread and 热度 of the first
    ``TOP_EVENTS`` of ``events``. Without a gazetteer, sources' regions are not resolved (posts
    naming no place then count as 未识别)."""
    by_id = {s.id: s for s in sources}
    negative, neutral, positive = q.sentiment_counts(session, start, end, scope, POSITIVE_MAX)
    relevant = negative + neutral + positive
    per_source = q.relevant_by_source(session, start, end, scope)
    source_places = {s.id: place_of_region(gazetteer, s.region) if gazetteer is not None else None for s in sources}
    top = list(events)[:TOP_EVENTS]
    posts = q.event_posts(session, [e.id for e in top], end, scope.max_age)
    terms, note = hot_terms(session, start, end, scope, relevant, mask)
    return Analyses(
        relevant=relevant,
        sentiment=sentiment_shares(negative, neutral, positive),
        media_types=shares(by_source_attribute(per_source, by_id, "media_type", "其他"), MEDIA_TYPES),
        media_levels=shares(
            by_source_attribute(per_source, by_id, "media_level", UNKNOWN_LEVEL), [*MEDIA_LEVELS, UNKNOWN_LEVEL]
        ),
        regions=regions(q.places_by_source(session, start, end, scope), source_places),
        hot_terms=terms,
        hot_note=note,
        events=[event_spread(e, [p for p in posts if p.event_id == e.id], by_id, tz, now, mask) for e in top],
    )
