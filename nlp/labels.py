"""Analysts' labels in the database: recording them and reading them back as training data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nlp.relevance import TopicLabel
from nlp.rules import RuleSet
from storage.models import LabelRow, PostRow
from yuqing.base.errors import YuqingError

Document = Callable[[str, str], str]
"""Builds a model document from a post's title and text (``Analyzer.document`` after normalising)."""


def record_label(
    session: Session,
    post_id: int,
    *,
    topic: str | None,
    relevant: bool | None,
    negative: bool | None,
    by: str,
    now: datetime,
    known_topics: set[str],
) -> int:
    """Store one label; raises YuqingError for an unknown post or topic or an empty label."""
    if relevant is None and negative is None:
        raise YuqingError("nothing to record", "give --relevant/--irrelevant and/or --negative/--not-negative")
    if session.get(PostRow, post_id) is None:
        raise YuqingError(f"no post with id {post_id}", "find ids in the digest or with `yuqing classify`")
    if topic is not None and topic not in known_topics:
        raise YuqingError(f'unknown topic "{topic}"', f"topics: {', '.join(sorted(known_topics))}")
    row = LabelRow(
        post_id=post_id, topic_id=topic, relevant=relevant, negative=negative, labelled_by=by, created_at=now
    )
    session.add(row)
    session.flush()
    return row.id


def _latest(session: Session, column: Any) -> list[tuple[LabelRow, PostRow]]:
    """Labels with ``column`` set, newest last, joined with their posts."""
    stmt = (
        select(LabelRow, PostRow)
        .join(PostRow, PostRow.id == LabelRow.post_id)
        .where(column.is_not(None))
        .order_by(LabelRow.created_at, LabelRow.id)
    )
    return [(label, post) for label, post in session.execute(stmt).all()]


def sentiment_labels(session: Session, document: Document) -> tuple[list[str], list[int]]:
    """(documents, 1 = negative) from analysts' negative/not-negative labels; the latest per post wins."""
    latest: dict[int, tuple[str, int]] = {}
    for label, post in _latest(session, LabelRow.negative):
        latest[post.id] = (document(post.title, post.text), int(bool(label.negative)))
    docs = [d for d, _ in latest.values()]
    return docs, [y for _, y in latest.values()]


def topic_labels(
    session: Session, document: Document, rules: RuleSet, normalize: Callable[[str], str]
) -> list[TopicLabel]:
    """Relevance labels per (post, topic); a label without a topic applies to every topic its post
    matches by rules. The latest label per (post, topic) wins."""
    latest: dict[tuple[int, str], TopicLabel] = {}
    for label, post in _latest(session, LabelRow.relevant):
        doc = document(post.title, post.text)
        if label.topic_id:
            topics = [label.topic_id]
        else:
            topics = [m.topic for m in rules.match(normalize(post.title), normalize(post.text))]
        for topic in topics:
            latest[(post.id, topic)] = TopicLabel(topic, doc, bool(label.relevant))
    return list(latest.values())
