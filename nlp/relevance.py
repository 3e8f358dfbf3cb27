"""Relevance that learns: per topic, a classifier trained on analysts' relevant/irrelevant labels
demotes keyword hits like those they marked irrelevant. Until a topic has ``min_labels`` labels with
both classes present (at least ``MIN_PER_CLASS`` each), its rules alone decide.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from nlp.sentiment import char_part, word_features

MIN_PER_CLASS = 3
KEEP_THRESHOLD = 0.5
"""A matched topic is kept when the classifier's probability of relevance is at least this."""


@dataclass(frozen=True)
class TopicLabel:
    """One analyst label: this post's document is (ir)relevant to the topic."""

    topic: str
    doc: str
    relevant: bool


def _pipeline() -> Pipeline:
    from sklearn.pipeline import FeatureUnion

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer=word_features, sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char", ngram_range=(2, 3), preprocessor=char_part, lowercase=False, sublinear_tf=True
                ),
            ),
        ]
    )
    return Pipeline(
        [("features", features), ("classifier", LogisticRegression(C=4.0, max_iter=1000, class_weight="balanced"))]
    )


@dataclass
class RelevanceModels:
    """One classifier per topic that has enough labels; ``version`` changes with the labels."""

    models: dict[str, Pipeline] = field(default_factory=dict)
    version: str = "none"
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)

    def probabilities(self, topic: str, docs: Sequence[str]) -> np.ndarray | None:
        """P(relevant) for each document, or None when the topic has no learned classifier."""
        model = self.models.get(topic)
        if model is None or not docs:
            return None
        return model.predict_proba(list(docs))[:, 1]


def trainable(relevant: int, irrelevant: int, min_labels: int) -> bool:
    return relevant + irrelevant >= min_labels and min(relevant, irrelevant) >= MIN_PER_CLASS


def train_relevance(labels: Iterable[TopicLabel], min_labels: int) -> RelevanceModels:
    """Train a classifier for each topic with enough labels of both kinds (latest label wins upstream)."""
    by_topic: dict[str, list[TopicLabel]] = defaultdict(list)
    for label in labels:
        by_topic[label.topic].append(label)
    result = RelevanceModels()
    digest = hashlib.sha256()
    for topic, rows in sorted(by_topic.items()):
        y = [int(r.relevant) for r in rows]
        result.counts[topic] = (sum(y), len(y) - sum(y))
        if trainable(sum(y), len(y) - sum(y), min_labels):
            result.models[topic] = _pipeline().fit([r.doc for r in rows], y)
            digest.update("".join(f"{topic}\t{v}\t{r.doc}\n" for v, r in zip(y, rows)).encode())
    if result.models:
        result.version = digest.hexdigest()[:8]
    return result
