"""Topic matching: every topic's terms in one Aho-Corasick automaton, rules evaluated on the hits.

The cost of matching a post is the automaton scan (linear in the text) plus work proportional to
the terms found, not to the number of keywords configured. The automaton is daachorse's
character-wise double array: one array lookup per character whatever the number of keywords, and a
compact layout that keeps the scan in cache with 10,000 keywords. Positions are character offsets into
the title or text as given (normalisation keeps lengths, so they are offsets into the original too).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import daachorse

from config.ruleparse import And, ListRef, Near, Node, Not, Or, Term, all_terms, parse, positive_terms
from nlp.segment import normalize

GRAMMAR_VERSION = "1"
FIELDS = ("title", "text")

Hit = tuple[str, int, int]
"""(field, start, end): where a term occurs; ``end`` is exclusive."""
Hits = Mapping[str, Sequence[Hit]]


class HitSet(Mapping[str, list[Hit]]):
    """Term occurrences found by the automaton: membership is a set lookup; positions are listed only
    when asked for (NEAR and highlighting of matched topics), so unmatched hits stay cheap."""

    def __init__(
        self, words: Sequence[str] = (), found: tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]] = ([], [])
    ) -> None:
        self._words = words
        self._found = found
        self._terms = {words[i] for _, _, i in found[0]} | {words[i] for _, _, i in found[1]}
        self._positions: dict[str, list[Hit]] | None = None

    def __contains__(self, term: object) -> bool:
        return term in self._terms

    def __getitem__(self, term: str) -> list[Hit]:
        if self._positions is None:
            positions: dict[str, list[Hit]] = defaultdict(list)
            for name, found in zip(FIELDS, self._found):
                for start, end, index in found:
                    positions[self._words[index]].append((name, start, end))
            self._positions = dict(positions)
        return self._positions[term]

    def get(self, term: str, default: Any = None) -> Any:
        return self[term] if term in self._terms else default

    def keys(self) -> set[str]:  # type: ignore[override]  # a set, so callers can intersect with it
        return self._terms

    def __iter__(self) -> Iterator[str]:
        return iter(self._terms)

    def __len__(self) -> int:
        return len(self._terms)


@dataclass(frozen=True)
class TopicMatch:
    """One matched topic and the occurrences of its terms, for highlighting."""

    topic: str
    terms: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "terms": self.terms}


@dataclass(frozen=True)
class CompiledTopic:
    id: str
    weight: float
    keywords: tuple[str, ...]
    all: tuple[str, ...]
    exclude: tuple[str, ...]
    expr: Node | None
    highlight: frozenset[str]


def evaluate(node: Node, hits: Hits) -> bool:
    """Whether the expression holds for a post whose term occurrences are ``hits``."""
    if isinstance(node, Term):
        return node.text in hits
    if isinstance(node, ListRef):
        return any(t in hits for t in node.terms)
    if isinstance(node, Not):
        return not evaluate(node.operand, hits)
    if isinstance(node, And):
        return all(evaluate(n, hits) for n in node.operands)
    if isinstance(node, Or):
        return any(evaluate(n, hits) for n in node.operands)
    return near(node, hits)


def _occurrences(terms: Iterable[str], hits: Hits) -> list[Hit]:
    return [h for t in terms for h in hits.get(t, ())]


def near(node: Near, hits: Hits) -> bool:
    """A and B in the same field with at most ``distance`` characters between them (either order)."""
    left = _occurrences(node.left, hits)
    if not left:
        return False
    right = _occurrences(node.right, hits)
    for field_a, start_a, end_a in left:
        for field_b, start_b, end_b in right:
            if field_a == field_b and max(start_b - end_a, start_a - end_b) <= node.distance:
                if (start_a, end_a) != (start_b, end_b):
                    return True
    return False


def compile_topic(topic: Any, lists: Mapping[str, Sequence[str]], fold: Callable[[str], str]) -> CompiledTopic:
    """A ``config.topics_model.Topic`` with folded terms and a parsed expression."""
    expr = parse(topic.expr, lists, fold) if topic.expr else None
    keywords = tuple(dict.fromkeys(fold(w) for w in topic.keywords))
    all_words = tuple(dict.fromkeys(fold(w) for w in topic.all))
    highlight = {*keywords, *all_words, *(positive_terms(expr) if expr else ())}
    return CompiledTopic(
        topic.id,
        topic.weight,
        keywords,
        all_words,
        tuple(dict.fromkeys(fold(w) for w in topic.exclude)),
        expr,
        frozenset(highlight),
    )


@dataclass
class RuleSet:
    """All enabled topics compiled together; ``match`` returns the topics a post belongs to."""

    topics: list[CompiledTopic]
    version: str
    automaton: Any = field(repr=False)
    by_keyword: dict[str, list[int]] = field(repr=False)
    words: tuple[str, ...] = field(default=(), repr=False)
    """The automaton's patterns, indexed by pattern id."""

    def scan(self, title: str, text: str) -> HitSet:
        """Every occurrence of every known term in the (normalised) title and text."""
        if self.automaton is None:
            return HitSet()
        find = self.automaton.find_overlapping
        return HitSet(self.words, (find(title) if title else [], find(text) if text else []))

    def matches(self, topic: CompiledTopic, hits: Hits) -> bool:
        return (
            all(w in hits for w in topic.all)
            and not any(w in hits for w in topic.exclude)
            and (topic.expr is None or evaluate(topic.expr, hits))
        )

    def match_hits(self, hits: Hits) -> list[TopicMatch]:
        """Topics whose rules hold for these hits, in config order."""
        by_keyword = self.by_keyword
        candidates = sorted({i for term in hits.keys() if term in by_keyword for i in by_keyword[term]})
        out = []
        for index in candidates:
            topic = self.topics[index]
            if self.matches(topic, hits):
                terms: list[dict[str, Any]] = [
                    {"term": t, "field": f, "start": s, "end": e}
                    for t in sorted(topic.highlight & hits.keys())
                    for f, s, e in hits[t]
                ]
                terms.sort(key=lambda d: (d["field"] != "title", d["start"], -d["end"]))
                out.append(TopicMatch(topic.id, terms))
        return out

    def match(self, title: str, text: str) -> list[TopicMatch]:
        """Topics matched by a post; title and text must be normalised like the rules' terms."""
        return self.match_hits(self.scan(title, text))

    def weight(self, topic_id: str) -> float:
        return next((t.weight for t in self.topics if t.id == topic_id), 1.0)


