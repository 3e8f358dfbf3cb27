"""Training and evaluating the sentiment model from the CLI: admin data + analysts' labels."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from config import Config
from nlp.corpus import Corpus, default_corpus, load_lexicon
from nlp.labels import sentiment_labels
from nlp.modelstore import DEFAULT_C, save_model
from nlp.segment import Segmenter
from nlp.sentiment import SentimentModel, raw_post_doc, to_docs, train

log = logging.getLogger(__name__)

LABEL_WEIGHT = 2.0
"""An analyst's label counts as this many rows of the admin's file."""


@dataclass(frozen=True)
class TrainingData:
    """What ``yuqing train sentiment`` learns from."""

    texts: Sequence[str] = ()
    labels: Sequence[int] = ()
    name: str = ""


def train_sentiment(config: Config, session: Session | None, segmenter: Segmenter, now: datetime,
                    data: TrainingData | None = None, with_default: bool = True) -> SentimentModel:
    """Train on the default corpus (optional), the admin's data and the analysts' labels; save the
    model as a new version and make it current."""
    lexicon = load_lexicon(segmenter.normalize)
    corpus = default_corpus(lexicon) if with_default or not data else Corpus()
    docs = to_docs(segmenter, corpus.texts)
    labels, weights = list(corpus.labels), list(corpus.weights)
    sources = dict(corpus.sources)
    if data is not None:
        docs += to_docs(segmenter, data.texts)
        labels += list(data.labels)
        weights += [1.0] * len(data.texts)
        sources[data.name or "data"] = len(data.texts)
    if session is not None:
        label_docs, label_y = sentiment_labels(session, lambda t, x: raw_post_doc(segmenter, t, x))
        docs += label_docs
        labels += label_y
        weights += [LABEL_WEIGHT] * len(label_docs)
        sources["analyst-labels"] = len(label_docs)
    kind = "default" if data is None and not sources.get("analyst-labels") else "custom"
    model = train(docs, labels, lexicon, weights=weights, c=DEFAULT_C,
                  info={"kind": kind, "sources": sources, "trained_at": now.isoformat()})
    model.version = f"{kind}-{model.version}"
    save_model(config.models_dir, model)
    return model


def metrics(y_true: Sequence[int], scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """Accuracy, negative-class precision/recall/F1 and the confusion matrix (rows: true class)."""
    y = np.asarray(y_true, dtype=int)
    p = (np.asarray(scores) >= threshold).astype(int)
    tp = int(((p == 1) & (y == 1)).sum())
    fp = int(((p == 1) & (y == 0)).sum())
    fn = int(((p == 0) & (y == 1)).sum())
    tn = int(((p == 0) & (y == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"rows": int(len(y)), "accuracy": round(float((p == y).mean()) if len(y) else 0.0, 4),
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "confusion": {"negative": {"negative": tp, "not_negative": fn},
                          "not_negative": {"negative": fp, "not_negative": tn}}}
