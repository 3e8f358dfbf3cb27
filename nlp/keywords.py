"""The words of a post kept for 热词 (rising terms of a report period): pure functions.

A post's words are its segmented document's words (``nlp.sentiment.doc_words``: normalised, stopwords
and punctuation gone), kept once each, in order of first appearance (title first), without numbers,
one-character words or words longer than the column; at most ``MAX_WORDS`` of them."""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_WORDS = 60
MAX_CHARS = 64
NUMBER_RE = re.compile(r"[\d.,:%\-/]+\Z|[a-z]\Z|\[.*\]\Z")
"""Numbers, dates, times, single Latin letters and emoticons: never a 热词."""


def post_words(words: Iterable[str], limit: int = MAX_WORDS) -> list[str]:
    """The distinct words of one post worth counting for 热词."""
    kept: dict[str, None] = {}
    for word in words:
        if len(word) < 2 or len(word) > MAX_CHARS or word in kept or NUMBER_RE.match(word):
            continue
        kept[word] = None
        if len(kept) == limit:
            break
    return list(kept)
