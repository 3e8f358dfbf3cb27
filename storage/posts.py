"""Finding stored posts: list with filters, search by a phrase, one post in full (topics, analysis,
event, labels). Used by ``yuqing posts`` and meant for the web console too; values out, no ORM rows.

``phrase`` is a plain case-insensitive LIKE on title and text (wildcards taken literally); ``words``
searches the full-text index (``storage.search``: the words as the analysis segmented them).
``source_ids``/``topic_ids`` are a unit's scope (``alerts.queries.Scope``), ANDed with the other filters;
``among_sources`` is a filter by sources too (the console's media type, media level and region filters,
resolved to source ids from the config), ANDed with the scope. ``handling`` is the status of the post's
event (``storage.handling``; an event never touched is 待研判) or ``NO_EVENT`` for posts with no event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from storage.handling import PENDING
from storage.models import AnalysisRow, EventRow, HandlingRow, LabelRow, PostRow, PostTopicRow
from storage.search import matches

Sort = Literal["newest", "risk"]
NO_EVENT = "none"
"""``PostQuery.handling`` for posts that belong to no event."""
POST_TIME = func.coalesce(PostRow.published_at, PostRow.fetched_at)
"""A post's time: when it was published, when known, else when it was collected."""


@dataclass(frozen=True)
class PostQuery:
    """Filters of a listing; ``None`` means any. ``relevant_only`` leaves out posts no topic kept."""

    phrase: str | None = None
    topic: str | None = None
    risk_level: int | None = None
    min_risk: int | None = None
    negative: bool | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    relevant_only: bool = True
    sort: Sort = "newest"
    limit: int = 50
    words: tuple[str, ...] = ()
    source_ids: frozenset[str] | None = None
    topic_ids: frozenset[str] | None = None
    post_id: int | None = None
    offset: int = 0
    among_sources: frozenset[str] | None = None
    handling: str | None = None


@dataclass
class PostSummary:
    """One post in a listing (its analysis fields are None before its first analysis)."""

    id: int
    source_id: str
    title: str
    url: str
    published_at: datetime | None
    fetched_at: datetime
    relevant: bool | None
    negative: bool | None
    negative_score: float | None
    risk_level: int | None
    risk_score: float | None
    event_id: int | None
    topics: list[str] = field(default_factory=list)

    @property
    def time(self) -> datetime:
        return self.published_at or self.fetched_at


@dataclass(frozen=True)
class TopicHit:
    topic: str
    terms: list[str]
    relevance: float


@dataclass(frozen=True)
class EventInfo:
    id: int
    title: str
    post_count: int
    source_count: int
    risk_level: int
    risk_score: float


@dataclass(frozen=True)
class LabelInfo:
    id: int
    topic: str | None
    relevant: bool | None
    negative: bool | None
    by: str
    created_at: datetime


@dataclass
class PostDetail:
    """One post in full: what ``yuqing posts show`` prints."""

    post: PostSummary
    text: str
    author: str | None
    analyzed_at: datetime | None
    reasons: list[Any]
    hits: list[TopicHit]
    event: EventInfo | None
    labels: list[LabelInfo]


COLUMNS = (
    PostRow.id,
    PostRow.source_id,
    PostRow.title,
    PostRow.url,
    PostRow.published_at,
    PostRow.fetched_at,
    AnalysisRow.relevant,
    AnalysisRow.negative,
    AnalysisRow.negative_score,
    AnalysisRow.risk_level,
    AnalysisRow.risk_score,
    AnalysisRow.event_id,
    AnalysisRow.topics,
)


def _summary(row: Any) -> PostSummary:
    names = [t.get("topic", "") for t in row.topics or [] if isinstance(t, dict)]
    (pid, source, title, url, published, fetched, relevant, negative, score, level, risk, event, _) = row
    return PostSummary(
        pid, source, title, url, published, fetched, relevant, negative, score, level, risk, event, names
    )


