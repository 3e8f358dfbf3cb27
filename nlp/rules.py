"""Topic matching: every topic's terms in one Aho-Corasick automaton, rules evaluated on the hits.

A topic matches when one of its keywords occurs with a term of its ``context`` close enough (or
anywhere, without a context), or one of its ``standalone`` words occurs; and its ``all``, ``exclude``
and ``expr`` conditions hold. ``explain`` says which condition failed, for ``rules test`` and the
console; ``keyword_warnings`` says why a keyword about to be added could never make a post match.

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

GRAMMAR_VERSION = "2"  # 2: keywords count only within their topic's context
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
    standalone: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    """The context's terms (lists expanded); empty: a keyword counts anywhere."""
    within: int = 0
    context_label: str = ""
    """The context as written (``@政法机关``), for explanations."""
    expr_text: str = ""

    def triggers(self) -> tuple[str, ...]:
        return (*self.keywords, *self.standalone)


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


def without(hits: Hits, spans: Sequence[Hit]) -> dict[str, list[Hit]]:
    """The occurrences that do not lie inside one of ``spans`` (same field)."""
    out: dict[str, list[Hit]] = {}
    for term in hits.keys():
        kept = [h for h in hits[term] if not any(f == h[0] and s <= h[1] and h[2] <= e for f, s, e in spans)]
        if kept:
            out[term] = kept
    return out


def gap(a: Hit, b: Hit) -> int | None:
    """Characters between two occurrences in the same field (0 when they touch or overlap), else None."""
    if a[0] != b[0]:
        return None
    return max(0, b[1] - a[2], a[1] - b[2])


def context_terms(context: Any, lists: Mapping[str, Sequence[str]], fold: Callable[[str], str]) -> tuple[str, ...]:
    """A ``config.topics_model.Context``'s terms, folded, with ``@list`` expanded."""
    terms: list[str] = []
    for term in context.terms if context else ():
        terms.extend(lists.get(term[1:], ()) if term.startswith("@") else (term,))
    return tuple(dict.fromkeys(fold(t) for t in terms if t))


def compile_topic(topic: Any, lists: Mapping[str, Sequence[str]], fold: Callable[[str], str]) -> CompiledTopic:
    """A ``config.topics_model.Topic`` with folded terms, its context expanded and its expression parsed."""
    expr = parse(topic.expr, lists, fold) if topic.expr else None
    keywords = tuple(dict.fromkeys(fold(w) for w in topic.keywords))
    standalone = tuple(dict.fromkeys(fold(w) for w in getattr(topic, "standalone", ())))
    all_words = tuple(dict.fromkeys(fold(w) for w in topic.all))
    context = getattr(topic, "context", None)
    near = context_terms(context, lists, fold)
    highlight = {*keywords, *standalone, *near, *all_words, *(positive_terms(expr) if expr else ())}
    return CompiledTopic(
        topic.id,
        topic.weight,
        keywords,
        all_words,
        tuple(dict.fromkeys(fold(w) for w in topic.exclude)),
        expr,
        frozenset(highlight),
        standalone=standalone,
        context=near,
        within=context.within if context else 0,
        context_label="/".join(context.terms) if context else "",
        expr_text=topic.expr or "",
    )


def keyword_in_context(topic: CompiledTopic, hits: Hits) -> bool:
    """Whether some keyword occurrence has a context term within ``topic.within`` characters."""
    near = _occurrences(topic.context, hits)
    if not near:
        return False
    for occurrence in _occurrences(topic.keywords, hits):
        for other in near:
            distance = gap(occurrence, other)
            if distance is not None and distance <= topic.within:
                return True
    return False


