"""Database queries behind the digest and alerts. They return plain values (no ORM objects) and
filter by a ``Scope``: the sources and topics one recipient group is responsible for, and what counts
as news (``storage.freshness``: backlog posts are never counted, listed or alerted on as news).

A digest window holds the posts whose post time (published, else collected) falls in it; surges
and source health count what was collected in theirs (what just arrived)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, and_, case, cast, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from storage.freshness import is_backlog, is_news, post_time, post_time_in
from storage.handling import PENDING
from storage.models import AnalysisRow, EventRow, HandlingRow, PostRow, PostTopicRow, PostWordRow


@dataclass(frozen=True)
class Scope:
    """What one group sees: ``None`` means every source / every topic. ``max_age`` is the freshness
    setting (``freshness.max_age``): posts published longer before their collection are backlog."""

    max_age: timedelta
    source_ids: frozenset[str] | None = None
    topic_ids: frozenset[str] | None = None


@dataclass(frozen=True)
class Counts:
    """Posts collected in a window and how many of them were relevant, negative, high-risk."""

    collected: int = 0
    relevant: int = 0
    negative: int = 0
    high_risk: int = 0


@dataclass
class Item:
    """One analysed post as the digest and alerts show it."""

    id: int
    source_id: str
    title: str
    url: str
    published_at: datetime | None
    fetched_at: datetime
    negative: bool
    negative_score: float
    risk_level: int
    risk_score: float
    event_id: int | None
    topics: list[Any] = field(default_factory=list)
    reasons: list[Any] = field(default_factory=list)
    text: str = ""
    event_posts: int = 0
    event_sources: int = 0

    @property
    def time(self) -> datetime:
        return self.published_at or self.fetched_at


@dataclass(frozen=True)
class EventSummary:
    """A group of near-duplicate posts (reposts) with its counts."""

    id: int
    title: str
    post_count: int
    source_count: int
    first_seen: datetime
    last_seen: datetime
    risk_level: int
    url: str
    source_id: str
    status: str = PENDING  # where its handling stands (``storage.handling``)
    unit: str | None = None  # the unit (recipient group id) it was handed to


@dataclass(frozen=True)
class EventQuery:
    """Which events to list (the digest's 热点事件, the console's event list): those with a relevant
    news post of the scope, in ``[start, end)`` by post time when given (and of ``topic``); ``unit``
    adds the events handed to that unit even outside the scope (a unit sees what it must handle)."""

    scope: Scope
    start: datetime | None = None
    end: datetime | None = None
    topic: str | None = None
    status: str | None = None
    handed_to: str | None = None
    min_risk: int | None = None
    min_posts: int = 1
    event_id: int | None = None
    unit: str | None = None
    sort: str = "risk"  # or "recent": the last post first
    limit: int = 50
    offset: int = 0


def _collected(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Every post collected in the window, backlog included (source health)."""
    return and_(PostRow.fetched_at >= start, PostRow.fetched_at < end)


def _in_window(start: datetime, end: datetime, scope: Scope, *, collected: bool = False) -> ColumnElement[bool]:
    """The news of the window, backlog left out: posts whose post time falls in it (a digest), or
    with ``collected``, posts collected in it (a surge)."""
    when = _collected(start, end) if collected else post_time_in(start, end)
    return and_(when, is_news(scope.max_age))


def scope_filters(scope: Scope, *, topics: bool = True) -> list[ColumnElement[bool]]:
    """A post is of the scope: one of its sources, and (with ``topics``) matching one of its topics."""
    filters: list[ColumnElement[bool]] = []
    if scope.source_ids is not None:
        filters.append(PostRow.source_id.in_(sorted(scope.source_ids)))
    if topics and scope.topic_ids is not None:
        filters.append(
            exists().where(PostTopicRow.post_id == PostRow.id, PostTopicRow.topic_id.in_(sorted(scope.topic_ids)))
        )
    return filters


def _relevant_in_scope(scope: Scope) -> ColumnElement[bool]:
    return and_(AnalysisRow.relevant.is_(True), *scope_filters(scope))


def counts(session: Session, start: datetime, end: datetime, scope: Scope, high_level: int) -> Counts:
    """Collected (every post of the scope's sources), relevant, negative and high-risk counts."""
    relevant = _relevant_in_scope(scope)
    negative = and_(relevant, AnalysisRow.negative.is_(True))
    stmt = (
        select(
            func.count(PostRow.id),
            func.coalesce(func.sum(case((relevant, 1), else_=0)), 0),
            func.coalesce(func.sum(case((negative, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(relevant, AnalysisRow.risk_level >= high_level), 1), else_=0)), 0),
        )
        .select_from(PostRow)
        .outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(_in_window(start, end, scope), *scope_filters(scope, topics=False))
    )
    row = session.execute(stmt).one()
    return Counts(*(int(v or 0) for v in row))


