"""Storage access shared by the stages, in terms of ``Post`` (no ORM classes leak out)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import PostRow
from storage.sql import insert_ignore
from yuqing.base.post import Post, url_hash
from yuqing.base.text import strip_controls_deep

POST_FIELDS = (
    "source_id",
    "url",
    "canonical_url",
    "title",
    "text",
    "author",
    "published_at",
    "fetched_at",
    "language",
    "views",
    "likes",
    "reposts",
    "comments",
    "extras",
)


def post_values(post: Post) -> dict[str, Any]:
    """The column values of a post's row."""
    # Crawled strings are stored without control characters and bidi overrides (NUL, which
    # PostgreSQL refuses, among them): no later output — HTML, text, chat, Word, a mail header —
    # has to remember a \x01 in a URL or a U+202E in a title.
    values = {name: strip_controls_deep(getattr(post, name)) for name in POST_FIELDS}
    values["url_hash"] = url_hash(values["canonical_url"])
    return values


def to_post(row: PostRow) -> Post:
    """A stored row back to the shared value type."""
    return Post(**{name: getattr(row, name) for name in POST_FIELDS})


def insert_post(session: Session, post: Post) -> int | None:
    """Store ``post`` unless its canonical URL is stored already (also when two writers race).
    Returns the new row id, or ``None`` for a duplicate. The caller commits."""
    stmt = (
        insert_ignore(session.get_bind().dialect.name, PostRow, ["url_hash"])
        .values(**post_values(post))
        .returning(PostRow.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def insert_posts(session: Session, posts: Iterable[Post]) -> list[int | None]:
    """``insert_post`` for each post, in order."""
    return [insert_post(session, post) for post in posts]


def known_hashes(session: Session, hashes: Sequence[str]) -> set[str]:
    """Which of these URL hashes are stored already (for incremental crawling)."""
    if not hashes:
        return set()
    return set(session.scalars(select(PostRow.url_hash).where(PostRow.url_hash.in_(list(hashes)))))


def get_post(session: Session, post_id: int) -> Post | None:
    row = session.get(PostRow, post_id)
    return to_post(row) if row else None
