"""Analysts' labels in the database: recording them and reading them back as training data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nlp.corrections import Correction
from nlp.relevance import TopicLabel
from nlp.rules import RuleSet
from storage.audit import current_user, record
from storage.models import AnalysisRow, LabelRow, PostRow, PostTopicRow
from yuqing.base.errors import YuqingError

DUE = ""
"""The rules version of an analysis due again whatever its age (its post was labelled since): it never
equals a real version, so the next analysis run picks the post up."""

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
    matched_topics: Sequence[str] | None = None,
) -> int:
    """Store one label; raises YuqingError for an unknown post or topic, a topic the post does not
    match (``matched_topics``: what the rules match in it; None skips the check) or an empty label.
    The post is due for re-analysis from now on (its labels are newer than its analysis); the label
    is written to the audit log with who gave it (``by``, else the OS user)."""
    if relevant is None and negative is None:
        raise YuqingError("nothing to record", "give --relevant/--irrelevant and/or --negative/--not-negative")
    if session.get(PostRow, post_id) is None:
        raise YuqingError(f"no post with id {post_id}", "find ids in the digest or with `yuqing posts search PHRASE`")
    if topic is not None and topic not in known_topics:
        raise YuqingError(f'unknown topic "{topic}"', f"topics: {', '.join(sorted(known_topics))}")
    if topic is not None and matched_topics is not None and topic not in matched_topics:
        found = ", ".join(matched_topics) if matched_topics else "none"
        raise YuqingError(
            f'post {post_id} does not match topic "{topic}"',
            f"it matches: {found}; see them with `yuqing posts show {post_id}`",
        )
    row = LabelRow(
        post_id=post_id, topic_id=topic, relevant=relevant, negative=negative, labelled_by=by, created_at=now
    )
    session.add(row)
    session.execute(update(AnalysisRow).where(AnalysisRow.post_id == post_id).values(rules_version=DUE))
    session.flush()
    detail = {"label": row.id, "topic": topic, "relevant": relevant, "negative": negative}
    record(session, actor=by or current_user(), action="post.label", target=f"post:{post_id}", detail=detail, now=now)
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


def matched_topics(
    session: Session, rules: RuleSet, normalize: Callable[[str], str], post_id: int, title: str, text: str
) -> list[str]:
    """The topics a label may name: those the post's analysis kept, then those the rules match in it
    (a label may restore a topic learned relevance dropped). ``yuqing label`` and the console."""
    found = [m.topic for m in rules.match(normalize(title or ""), normalize(text or ""))]
    kept = post_topics(session, post_id)
    return [*kept, *(t for t in found if t not in kept)]


def post_topics(session: Session, post_id: int) -> list[str]:
    """The topics the post's latest analysis kept (empty before its first analysis)."""
    stmt = select(PostTopicRow.topic_id).where(PostTopicRow.post_id == post_id).order_by(PostTopicRow.topic_id)
    return list(session.scalars(stmt))


def corrections(session: Session, post_ids: Sequence[int]) -> dict[int, Correction]:
    """Each of these posts' labels, oldest first, as one ``Correction`` per labelled post."""
    if not post_ids:
        return {}
    stmt = (
        select(LabelRow).where(LabelRow.post_id.in_(sorted(set(post_ids)))).order_by(LabelRow.created_at, LabelRow.id)
    )
    out: dict[int, Correction] = {}
    for row in session.scalars(stmt):
        out.setdefault(row.post_id, Correction()).add(row.topic_id, row.relevant, row.negative)
    return out