def _filtered(session: Session, query: PostQuery) -> Select[Any]:
    stmt = select(*COLUMNS).outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id)
    if query.post_id is not None:
        stmt = stmt.where(PostRow.id == query.post_id)
    if query.words:
        stmt = stmt.where(matches(session, query.words))
    if query.source_ids is not None:
        stmt = stmt.where(PostRow.source_id.in_(sorted(query.source_ids)))
    if query.topic_ids is not None:
        stmt = stmt.where(
            select(PostTopicRow.post_id)
            .where(PostTopicRow.post_id == PostRow.id, PostTopicRow.topic_id.in_(sorted(query.topic_ids)))
            .exists()
        )
    if query.phrase:
        stmt = stmt.where(
            or_(
                PostRow.title.icontains(query.phrase, autoescape=True),
                PostRow.text.icontains(query.phrase, autoescape=True),
            )
        )
    if query.topic is not None:
        stmt = stmt.where(
            select(PostTopicRow.post_id)
            .where(PostTopicRow.post_id == PostRow.id, PostTopicRow.topic_id == query.topic)
            .exists()
        )
    if query.relevant_only:
        stmt = stmt.where(AnalysisRow.relevant.is_(True))
    if query.risk_level is not None:
        stmt = stmt.where(AnalysisRow.risk_level == query.risk_level)
    if query.min_risk is not None:
        stmt = stmt.where(AnalysisRow.risk_level >= query.min_risk)
    if query.negative is not None:
        stmt = stmt.where(AnalysisRow.negative.is_(query.negative))
    if query.source is not None:
        stmt = stmt.where(PostRow.source_id == query.source)
    if query.among_sources is not None:
        stmt = stmt.where(PostRow.source_id.in_(sorted(query.among_sources)))
    if query.handling is not None:
        stmt = stmt.where(_handling(query.handling))
    if query.since is not None:
        stmt = stmt.where(POST_TIME >= query.since)
    if query.until is not None:
        stmt = stmt.where(POST_TIME < query.until)
    return stmt


def _handling(status: str) -> ColumnElement[bool]:
    """Posts whose event stands at ``status`` (by the indexed ``event_handling.status``)."""
    if status == NO_EVENT:
        return AnalysisRow.event_id.is_(None)
    if status == PENDING:  # an event no one has touched has no handling row
        moved = select(HandlingRow.event_id).where(HandlingRow.status != PENDING)
        return and_(AnalysisRow.event_id.is_not(None), AnalysisRow.event_id.not_in(moved))
    return AnalysisRow.event_id.in_(select(HandlingRow.event_id).where(HandlingRow.status == status))


def count_posts(session: Session, query: PostQuery) -> int:
    """How many posts match ``query`` (its ``limit`` and ``offset`` aside): a listing's total."""
    found = _filtered(session, query).with_only_columns(PostRow.id).subquery()
    return int(session.scalar(select(func.count()).select_from(found)) or 0)


def find_posts(session: Session, query: PostQuery) -> list[PostSummary]:
    """Posts matching ``query``, newest first or riskiest first (ties: newest, then highest id)."""
    order: list[Any] = [POST_TIME.desc(), PostRow.id.desc()]
    if query.sort == "risk":
        order = [
            func.coalesce(AnalysisRow.risk_score, 0.0).desc(),
            func.coalesce(AnalysisRow.negative_score, 0.0).desc(),
            *order,
        ]
    stmt = _filtered(session, query).order_by(*order).limit(query.limit).offset(query.offset)
    return [_summary(row) for row in session.execute(stmt)]


def post_detail(session: Session, post_id: int) -> PostDetail | None:
    """One post with its analysis, matched topics and terms, event and labels (None: no such post)."""
    post = session.get(PostRow, post_id)
    if post is None:
        return None
    stmt = select(*COLUMNS).outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id).where(PostRow.id == post_id)
    summary = _summary(session.execute(stmt).one())
    analysis = session.get(AnalysisRow, post_id)
    relevance = dict(
        session.execute(
            select(PostTopicRow.topic_id, PostTopicRow.relevance).where(PostTopicRow.post_id == post_id)
        ).all()
    )
    hits = [
        TopicHit(t.get("topic", ""), _terms(t), float(relevance.get(t.get("topic", ""), 1.0)))
        for t in (analysis.topics if analysis else []) or []
        if isinstance(t, dict)
    ]
    return PostDetail(
        summary,
        post.text or "",
        post.author,
        analysis.analyzed_at if analysis else None,
        list(analysis.reasons or []) if analysis else [],
        hits,
        _event(session, summary.event_id),
        _labels(session, post_id),
    )


def _terms(topic: dict[str, Any]) -> list[str]:
    words: dict[str, None] = {}
    for term in topic.get("terms") or []:
        if isinstance(term, dict) and term.get("term"):
            words[str(term["term"])] = None
    return list(words)


def _event(session: Session, event_id: int | None) -> EventInfo | None:
    event = session.get(EventRow, event_id) if event_id is not None else None
    if event is None:
        return None
    return EventInfo(event.id, event.title, event.post_count, event.source_count, event.risk_level, event.risk_score)


def _labels(session: Session, post_id: int) -> list[LabelInfo]:
    stmt = select(LabelRow).where(LabelRow.post_id == post_id).order_by(LabelRow.created_at, LabelRow.id)
    return [
        LabelInfo(r.id, r.topic_id, r.relevant, r.negative, r.labelled_by, r.created_at) for r in session.scalars(stmt)
    ]
