"""The words of the full-text index (``storage.search`` stores and matches them): a post is indexed by
the words of its analysis document, a search phrase is cut the same way, and posts stored before the
index existed are indexed by ``reindex`` (``yuqing posts reindex``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from nlp.segment import Segmenter
from nlp.sentiment import doc_words, raw_post_doc
from storage.models import PostRow
from storage.search import index_words, unindexed
from yuqing.base.progress import Progress

BATCH = 500
INDEXING = "indexing posts"


def post_words(segmenter: Segmenter, title: str, text: str) -> list[str]:
    """The words a post is indexed by: those of its analysis document (as ``nlp.job.save_post``)."""
    return doc_words(raw_post_doc(segmenter, title, text))


def search_words(segmenter: Segmenter, phrase: str) -> list[str]:
    """The words of a search phrase, cut as the index's words were."""
    return segmenter.cut(phrase)


def _next_ids(session: Session, after_id: int, limit: int, everything: bool) -> list[int]:
    if not everything:
        return unindexed(session, after_id, limit)
    stmt = select(PostRow.id).where(PostRow.id > after_id).order_by(PostRow.id).limit(limit)
    return list(session.scalars(stmt))


def reindex(
    sessions: sessionmaker[Session],
    segmenter: Segmenter,
    *,
    everything: bool = False,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> int:
    """Index the posts the index lacks (``everything``: every post again), one transaction per batch
    so a stopped run keeps what it did; returns how many posts were indexed."""
    done, last = 0, 0
    while True:
        with sessions.begin() as session:
            ids = _next_ids(session, last, batch, everything)
            if not ids:
                return done
            rows = session.execute(select(PostRow.id, PostRow.title, PostRow.text).where(PostRow.id.in_(ids)))
            index_words(session, [(pid, post_words(segmenter, title, text)) for pid, title, text in rows])
        last, done = ids[-1], done + len(ids)
        if progress:
            progress(INDEXING, done, None)