ITEM_COLUMNS = (
    PostRow.id,
    PostRow.source_id,
    PostRow.title,
    PostRow.url,
    PostRow.published_at,
    PostRow.fetched_at,
    AnalysisRow.negative,
    AnalysisRow.negative_score,
    AnalysisRow.risk_level,
    AnalysisRow.risk_score,
    AnalysisRow.event_id,
    AnalysisRow.topics,
    AnalysisRow.reasons,
)
RANKING = (
    AnalysisRow.risk_level.desc(),
    AnalysisRow.risk_score.desc(),
    AnalysisRow.negative_score.desc(),
    PostRow.id.desc(),
)


def _items(session: Session, stmt: Any) -> list[Item]:
    return [Item(*row) for row in session.execute(stmt)]


def negative_items(session: Session, start: datetime, end: datetime, scope: Scope, limit: int) -> list[Item]:
    """The scope's negative relevant posts of the window, highest risk first."""
    stmt = (
        select(*ITEM_COLUMNS)
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(_in_window(start, end, scope), _relevant_in_scope(scope), AnalysisRow.negative.is_(True))
        .order_by(*RANKING)
        .limit(limit)
    )
    return _items(session, stmt)


def topic_counts(session: Session, start: datetime, end: datetime, scope: Scope) -> dict[str, tuple[int, int]]:
    """Per topic: (relevant posts, negative posts) in the window."""
    stmt = (
        select(
            PostTopicRow.topic_id,
            func.count(),
            func.coalesce(func.sum(case((AnalysisRow.negative.is_(True), 1), else_=0)), 0),
        )
        .select_from(PostTopicRow)
        .join(PostRow, PostRow.id == PostTopicRow.post_id)
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(_in_window(start, end, scope), AnalysisRow.relevant.is_(True), *scope_filters(scope, topics=False))
        .group_by(PostTopicRow.topic_id)
    )
    if scope.topic_ids is not None:
        stmt = stmt.where(PostTopicRow.topic_id.in_(sorted(scope.topic_ids)))
    return {topic: (int(total), int(neg)) for topic, total, neg in session.execute(stmt)}


def topic_items(
    session: Session,
    start: datetime,
    end: datetime,
    scope: Scope,
    topic_id: str,
    limit: int,
    *,
    collected: bool = False,
) -> list[Item]:
    """The top posts of one topic in the window (by post time, or ``collected`` in it): negative
    and high-risk first."""
    stmt = (
        select(*ITEM_COLUMNS)
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .join(PostTopicRow, and_(PostTopicRow.post_id == PostRow.id, PostTopicRow.topic_id == topic_id))
        .where(
            _in_window(start, end, scope, collected=collected),
            AnalysisRow.relevant.is_(True),
            *scope_filters(scope, topics=False),
        )
        .order_by(AnalysisRow.negative.desc(), *RANKING)
        .limit(limit)
    )
    return _items(session, stmt)


def texts(session: Session, post_ids: Sequence[int]) -> dict[int, str]:
    """The full text of a few posts (for excerpts)."""
    if not post_ids:
        return {}
    rows = session.execute(select(PostRow.id, PostRow.text).where(PostRow.id.in_(sorted(set(post_ids)))))
    return {pid: text or "" for pid, text in rows}


def relevant_by_source(session: Session, start: datetime, end: datetime, scope: Scope) -> dict[str, int]:
    """Relevant posts of the window per source (for coverage by media level)."""
    stmt = (
        select(PostRow.source_id, func.count())
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(_in_window(start, end, scope), _relevant_in_scope(scope))
        .group_by(PostRow.source_id)
    )
    return {source: int(n) for source, n in session.execute(stmt)}


