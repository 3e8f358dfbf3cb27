"""The full-text index of posts: their words as the analysis segmented them (jieba), kept in a SQLite
FTS5 table (``post_fts``, rowid = post id) or a PostgreSQL ``tsvector`` column (``post_search``) on
the same space-separated words. Both are made by migration 0004; a search is the AND of its words.

Segmenting is the analysis's business (``nlp``): this module stores and matches words, nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, column, exists, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from storage.models import PostRow

FTS = table("post_fts", column("rowid"), column("words"))
PG = table("post_search", column("post_id"), column("words"), column("doc"))


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def index_words(session: Session, entries: Iterable[tuple[int, Sequence[str]]]) -> None:
    """Store (post id, words) in the index, replacing what it held for those posts."""
    rows = [{"id": pid, "words": " ".join(w.replace('"', "") for w in words)} for pid, words in entries]
    if not rows:
        return
    if _sqlite(session):
        session.execute(text("DELETE FROM post_fts WHERE rowid = :id"), rows)
        session.execute(text("INSERT INTO post_fts (rowid, words) VALUES (:id, :words)"), rows)
    else:
        session.execute(
            text(
                "INSERT INTO post_search (post_id, words) VALUES (:id, :words) "
                "ON CONFLICT (post_id) DO UPDATE SET words = EXCLUDED.words"
            ),
            rows,
        )


def forget(session: Session, post_ids: Sequence[int]) -> None:
    """Drop posts from the index (PostgreSQL drops them with the post; FTS5 has no foreign keys)."""
    if post_ids and _sqlite(session):
        session.execute(text("DELETE FROM post_fts WHERE rowid = :id"), [{"id": pid} for pid in post_ids])


def fts5_query(words: Sequence[str]) -> str:
    """An FTS5 query matching every word (each quoted, so none is read as an operator)."""
    return " ".join('"' + w.replace('"', "") + '"' for w in words if w.replace('"', ""))


def matches(session: Session, words: Sequence[str]) -> ColumnElement[bool]:
    """A condition on ``PostRow``: the post's indexed words include every one of ``words``."""
    words = [w for w in words if w.replace('"', "").strip()]
    if not words:
        return literal_column("1") == literal_column("1")
    if _sqlite(session):
        hits = select(FTS.c.rowid).where(literal_column("post_fts").op("MATCH")(fts5_query(words)))
        # ``id + 0``: SQLite then reads the matches once into a set and walks the posts newest first
        # (ix_posts_time) until the page is full; on ``id`` itself it fetched every match by id and
        # sorted them all (0.7 s for a common word over 1M posts, bench/web_1m.py)
        return (PostRow.id + literal_column("0")).in_(hits)
    query = func.plainto_tsquery(literal_column("'simple'"), " ".join(words))
    return exists().where(PG.c.post_id == PostRow.id, PG.c.doc.op("@@")(query))


def unindexed(session: Session, after_id: int, limit: int) -> list[int]:
    """Ids of posts (above ``after_id``) the index does not hold yet, in id order (``yuqing posts reindex``)."""
    if _sqlite(session):
        held = select(FTS.c.rowid).where(FTS.c.rowid == PostRow.id)
    else:
        held = select(PG.c.post_id).where(PG.c.post_id == PostRow.id)
    stmt = select(PostRow.id).where(PostRow.id > after_id, ~held.exists()).order_by(PostRow.id).limit(limit)
    return list(session.scalars(stmt))
