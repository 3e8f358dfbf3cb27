"""Where does the default corpus stop helping a model trained with an admin's own rows? Trains the way
``yuqing train sentiment --data`` does (``nlp.training.fit_sentiment``) on subsamples of growing size
of a train split, with and without the default corpus, and scores each on held-out rows only.

Sets: weibo2018 train.txt (fold 1 of the 3 folds of ``sentiment_eval.py`` held out) and SMP2020 usual
+ virus train (scored on usual eval). Binary negative vs not.

    .venv/bin/python bench/sentiment_crossover.py [--sizes 300,1000,3000]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import datasets as ds  # noqa: E402
from sentiment_eval import folds, join  # noqa: E402

from config import SHIPPED_DIR, load_config  # noqa: E402
from nlp.job import build_segmenter  # noqa: E402
from nlp.sentiment import to_docs  # noqa: E402
from nlp.training import TrainingData, fit_sentiment, metrics  # noqa: E402


def subsample(data: ds.Data, size: int, seed: int = 1) -> ds.Data:
    index = list(range(len(data[0])))
    random.Random(seed).shuffle(index)
    index = index[:size]
    return [data[0][i] for i in index], [data[1][i] for i in index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="300,1000,3000")
    args = parser.parse_args()
    seg = build_segmenter(load_config(SHIPPED_DIR))
    train_w, test_w = folds(ds.weibo2018_train(), 3)[0]
    sets = {
        "weibo2018 fold 1": (train_w, test_w),
        "smp2020 train → usual eval": (
            join(ds.smp_usual_train(), ds.smp_json("virus_train.txt")),
            ds.smp_json("usual_eval_labeled.txt"),
        ),
    }
    for name, (train, test) in sets.items():
        test_docs = to_docs(seg, test[0])
        for size in [int(s) for s in args.sizes.split(",")]:
            part = subsample(train, size)
            row = []
            for with_default in (True, False):
                model = fit_sentiment(seg, TrainingData(part[0], part[1], "bench"), with_default=with_default)
                row.append(metrics(test[1], model.scores(test_docs), 0.5)["accuracy"])
            print(f"  {name:28} {size:6d} rows: with default corpus {row[0]:.3f}, without {row[1]:.3f}", flush=True)


if __name__ == "__main__":
    main()
