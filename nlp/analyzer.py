"""Analyse a batch of posts in memory: topics, negativity, reasons and fingerprint (no I/O).

Everything the analysis needs (segmenter, compiled rules, sentiment model, relevance classifiers) is
built by the caller and passed in as one ``Analyzer``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nlp.events import fingerprint
from nlp.keywords import post_words
from nlp.mentions import Mention
from nlp.places import Gazetteer, places_in
from nlp.relevance import KEEP_THRESHOLD, RelevanceModels
from nlp.rules import RuleSet, TopicMatch
from nlp.segment import Segmenter
from nlp.sentiment import SentimentModel, doc_words, post_doc, raw_post_doc, to_docs
from nlp.stance import Stance, StanceFeatures


def passing(mentions: list[Mention]) -> list[tuple[str, int, int]]:
    """Where a body is named only in passing (nlp/mentions.py): its name makes no topic match."""
    return [(m.field, m.start, m.end) for m in mentions if not m.counts]


@dataclass
class PostAnalysis:
    """What the analysis found in one post."""

    topics: list[TopicMatch]
    relevance: dict[str, float]
    negative_score: float
    negative: bool
    reasons: list[str]
    fingerprint: list[int] | None
    doc: str = field(repr=False, default="")
    stance: StanceFeatures | None = field(repr=False, default=None)
    """What the negativity toward the office was computed from (None without a stance reader)."""
    places: list[str] = field(default_factory=list)  # nlp.places, as text (``广东省/深圳市``)
    words: list[str] = field(default_factory=list)  # nlp.keywords, of relevant posts only

    def __post_init__(self) -> None:
        if not self.words and self.topics and self.doc:
            self.words = post_words(doc_words(self.doc))

    @property
    def relevant(self) -> bool:
        return bool(self.topics)

    def topic_weight(self, rules: RuleSet) -> float | None:
        """The largest weight among the matched topics (None when no topic matched)."""
        return max((rules.weight(m.topic) for m in self.topics), default=None)

    def topics_json(self) -> list[dict[str, Any]]:
        return [m.as_json() for m in self.topics]


@dataclass
class Analyzer:
    """The tools of one analysis run; ``version`` identifies rules + model + learned relevance."""

    segmenter: Segmenter
    rules: RuleSet
    model: SentimentModel
    relevance: RelevanceModels = field(default_factory=RelevanceModels)
    negative_threshold: float = 0.5
    reason_terms: int = 5
    stance: Stance | None = None
    """Reads negativity toward the political-legal bodies; without it ``negative`` is the post's mood."""
    gazetteer: Gazetteer | None = None  # places named in posts; None: not looked for

    @property
    def model_version(self) -> str:
        return f"{self.model.version}+rel-{self.relevance.version}"[:64]

    def post_document(self, title: str, text: str) -> str:
        """The sentiment document of a raw (not yet normalised) title and text."""
        return raw_post_doc(self.segmenter, title, text)

    def analyze(self, posts: Sequence[tuple[str, str]]) -> list[PostAnalysis]:
        """Analyse (title, text) pairs; the result keeps the input order."""
        normalized = [(self.segmenter.normalize(t or ""), self.segmenter.normalize(x or "")) for t, x in posts]
        docs = [post_doc(self.segmenter, t, x) for t, x in normalized]
        scores, reasons = self.model.explain(docs, self.reason_terms)
        mentions = [self.stance.mentions(t, x) for t, x in normalized] if self.stance else None
        matches = [
            self.rules.match(t, x, passing(mentions[i]) if mentions else ()) for i, (t, x) in enumerate(normalized)
        ]
        relevance = self.learned_relevance(matches, docs)
        stances = self.stances(normalized, [float(s) for s in scores], mentions)
        out = []
        for i, doc in enumerate(docs):
            kept = [m for m in matches[i] if relevance[i].get(m.topic, 1.0) >= KEEP_THRESHOLD]
            stance = stances[i] if stances else None
            score = self.stance.probability(stance) if self.stance and stance else float(scores[i])
            out.append(
                PostAnalysis(
                    kept,
                    relevance[i],
                    round(score, 4),
                    score >= self.negative_threshold,
                    reasons[i] if self.reason_terms else [],
                    fingerprint(doc_words(doc)),
                    doc,
                    stance,
                    self.places(*posts[i]),
                )
            )
        return out

    def stances(
        self, normalized: list[tuple[str, str]], scores: list[float], mentions: list[list[Mention]] | None = None
    ) -> list[StanceFeatures]:
        """Stance features of normalised posts (empty without a stance reader)."""
        if self.stance is None:
            return []

        def mood(texts: list[str]) -> list[float]:
            return [float(x) for x in self.model.scores(to_docs(self.segmenter, texts))]

        return self.stance.assess(normalized, scores, mood, mentions)

    def places(self, title: str, text: str) -> list[str]:
        """The places a raw title and text name (empty without a gazetteer)."""
        if self.gazetteer is None:
            return []
        return [str(p) for p in places_in(self.gazetteer, title or "", text or "")]

    def learned_relevance(self, matches: list[list[TopicMatch]], docs: list[str]) -> list[dict[str, float]]:
        """P(relevant) per (post, matched topic) where a topic has a learned classifier."""
        out: list[dict[str, float]] = [{} for _ in docs]
        for topic in self.relevance.models:
            rows = [i for i, found in enumerate(matches) if any(m.topic == topic for m in found)]
            probabilities = self.relevance.probabilities(topic, [docs[i] for i in rows])
            if probabilities is not None:
                for i, p in zip(rows, probabilities):
                    out[i][topic] = round(float(p), 4)
        return out