def collected_by_source(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Every post collected in the window, per source (for source health)."""
    stmt = select(PostRow.source_id, func.count()).where(_collected(start, end)).group_by(PostRow.source_id)
    return {source: int(n) for source, n in session.execute(stmt)}


def _touched(query: EventQuery) -> Any:
    """Ids of the events with a relevant news post of the query's scope (window, topic)."""
    scope = query.scope
    when = _in_window(query.start, query.end, scope) if query.start and query.end else is_news(scope.max_age)
    stmt = (
        select(AnalysisRow.event_id)
        .join(PostRow, PostRow.id == AnalysisRow.post_id)
        .where(when, _relevant_in_scope(scope), AnalysisRow.event_id.is_not(None))
    )
    if query.topic:
        stmt = stmt.where(exists().where(PostTopicRow.post_id == PostRow.id, PostTopicRow.topic_id == query.topic))
    return stmt


def find_events(session: Session, query: EventQuery) -> list[EventSummary]:
    """The events ``query`` selects, with where their handling stands; highest risk first (or the
    most recent first)."""
    visible: ColumnElement[bool] = EventRow.id.in_(_touched(query))
    if query.unit:
        visible = or_(visible, HandlingRow.unit == query.unit)
    stmt = _event_select().where(visible, EventRow.post_count >= query.min_posts)
    if query.status:
        stmt = stmt.where(func.coalesce(HandlingRow.status, PENDING) == query.status)
    if query.handed_to:
        stmt = stmt.where(HandlingRow.unit == query.handed_to)
    if query.min_risk is not None:
        stmt = stmt.where(EventRow.risk_level >= query.min_risk)
    if query.event_id is not None:
        stmt = stmt.where(EventRow.id == query.event_id)
    order = (
        (EventRow.last_seen.desc(), EventRow.id.desc())
        if query.sort == "recent"
        else (EventRow.risk_level.desc(), EventRow.post_count.desc(), EventRow.id)
    )
    return _event_summaries(session, stmt.order_by(*order).limit(query.limit).offset(query.offset))


def _event_select() -> Any:
    return (
        select(
            EventRow.id,
            EventRow.title,
            EventRow.post_count,
            EventRow.source_count,
            EventRow.first_seen,
            EventRow.last_seen,
            EventRow.risk_level,
            PostRow.url,
            PostRow.source_id,
            PostRow.title,
            HandlingRow.status,
            HandlingRow.unit,
        )
        .outerjoin(PostRow, PostRow.id == EventRow.representative_post_id)
        .outerjoin(HandlingRow, HandlingRow.event_id == EventRow.id)
    )


def _event_summaries(session: Session, stmt: Any) -> list[EventSummary]:
    return [
        EventSummary(eid, title or ptitle or "", pc, sc, fs, ls, rl, url or "", sid or "", status or PENDING, unit)
        for eid, title, pc, sc, fs, ls, rl, url, sid, ptitle, status, unit in session.execute(stmt)
    ]


def alert_candidates(session: Session, since: datetime, min_level: int, max_age: timedelta) -> list[Item]:
    """Relevant news collected since ``since`` at or above ``min_level`` (theirs or their event's)."""
    event_level = select(EventRow.risk_level).where(EventRow.id == AnalysisRow.event_id).scalar_subquery()
    stmt = (
        select(*ITEM_COLUMNS)
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(
            PostRow.fetched_at >= since,
            is_news(max_age),
            AnalysisRow.relevant.is_(True),
            or_(AnalysisRow.risk_level >= min_level, func.coalesce(event_level, 0) >= min_level),
        )
        .order_by(*RANKING)
    )
    return _items(session, stmt)


def event_rows(session: Session, event_ids: Sequence[int]) -> dict[int, EventSummary]:
    """Events by id (for immediate alerts)."""
    if not event_ids:
        return {}
    stmt = _event_select().where(EventRow.id.in_(sorted(set(event_ids))))
    return {event.id: event for event in _event_summaries(session, stmt)}


def negative_topic_count(session: Session, start: datetime, end: datetime, scope: Scope, topic_id: str) -> int:
    """Negative relevant news of one topic collected in a window (for surge detection)."""
    stmt = (
        select(func.count())
        .select_from(PostTopicRow)
        .join(PostRow, PostRow.id == PostTopicRow.post_id)
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(
            PostTopicRow.topic_id == topic_id,
            _in_window(start, end, scope, collected=True),
            AnalysisRow.relevant.is_(True),
            AnalysisRow.negative.is_(True),
            *scope_filters(scope, topics=False),
        )
    )
    return int(session.execute(stmt).scalar_one())


def backlog_count(session: Session, start: datetime, end: datetime, scope: Scope) -> int:
    """Backlog posts (补采历史信息) of the scope's sources collected in the window."""
    stmt = (
        select(func.count())
        .select_from(PostRow)
        .where(_collected(start, end), is_backlog(scope.max_age), *scope_filters(scope, topics=False))
    )
    return int(session.execute(stmt).scalar_one())


# --- the analyses of a report period (alerts.analyses) -------------------------------------------


def sentiment_counts(
    session: Session, start: datetime, end: datetime, scope: Scope, positive_max: float
) -> tuple[int, int, int]:
    """Relevant posts of the window: (negative, neutral, positive); positive = not negative and a
    negative score at most ``positive_max``."""
    positive = and_(AnalysisRow.negative.is_(False), AnalysisRow.negative_score <= positive_max)
    stmt = (
        select(
            func.coalesce(func.sum(case((AnalysisRow.negative.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(case((positive, 1), else_=0)), 0),
            func.count(),
        )
        .select_from(PostRow)
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(_in_window(start, end, scope), _relevant_in_scope(scope))
    )
    negative, positive_n, total = (int(v or 0) for v in session.execute(stmt).one())
    return negative, total - negative - positive_n, positive_n


def places_by_source(session: Session, start: datetime, end: datetime, scope: Scope) -> list[tuple[str, str, int]]:
    """Relevant posts of the window grouped by (source, stored places as JSON text): few rows for
    many posts, since most posts of a source name the same places or none."""
    places = cast(AnalysisRow.places, Text)
    stmt = (
        select(PostRow.source_id, places, func.count())
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(_in_window(start, end, scope), _relevant_in_scope(scope))
        .group_by(PostRow.source_id, places)
    )
    return [(source, text or "[]", int(n)) for source, text, n in session.execute(stmt)]


def word_counts(
    session: Session,
    start: datetime,
    end: datetime,
    scope: Scope,
    *,
    words: Sequence[str] | None = None,
    min_count: int = 1,
    limit: int | None = None,
) -> dict[str, int]:
    """Document frequency of the words of the window's relevant posts (``post_words``), the most
    frequent first; only ``words`` when given."""
    n = func.count()
    stmt = (
        select(PostWordRow.word, n)
        .join(PostRow, PostRow.id == PostWordRow.post_id)
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(_in_window(start, end, scope), _relevant_in_scope(scope))
        .group_by(PostWordRow.word)
        .having(n >= min_count)
        .order_by(n.desc(), PostWordRow.word)
    )
    if words is not None:
        if not words:
            return {}
        stmt = stmt.where(PostWordRow.word.in_(sorted(set(words))))
    if limit is not None:
        stmt = stmt.limit(limit)
    return {word: int(count) for word, count in session.execute(stmt)}


@dataclass(frozen=True)
class EventPost:
    """One post of an event, for its spread and 热度."""

    event_id: int
    post_id: int
    source_id: str
    time: datetime
    likes: int | None
    comments: int | None
    reposts: int | None
    views: int | None


def event_posts(
    session: Session, event_ids: Sequence[int], end: datetime, max_age: timedelta, scope: Scope | None = None
) -> list[EventPost]:
    """Every post of these events before ``end`` (news only; of ``scope``'s sources and topics when
    given), earliest first."""
    if not event_ids:
        return []
    stmt = (
        select(
            AnalysisRow.event_id,
            PostRow.id,
            PostRow.source_id,
            PostRow.published_at,
            PostRow.fetched_at,
            PostRow.likes,
            PostRow.comments,
            PostRow.reposts,
            PostRow.views,
        )
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(AnalysisRow.event_id.in_(sorted(set(event_ids))), PostRow.fetched_at < end, is_news(max_age))
        .where(*(scope_filters(scope) if scope else ()))
    )
    rows = [
        EventPost(eid or 0, pid, sid, published or fetched, likes, comments, reposts, views)
        for eid, pid, sid, published, fetched, likes, comments, reposts, views in session.execute(stmt)
    ]
    return sorted(rows, key=lambda p: (p.time, p.post_id))


def relevant_per_interval(session: Session, bounds: Sequence[datetime], scope: Scope) -> list[tuple[int, int]]:
    """(relevant, negative) news of the scope in each interval ``[bounds[i], bounds[i + 1])`` by post
    time, in one scan (a report's per-day series: one query, not one per day)."""
    when = post_time()
    bucket = case(*((when < bound, i) for i, bound in enumerate(bounds[1:])), else_=-1)
    stmt = (
        select(bucket, func.count(), func.coalesce(func.sum(case((AnalysisRow.negative.is_(True), 1), else_=0)), 0))
        .select_from(PostRow)
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(_in_window(bounds[0], bounds[-1], scope), _relevant_in_scope(scope))
        .group_by(bucket)
    )
    out = [(0, 0)] * (len(bounds) - 1)
    for index, relevant, negative in session.execute(stmt):
        if 0 <= index < len(out):
            out[index] = (int(relevant), int(negative))
    return out


# --- the console's dashboard (web/dashboard.py) ---------------------------------------------------


def risk_counts(session: Session, start: datetime, end: datetime, scope: Scope) -> dict[int, int]:
    """Relevant news of the window per risk level (0: not rated)."""
    level = func.coalesce(AnalysisRow.risk_level, 0)
    stmt = (
        select(level, func.count())
        .select_from(PostRow)
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(_in_window(start, end, scope), _relevant_in_scope(scope))
        .group_by(level)
    )
    return {int(lvl): int(n) for lvl, n in session.execute(stmt)}


def new_event_count(session: Session, start: datetime, end: datetime, scope: Scope) -> int:
    """Events as the digest lists them (merged reposts, at least two posts) first seen in the window
    with a relevant post of the scope in it."""
    stmt = select(func.count()).where(
        EventRow.id.in_(_touched(EventQuery(scope, start, end))),
        EventRow.post_count >= 2,
        EventRow.first_seen >= start,
        EventRow.first_seen < end,
    )
    return int(session.execute(stmt).scalar_one())
