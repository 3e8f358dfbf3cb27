"""The words of the full-text index (``storage.search`` stores and matches them): a post is indexed by
the words of its analysis document and the dictionary words inside its longer words, a search phrase
is cut the same way, and posts stored before the index existed are indexed by ``reindex``
(``yuqing posts reindex``).

The parts matter because the segmenter knows every keyword: "充当黑恶势力保护伞" is one word of the
post, and a search for 黑恶势力 must still find it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from nlp.segment import Segmenter
from nlp.sentiment import doc_words, raw_post_doc
from storage.models import PostRow
from storage.search import index_words, unindexed
from yuqing.base.progress import Progress

BATCH = 500
INDEXING = "indexing posts"
LONGEST = 16
"""Words longer than this (Latin runs, numbers) are not searched for parts."""


def _known(segmenter: Segmenter) -> Callable[[str], bool]:
    tokenizer = segmenter.tokenizer
    if segmenter.backend == "rjieba":
        return lambda word: bool(tokenizer.has_word(word))
    tokenizer.check_initialized()
    return lambda word: bool(tokenizer.FREQ.get(word))


def index_terms(segmenter: Segmenter, words: Sequence[str]) -> list[str]:
    """``words`` and, for each longer one, the dictionary words inside it (each term once)."""
    known = _known(segmenter)
    terms: dict[str, None] = dict.fromkeys(words)
    for word in [w for w in terms if 2 < len(w) <= LONGEST]:
        for size in range(2, len(word)):
            for start in range(len(word) - size + 1):
                part = word[start : start + size]
                if part not in terms and known(part):
                    terms[part] = None
    return list(terms)


def post_words(segmenter: Segmenter, title: str, text: str) -> list[str]:
    """The terms a post is indexed by: its analysis document's words and their parts (as
    ``nlp.job.save_post``)."""
    return index_terms(segmenter, doc_words(raw_post_doc(segmenter, title, text)))


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
