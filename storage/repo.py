"""Storage access shared by the stages, in terms of ``Post`` (no ORM classes leak out)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import PostRow
from storage.sql import insert_ignore
from yuqing.base.post import Post

POST_FIELDS = ("source_id", "url", "canonical_url", "title", "text", "author", "published_at",
               "fetched_at", "language", "views", "likes", "reposts", "comments", "extras")


def without_nul(value: Any) -> Any:
    """Crawled text may hold NUL characters, which PostgreSQL refuses in text: drop them."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def post_values(post: Post) -> dict[str, Any]:
    """The column values of a post's row."""
    values = {name: without_nul(getattr(post, name)) for name in POST_FIELDS}
    values["url_hash"] = post.key
    return values


def to_post(row: PostRow) -> Post:
    """A stored row back to the shared value type."""
    return Post(**{name: getattr(row, name) for name in POST_FIELDS})


def insert_post(session: Session, post: Post) -> int | None:
    """Store ``post`` unless its canonical URL is stored already (also when two writers race).
    Returns the new row id, or ``None`` for a duplicate. The caller commits."""
    stmt = insert_ignore(session.get_bind().dialect.name, PostRow, ["url_hash"]).values(**post_values(post)).returning(PostRow.id)
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
