"""Relevance that learns from the first label: per topic, analysts' relevant/irrelevant labels move
the relevance of similar unlabelled posts gradually away from the rules' verdict.

For a post the rules match to a topic, with labelled posts i of that topic (y_i = 1 relevant, 0
irrelevant) and s_i = the cosine similarity of their character-bigram/trigram TF-IDF vectors:

    w_i = s_i ** SHARPNESS                       (near-copies count, loosely related posts hardly)
    P(relevant) = (prior + sum w_i y_i) / (prior + sum w_i)

``prior`` (settings.yaml ``analysis.relevance_prior``, default 0.5) is how many fully similar labels
the rules' own verdict (a match = relevant) weighs. One irrelevant label brings a near-copy of its
post (s = 0.9, w = 0.81) to P = 0.38 (dropped below ``KEEP_THRESHOLD``), a post half as similar
(s = 0.5) to 0.67, three such labels to 0.40; a post unlike every labelled one keeps P ≈ 1. The
labelled post itself follows its own label at once (``nlp.corrections``); this is about the posts
like it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from nlp.sentiment import char_part

KEEP_THRESHOLD = 0.5
"""A matched topic is kept when its probability of relevance is at least this."""
SHARPNESS = 2
"""Power on the similarity: a repost of a labelled post counts almost fully, a post that merely
shares the topic's vocabulary almost nothing."""
DEFAULT_PRIOR = 0.5


@dataclass(frozen=True)
class TopicLabel:
    """One analyst label: this post's document is (ir)relevant to the topic."""

    topic: str
    doc: str
    relevant: bool


@dataclass
class TopicModel:
    """One topic's labelled documents as TF-IDF vectors, and the prior of its rules."""

    vectorizer: TfidfVectorizer
    matrix: object
    labels: np.ndarray
    prior: float

    def predict(self, docs: Sequence[str]) -> np.ndarray:
        """P(relevant) for each document the rules matched to this topic."""
        similarity = (self.vectorizer.transform(list(docs)) @ self.matrix.T).toarray()  # type: ignore[attr-defined]
        weights = np.clip(similarity, 0.0, 1.0) ** SHARPNESS
        return np.asarray((self.prior + weights @ self.labels) / (self.prior + weights.sum(axis=1)))


@dataclass
class RelevanceModels:
    """One model per topic with labels; ``version`` changes with the labels."""

    models: dict[str, TopicModel] = field(default_factory=dict)
    version: str = "none"
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)

    def probabilities(self, topic: str, docs: Sequence[str]) -> np.ndarray | None:
        """P(relevant) for each document, or None when the topic has no labels."""
        model = self.models.get(topic)
        if model is None or not docs:
            return None
        return model.predict(docs)


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char", ngram_range=(2, 3), preprocessor=char_part, lowercase=False, sublinear_tf=True
    )


def train_relevance(labels: Iterable[TopicLabel], prior: float = DEFAULT_PRIOR) -> RelevanceModels:
    """A model for each topic with at least one label (the latest label per post wins upstream)."""
    by_topic: dict[str, list[TopicLabel]] = defaultdict(list)
    for label in labels:
        by_topic[label.topic].append(label)
    result = RelevanceModels()
    digest = hashlib.sha256(f"prior={prior}\n".encode())
    for topic, rows in sorted(by_topic.items()):
        y = np.array([float(r.relevant) for r in rows])
        result.counts[topic] = (int(y.sum()), len(rows) - int(y.sum()))
        vectorizer = _vectorizer()
        try:
            matrix = vectorizer.fit_transform([r.doc for r in rows])
        except ValueError:  # only empty documents: nothing to compare with
            continue
        result.models[topic] = TopicModel(vectorizer, matrix, y, prior)
        digest.update("".join(f"{topic}\t{int(v)}\t{r.doc}\n" for v, r in zip(y, rows)).encode())
    if result.models:
        result.version = digest.hexdigest()[:8]
    return result


def near_copy_probability(irrelevant: int, prior: float = DEFAULT_PRIOR, similarity: float = 0.9) -> float:
    """P(relevant) of a post this similar to ``irrelevant`` posts labelled irrelevant (and no others)."""
    weight = similarity**SHARPNESS
    return prior / (prior + irrelevant * weight)