def fires(topic: CompiledTopic, hits: Hits) -> bool:
    """A standalone word, or a keyword (next to its context when the topic has one)."""
    if any(w in hits for w in topic.standalone):
        return True
    if not topic.context:
        return any(w in hits for w in topic.keywords)
    return keyword_in_context(topic, hits)


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
            and fires(topic, hits)
            and (topic.expr is None or evaluate(topic.expr, hits))
        )

    def topic(self, topic_id: str) -> CompiledTopic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

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

    def match(self, title: str, text: str, ignore: Sequence[Hit] = ()) -> list[TopicMatch]:
        """Topics matched by a post; title and text must be normalised like the rules' terms.
        ``ignore``: spans whose terms do not count (a body's name that is only a passing mention)."""
        hits = self.scan(title, text)
        return self.match_hits(without(hits, ignore) if ignore else hits)

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
        for word in dict.fromkeys(topic.triggers()):
            by_keyword[word].append(index)
        for word in (
            *topic.triggers(),
            *topic.context,
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


def _listing(words: Sequence[str], limit: int = 8) -> str:
    shown = "、".join(words[:limit])
    return shown + (f" … ({len(words)} in all)" if len(words) > limit else "")


def _context_failures(topic: CompiledTopic, hits: Hits) -> list[str]:
    """One line per keyword found whose occurrences have no context term close enough."""
    near = _occurrences(topic.context, hits)
    lines = []
    for keyword in (k for k in topic.keywords if k in hits):
        distances = [d for o in hits[keyword] for n in near if (d := gap(o, n)) is not None]
        closest = min(distances, default=None)
        where = (
            f"the closest is {closest} characters away"
            if closest is not None
            else "none in the same field"
            if near
            else "none in the post"
        )
        lines.append(
            f'keyword "{keyword}" found, but no term of {topic.context_label} within {topic.within} characters ({where})'
        )
    return lines


def explain_hits(topic: CompiledTopic, hits: Hits) -> list[str]:
    """Why ``topic`` does not match a post with these hits: one line per failed condition, in the
    order they are checked (empty when it matches)."""
    reasons: list[str] = []
    if not fires(topic, hits):
        if not any(w in hits for w in topic.triggers()):
            reasons.append(f"no keyword found (keywords: {_listing(topic.triggers())})")
        else:
            reasons.extend(_context_failures(topic, hits))
    reasons += [f'`all` word "{w}" missing' for w in topic.all if w not in hits]
    reasons += [f'excluded by "{w}"' for w in topic.exclude if w in hits]
    if topic.expr is not None and not evaluate(topic.expr, hits):
        reasons.append(f"expression false: {topic.expr_text}")
    return reasons


def explain(rules: RuleSet, topic_id: str, title: str, text: str) -> list[str]:
    """Why the topic does not match this post (title and text normalised like ``match``'s); empty
    when it matches. For ``yuqing rules test`` and the console."""
    topic = rules.topic(topic_id)
    if topic is None:
        return [f'topic "{topic_id}" is not enabled']
    return explain_hits(topic, rules.scan(title, text))


def _exclude_warnings(topic: CompiledTopic, word: str) -> list[str]:
    out = []
    for excluded in topic.exclude:
        if excluded == word:
            out.append(
                f'"{word}" is also an exclusion word of {topic.id}: every post containing it is excluded; '
                f"remove it from the exclusions first (`yuqing keywords remove {topic.id} {word} --exclude`)"
            )
        elif excluded in word:
            out.append(
                f'"{word}" contains the exclusion word "{excluded}" of {topic.id}: every post with it is excluded, '
                f'so it can never match; remove "{excluded}" from the exclusions or choose another keyword'
            )
        elif word in excluded:
            out.append(
                f'"{word}" is part of the exclusion word "{excluded}" of {topic.id}: posts where it is written '
                f'as "{excluded}" are excluded (other posts with "{word}" match)'
            )
    return out


def _expr_warning(rules: RuleSet, topic: CompiledTopic, word: str) -> str | None:
    """A warning when the topic's expression is false for a post holding just the keyword (next to
    its context and with its `all` words)."""
    if topic.expr is None:
        return None
    sample = "，".join([*(topic.context[:1]), word, *topic.all])
    if evaluate(topic.expr, rules.scan("", sample)):
        return None
    if word not in all_terms(topic.expr):
        return (
            f'the expression of {topic.id} does not mention "{word}" and is false for a post with just it: a post '
            f'with "{word}" matches only when "{topic.expr_text}" holds through other words; put what the keyword '
            f'must appear near in the topic\'s `context:` instead (docs/ANALYSE.md), or add "{word}" to the expression'
        )
    return (
        f'a post with "{word}" does not satisfy the expression of {topic.id} on its own: "{topic.expr_text}"; '
        f"check it with `yuqing rules test {topic.id} TEXT`"
    )


def keyword_warnings(rules: RuleSet, topic_id: str, words: Sequence[str]) -> list[str]:
    """Why keywords just added to a topic could not make a post match (``rules`` holds the topic with
    the words added, terms folded like ``words``): an exclusion word in or around the keyword, an
    `all` word that is itself excluded, an expression the keyword cannot satisfy."""
    topic = rules.topic(topic_id)
    if topic is None:
        return []
    warnings = [
        f'the `all` word "{w}" contains the exclusion word "{e}": {topic.id} can never match'
        for w in topic.all
        for e in topic.exclude
        if e in w
    ]
    for word in words:
        warnings += _exclude_warnings(topic, word)
        expr = _expr_warning(rules, topic, word)
        warnings += [expr] if expr else []
    return warnings


def exclusion_warnings(topic: Any, words: Sequence[str]) -> list[str]:
    """Exclusion words about to be added that would silence some of the topic's own keywords."""
    out = []
    for excluded in words:
        silenced = [k for k in (*topic.keywords, *getattr(topic, "standalone", ())) if excluded in k]
        if silenced:
            out.append(
                f'the exclusion "{excluded}" is part of the keyword(s) {_listing(silenced)} of {topic.id}: '
                "they could never match again; choose a longer exclusion (e.g. the whole phrase to rule out)"
            )
    return out
