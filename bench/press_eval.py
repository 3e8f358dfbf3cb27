"""Relevance and negativity toward the office on the press-office dev set (bench/press_devset.tsv).

Every post goes through the real analysis path: the shipped config (config/topics.yaml), the segmenter,
compiled rules and sentiment model built as ``yuqing classify`` builds them (nlp.batch.make_analyzer).

- relevant: the analysis matched at least one topic. Precision and recall against the ``relevant`` label.
- negative toward the office: ``PostAnalysis.negative``. Precision, recall and F1 against ``negative``,
  (a) with the shipped default model and weights, and (b) 5-fold: for each fold the stance weights are
  trained on the other four folds (nlp.stance.fit_stance, as ``yuqing train`` would) and predict the fold.

Usage: python bench/press_eval.py [--models-dir DIR] [--errors]
  --models-dir  where the default sentiment model is built / cached (default /tmp/yuqing-press-bench)
  --errors      also print the ids of the relevance and negativity mistakes (never the texts)

Exits 0 with a message when ../shared/data (YUQING_SHARED_DATA) is absent.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from press_devset import DataMissing, Row, load  # noqa: E402

from config import SHIPPED_DIR, load_config  # noqa: E402
from nlp.analyzer import Analyzer, PostAnalysis  # noqa: E402
from nlp.batch import make_analyzer  # noqa: E402
from nlp.stance import FEATURES, StanceWeights, fit_stance  # noqa: E402

FOLDS = 5


def prf(truth: Sequence[int], predicted: Sequence[bool]) -> tuple[float, float, float, int, int, int]:
    """Precision, recall, F1 and the TP / FP / FN counts."""
    tp = sum(1 for t, p in zip(truth, predicted) if t and p)
    fp = sum(1 for t, p in zip(truth, predicted) if not t and p)
    fn = sum(1 for t, p in zip(truth, predicted) if t and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp, fp, fn


def line(name: str, truth: Sequence[int], predicted: Sequence[bool]) -> str:
    p, r, f, tp, fp, fn = prf(truth, predicted)
    return f"{name:48} P {p:.3f}  R {r:.3f}  F1 {f:.3f}   (TP {tp}, FP {fp}, FN {fn})"


def kfold_negative(
    analyzer: Analyzer, rows: Sequence[Row], results: Sequence[PostAnalysis]
) -> tuple[list[bool], list[StanceWeights]]:
    """Each fold's negativity from stance weights trained on the other folds (and the weights)."""
    vectors = [r.stance.vector() if r.stance else [0.0] * len(FEATURES) for r in results]
    predicted = [False] * len(rows)
    learned = []
    for fold in range(FOLDS):
        train = [i for i, row in enumerate(rows) if row.fold != fold]
        weights = fit_stance([vectors[i] for i in train], [rows[i].negative for i in train])
        learned.append(weights)
        for i, row in enumerate(rows):
            if row.fold == fold:
                predicted[i] = weights.probability(vectors[i]) >= analyzer.negative_threshold
    return predicted, learned


def mistakes(name: str, rows: Sequence[Row], truth: Sequence[int], predicted: Sequence[bool]) -> None:
    for kind, want in (("false positives", 0), ("false negatives", 1)):
        ids = [f"{r.path}#{r.item}" for r, t, p in zip(rows, truth, predicted) if t == want and p != bool(want)]
        print(f"\n{name} {kind} ({len(ids)}):")
        for item in ids:
            print(f"  {item}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path, default=Path("/tmp/yuqing-press-bench"))
    parser.add_argument("--errors", action="store_true")
    args = parser.parse_args()
    logging.getLogger("jieba").setLevel(logging.WARNING)
    try:
        loaded = load()
    except DataMissing as exc:
        print(f"skipped: {exc}")
        return 0
    config = load_config(SHIPPED_DIR, environ={"YUQING_DATA_DIR": str(args.models_dir)})
    analyzer = make_analyzer(config)
    rows = [row for row, _ in loaded]
    start = time.perf_counter()
    results = analyzer.analyze([item for _, item in loaded])
    seconds = time.perf_counter() - start
    relevant = [r.relevant for r in rows]
    negative = [r.negative for r in rows]
    print(f"dev set: {len(rows)} posts, {sum(relevant)} relevant, {sum(negative)} negative toward the office")
    print(f"analysis: {seconds:.1f}s, model {analyzer.model.version}, rules {analyzer.rules.version}\n")
    matched = [bool(r.topics) for r in results]
    default = [r.negative for r in results]
    kfold, learned = kfold_negative(analyzer, rows, results)
    print(line("relevant (>=1 topic, shipped topics.yaml)", relevant, matched))
    print(line("negative toward the office, default", negative, default))
    print(line(f"negative toward the office, {FOLDS}-fold trained", negative, kfold))
    mood = [bool(r.stance and r.stance.model_score >= analyzer.negative_threshold) for r in results]
    print(line("(the post's mood alone: sentiment model)", negative, mood))
    mean = [sum(w.weights[k] for w in learned) / len(learned) for k in range(len(FEATURES))]
    bias = sum(w.bias for w in learned) / len(learned)
    print(
        "\nlearned stance weights (mean of the folds): bias "
        + f"{bias:+.2f}, "
        + ", ".join(f"{name} {w:+.2f}" for name, w in zip(FEATURES, mean))
    )
    if args.errors:
        mistakes("relevant", rows, relevant, matched)
        mistakes("negative (default)", rows, negative, default)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