def topics_fingerprint(topics: Any) -> str:
    """Stable hash of a ``TopicsFile`` (and the grammar): changes whenever matching may change."""
    payload = json.dumps(topics.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"{GRAMMAR_VERSION}\n{payload}".encode()).hexdigest()[:16]


def compile_topics(topics: Any, fold: Callable[[str], str] = normalize) -> RuleSet:
    """Compile every enabled topic of a ``TopicsFile`` into one automaton; ``fold`` normalises terms
    exactly as post text is normalised before ``match`` (use ``Segmenter.normalize``)."""
    compiled = [compile_topic(t, topics.lists, fold) for t in topics.topics if t.enabled]
    by_keyword: dict[str, list[int]] = defaultdict(list)
    words: dict[str, None] = {}
    for index, topic in enumerate(compiled):
        for word in topic.keywords:
            by_keyword[word].append(index)
        for word in (
            *topic.keywords,
            *topic.all,
            *topic.exclude,
            *(sorted(all_terms(topic.expr)) if topic.expr else ()),
        ):
            if word:
                words[word] = None
    patterns = tuple(words)
    automaton = daachorse.CharwiseDoubleArrayAhoCorasick(list(patterns)) if by_keyword else None
    return RuleSet(compiled, topics_fingerprint(topics), automaton, dict(by_keyword), patterns)


def expression_terms(topics: Any) -> list[str]:
    """Every term written in the topics' expressions (added to the segmenter's dictionary)."""
    terms: set[str] = set()
    for topic in topics.topics:
        if topic.expr:
            terms |= all_terms(parse(topic.expr, topics.lists))
    return sorted(terms)
