"""Text normalisation and word segmentation with the admins' keywords.

``normalize`` folds full-width forms to half-width (NFKC, one character for one, so positions in
the folded text are positions in the original), lower-cases Latin letters and optionally converts
traditional characters to simplified. ``Segmenter`` wraps one tokenizer *instance* (``rjieba.Jieba``
by default, ``jieba.Tokenizer`` on request; never jieba's global one) loaded with every keyword, so
multi-character keywords are never split.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

log = logging.getLogger(__name__)

Backend = Literal["rjieba", "jieba"]
KEYWORD_FREQ = 200_000
"""Dictionary frequency given to keywords: high enough that the segmenter keeps them whole."""

EMOTICON_RE = re.compile(r"\[[^\[\]\s]{1,8}\]")
"""Weibo emoticons such as ``[怒]`` or ``[哈哈]``: kept as one token."""
NOT_WORD_RE = re.compile(r"[\W_]+\Z")
"""Tokens made only of punctuation, symbols, spaces and underscores."""


def _fold_table() -> dict[int, str]:
    """Characters whose NFKC form is one other character (full-width → half-width, …), plus A-Z → a-z."""
    table: dict[int, str] = {}
    for code in range(0x80, 0x10000):
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        if len(folded) == 1 and folded != char:
            table[code] = folded.lower()
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code).lower()
    return table


FOLD_TABLE = _fold_table()


class Converter(Protocol):
    def convert(self, text: str) -> str: ...


@dataclass(frozen=True)
class T2S:
    """Traditional → simplified, only for texts that hold a traditional character (fast path)."""

    converter: Any
    traditional: frozenset[str]

    def convert(self, text: str) -> str:
        if self.traditional.isdisjoint(text):
            return text
        out = self.converter.convert(text)
        if len(out) != len(text):  # a phrase rule changed the length: convert char by char instead
            out = "".join(self.converter.convert(c) if c in self.traditional else c for c in text)
        return out if len(out) == len(text) else text


def make_t2s() -> T2S:
    """The OpenCC (pure-Python) traditional → simplified converter with its character set."""
    import opencc

    converter = opencc.OpenCC("t2s")
    table = Path(opencc.__file__).with_name("dictionary") / "TSCharacters.txt"
    chars = set()
    for line in table.read_text(encoding="utf-8").splitlines():
        source, _, target = line.partition("\t")
        if len(source) == 1 and source not in target.split():
            chars.add(source)
    return T2S(converter, frozenset(chars))


def normalize(text: str, t2s: Converter | None = None) -> str:
    """Fold full-width to half-width, lower-case Latin, optionally traditional → simplified.
    The result has the same length as ``text``, so match positions stay valid for the original."""
    folded = text.translate(FOLD_TABLE)
    return t2s.convert(folded) if t2s is not None else folded


def is_word(token: str) -> bool:
    """False for whitespace and punctuation-only tokens."""
    return token.isalnum() or NOT_WORD_RE.match(token) is None


@dataclass
class Segmenter:
    """One tokenizer instance with the project's words; ``cut`` returns words of normalised text."""

    tokenizer: Any
    backend: Backend
    stopwords: frozenset[str] = frozenset()
    t2s: Converter | None = field(default=None, repr=False)
    added: int = 0
    _cut: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._cut = self.tokenizer.cut if self.backend == "rjieba" else self.tokenizer.lcut

    def normalize(self, text: str) -> str:
        return normalize(text, self.t2s)

    def tokens(self, normalized: str) -> list[str]:
        """All tokens of already normalised text (punctuation included); emoticons stay whole."""
        if "[" not in normalized:
            return list(self._cut(normalized))
        out: list[str] = []
        last = 0
        for match in EMOTICON_RE.finditer(normalized):
            out.extend(self._cut(normalized[last : match.start()]))
            out.append(match.group())
            last = match.end()
        out.extend(self._cut(normalized[last:]))
        return out

    def words(self, normalized: str) -> list[str]:
        """Meaningful tokens of already normalised text: no stopwords, punctuation or spaces."""
        stop = self.stopwords
        return [t for t in self.tokens(normalized) if t not in stop and is_word(t)]

    def cut(self, text: str) -> list[str]:
        """Normalise ``text`` and return its meaningful words."""
        return self.words(self.normalize(text))


@functools.cache
def _jieba_dictionary() -> tuple[dict[str, int], int, dict[str, str]]:
    """jieba's default dictionary (frequencies, their total, part-of-speech tags), read once per process
    (about 1.5 s) and never changed: each tokenizer gets copies (``jieba_tokenizer``, ``jieba_pos_tagger``)."""
    import jieba
    import jieba.posseg

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer.FREQ, tokenizer.total, jieba.posseg.POSTokenizer(tokenizer).word_tag_tab


def jieba_tokenizer() -> Any:
    """A new ``jieba.Tokenizer`` (never jieba's global one) on a copy of the default dictionary."""
    import jieba

    freq, total, _ = _jieba_dictionary()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = dict(freq), total, True
    return tokenizer


def jieba_pos_tagger(tokenizer: Any) -> Any:
    """A ``jieba.posseg.POSTokenizer`` over ``tokenizer`` (from ``jieba_tokenizer``) with a copy of the
    default tags (its constructor would read the dictionary file again)."""
    import jieba.posseg

    tagger = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
    tagger.tokenizer, tagger.word_tag_tab = tokenizer, dict(_jieba_dictionary()[2])
    return tagger


def _new_tokenizer(backend: Backend) -> Any:
    if backend == "rjieba":
        import rjieba

        return rjieba.Jieba()
    return jieba_tokenizer()


def build_segmenter(
    words: Iterable[str], stopwords: Iterable[str] = (), *, backend: Backend = "rjieba", to_simplified: bool = True
) -> Segmenter:
    """A new tokenizer instance that never splits ``words`` (normalised the same way as text)."""
    t2s = make_t2s() if to_simplified else None
    tokenizer = _new_tokenizer(backend)
    added = 0
    for word in dict.fromkeys(normalize(w, t2s) for w in words):
        if backend == "rjieba":
            tokenizer.add_word(word, KEYWORD_FREQ, None)
        else:
            tokenizer.add_word(word, KEYWORD_FREQ)
        added += 1
    stop = frozenset(normalize(w, t2s) for w in stopwords)
    log.debug("segmenter %s ready with %d added words", backend, added)
    return Segmenter(tokenizer, backend, stop, t2s, added)


def segmenter_for(
    topics: Any, *, backend: Backend = "rjieba", to_simplified: bool = True, extra_words: Sequence[str] = ()
) -> Segmenter:
    """The segmenter for a ``TopicsFile``: its dictionary, every keyword and its stopwords."""
    return build_segmenter(
        [*topics.all_keywords(), *extra_words], topics.stopwords, backend=backend, to_simplified=to_simplified
    )
