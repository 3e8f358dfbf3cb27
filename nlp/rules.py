"""Topic matching: every topic's terms in one Aho-Corasick automaton, rules evaluated on the hits.

The cost of matching a post is the automaton scan (linear in the text) plus work proportional to
the terms found, not to the number of keywords configured. Positions are character offsets into the
title or text as given (normalisation keeps lengths, so they are offsets into the original too).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from nlp.segment import normalize
from nlp.ruleparse import And, ListRef, Near, Node, Not, Or, Term, all_terms, parse, positive_terms

GRAMMAR_VERSION = "1"
FIELDS = ("title", "text")

Hit = tuple[str, int, int]
"""(field, start, end): where a term occurs; ``end`` is exclusive."""
Hits = Mapping[str, Sequence[Hit]]


def as_bytes(text: str) -> str:
    """UTF-8 bytes of ``text`` as a latin-1 string: the automaton walks bytes, so each trie node has at
    most 256 children and the scan costs the same with 100 or 10,000 Chinese keywords. UTF-8 is
    self-synchronising, so byte matches always start and end on character boundaries."""
    return text.encode("utf-8").decode("latin-1")


def char_offset(raw: str, byte_end: int) -> int:
    """Character offset (exclusive) of the byte position just after ``byte_end`` in ``raw``."""
    return len(raw[:byte_end + 1].encode("latin-1").decode("utf-8"))


class HitSet(Mapping[str, list[Hit]]):
    """Term occurrences found by the automaton: membership is a set lookup; positions are worked out
    only when asked for (NEAR and highlighting of matched topics), so unmatched hits stay cheap."""

    def __init__(self, raws: tuple[str, str] = ("", ""),
                 found: tuple[list[tuple[int, str]], list[tuple[int, str]]] = ([], [])) -> None:
        self._raws = raws
        self._found = found
        self._terms = {t for _, t in found[0]} | {t for _, t in found[1]}
        self._positions: dict[str, list[Hit]] | None = None

    def __contains__(self, term: object) -> bool:
        return term in self._terms

    def __getitem__(self, term: str) -> list[Hit]:
        if self._positions is None:
            positions: dict[str, list[Hit]] = defaultdict(list)
            for name, raw, found in zip(FIELDS, self._raws, self._found):
                for end, found_term in found:
                    stop = char_offset(raw, end)
                    positions[found_term].append((name, stop - len(found_term), stop))
            self._positions = dict(positions)
        return self._positions[term]

    def get(self, term: str, default: Any = None) -> Any:
        return self[term] if term in self._terms else default

    def keys(self) -> set[str]:  # type: ignore[override]
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
    return CompiledTopic(topic.id, topic.weight, keywords, all_words,
                         tuple(dict.fromkeys(fold(w) for w in topic.exclude)), expr, frozenset(highlight))


@dataclass
class RuleSet:
    """All enabled topics compiled together; ``match`` returns the topics a post belongs to."""

    topics: list[CompiledTopic]
    version: str
    automaton: Any = field(repr=False)
    by_keyword: dict[str, list[int]] = field(repr=False)

    def scan(self, title: str, text: str) -> HitSet:
        """Every occurrence of every known term in the (normalised) title and text."""
        if not self.by_keyword:
            return HitSet()
        raws = (as_bytes(title), as_bytes(text))
        return HitSet(raws, (list(self.automaton.iter(raws[0])) if title else [], list(self.automaton.iter(raws[1]))))

    def matches(self, topic: CompiledTopic, hits: Hits) -> bool:
        return (all(w in hits for w in topic.all)
                and not any(w in hits for w in topic.exclude)
                and (topic.expr is None or evaluate(topic.expr, hits)))

    def match_hits(self, hits: Hits) -> list[TopicMatch]:
        """Topics whose rules hold for these hits, in config order."""
        by_keyword = self.by_keyword
        candidates = sorted({i for term in hits.keys() if term in by_keyword for i in by_keyword[term]})
        out = []
        for index in candidates:
            topic = self.topics[index]
            if self.matches(topic, hits):
                terms = [{"term": t, "field": f, "start": s, "end": e}
                         for t in sorted(topic.highlight & hits.keys()) for f, s, e in hits[t]]
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
    automaton = ahocorasick.Automaton()
    by_keyword: dict[str, list[int]] = defaultdict(list)
    for index, topic in enumerate(compiled):
        for word in topic.keywords:
            by_keyword[word].append(index)
        for word in {*topic.keywords, *topic.all, *topic.exclude,
                     *(all_terms(topic.expr) if topic.expr else ())}:
            if word and as_bytes(word) not in automaton:
                automaton.add_word(as_bytes(word), word)
    if len(automaton):
        automaton.make_automaton()
    return RuleSet(compiled, topics_fingerprint(topics), automaton, dict(by_keyword))


def expression_terms(topics: Any) -> list[str]:
    """Every term written in the topics' expressions (added to the segmenter's dictionary)."""
    terms: set[str] = set()
    for topic in topics.topics:
        if topic.expr:
            terms |= all_terms(parse(topic.expr, topics.lists))
    return sorted(terms)
