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
from nlp.modelstore import DEFAULT_C, DEFAULT_RECIPE, FITTING, save_model
from nlp.segment import Segmenter
from nlp.sentiment import SentimentModel, raw_post_doc, to_docs, train
from yuqing.base.progress import Progress

log = logging.getLogger(__name__)

LABEL_WEIGHT = 2.0
"""An analyst's label counts as this many rows of the admin's file."""
DEFAULT_CORPUS_UNTIL = 1000
"""With this many in-domain rows (admin's file + analysts' labels) or more, the default corpus is left
out unless asked for: it no longer helps (``bench/sentiment_crossover.py``: with / without it, weibo2018
0.773 / 0.769 at 300 rows, 0.807 / 0.817 at 1,000, 0.834 / 0.848 at 3,000; SMP2020 0.738 / 0.735 at
300, 0.769 / 0.769 at 1,000, 0.794 / 0.814 at 3,000)."""
TRAINED_C = 3.0
"""Inverse regularisation of the NB-LR classifier of a model trained with in-domain data (chosen by
3-fold cross-validation on the weibo2018 and SMP2020 train files; see docs/BENCHMARKS.md)."""


@dataclass(frozen=True)
class TrainingData:
    """What ``yuqing train sentiment`` learns from."""

    texts: Sequence[str] = ()
    labels: Sequence[int] = ()
    name: str = ""


def own_weight(corpus_size: int, own_size: int) -> float:
    """Weight of the admin's rows and analysts' labels: together they count at least as much as the
    default corpus, so a few thousand in-domain rows are not drowned by tens of thousands of reviews."""
    return max(1.0, corpus_size / own_size) if own_size else 1.0


def uses_default_corpus(with_default: bool | None, own_rows: int, label_rows: int) -> bool:
    """Whether training mixes in the default corpus: as asked, else (``None``) while the in-domain rows
    (admin's file + analysts' labels) number fewer than ``DEFAULT_CORPUS_UNTIL``; always without a file."""
    if not own_rows:
        return True
    if with_default is None:
        return own_rows + label_rows < DEFAULT_CORPUS_UNTIL
    return with_default


def fit_sentiment(
    segmenter: Segmenter,
    data: TrainingData | None = None,
    label_docs: Sequence[str] = (),
    label_y: Sequence[int] = (),
    with_default: bool | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> SentimentModel:
    """Train a model on the default corpus, an admin's data and analysts' labelled documents. The
    default corpus is used when ``with_default`` is true, or when it is None (auto) and there are fewer
    than ``DEFAULT_CORPUS_UNTIL`` in-domain rows; always when there is no admin data."""
    lexicon = load_lexicon(segmenter.normalize)
    mixed = uses_default_corpus(with_default, len(data.texts) if data is not None else 0, len(label_docs))
    corpus = default_corpus(lexicon) if mixed else Corpus()
    docs = to_docs(segmenter, corpus.texts, progress)
    labels, weights = list(corpus.labels), list(corpus.weights)
    sources = dict(corpus.sources)
    own = len(data.texts) if data is not None else 0
    weight = own_weight(len(docs), own + len(label_docs))
    if data is not None:
        docs += to_docs(segmenter, data.texts, progress)
        labels += list(data.labels)
        weights += [weight] * own
        sources[data.name or "data"] = own
    if label_docs:
        docs += list(label_docs)
        labels += list(label_y)
        weights += [LABEL_WEIGHT * weight] * len(label_docs)
        sources["analyst-labels"] = len(label_docs)
    kind = "default" if data is None and not label_docs else "custom"
    info = {
        "kind": kind,
        "sources": sources,
        **({"recipe": DEFAULT_RECIPE} if kind == "default" else {}),
        **({"trained_at": now.isoformat()} if now else {}),
    }
    # with in-domain rows: NB-LR, which gains on short posts (NB-LR C=3: weibo2018 CV 0.859 vs LR 0.842);
    # the default corpus alone keeps the plain LR of the default model (same model as ``build_default``)
    own_rows = bool(own or label_docs)
    if progress:
        progress(FITTING, 0, None)
    model = train(
        docs,
        labels,
        lexicon,
        weights=weights,
        c=TRAINED_C if own_rows else DEFAULT_C,
        nb=own_rows,
        prior=mixed,
        info=info,
    )
    model.version = f"{kind}-{model.version}"
    if progress:
        progress(FITTING, 1, 1)
    return model


def train_sentiment(
    config: Config,
    session: Session | None,
    segmenter: Segmenter,
    now: datetime,
    data: TrainingData | None = None,
    with_default: bool | None = None,
    progress: Progress | None = None,
) -> SentimentModel:
    """Train on the default corpus (optional), the admin's data and the analysts' labels stored in the
    database; save the model as a new version and make it current."""
    label_docs: list[str] = []
    label_y: list[int] = []
    if session is not None:
        label_docs, label_y = sentiment_labels(session, lambda t, x: raw_post_doc(segmenter, t, x))
    model = fit_sentiment(segmenter, data, label_docs, label_y, with_default, now, progress)
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
    return {
        "rows": int(len(y)),
        "accuracy": round(float((p == y).mean()) if len(y) else 0.0, 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "confusion": {
            "negative": {"negative": tp, "not_negative": fn},
            "not_negative": {"negative": fp, "not_negative": tn},
        },
    }
