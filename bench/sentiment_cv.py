"""How the trained model's classifier and C were chosen: k-fold cross-validation on train files only
(weibo2018 train.txt; SMP2020 usual train + virus train, a fixed random subsample), in-domain rows
only, the pipeline's features fitted on each fold's training part. Never reads an eval or test split.

    .venv/bin/python bench/sentiment_cv.py [--folds 3] [--smp-rows 12000] [--c 1,3,10]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datasets as ds  # noqa: E402
import numpy as np  # noqa: E402
from sentiment_eval import folds, join  # noqa: E402

from config import SHIPPED_DIR, load_config  # noqa: E402
from nlp.corpus import load_lexicon  # noqa: E402
from nlp.job import build_segmenter  # noqa: E402
from nlp.sentiment import make_pipeline, to_docs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--smp-rows", type=int, default=12000)
    parser.add_argument("--weibo-rows", type=int, default=0, help="Only the first rows (0: all; for a smoke run).")
    parser.add_argument("--c", default="1,3,10")
    args = parser.parse_args()
    seg = build_segmenter(load_config(SHIPPED_DIR, environ={}))
    lexicon = load_lexicon(seg.normalize)
    smp = join(ds.smp_usual_train(), ds.smp_json("virus_train.txt"))
    pick = list(range(len(smp[0])))
    random.Random(1).shuffle(pick)
    pick = pick[: args.smp_rows]
    weibo = ds.weibo2018_train()
    if args.weibo_rows:
        weibo = weibo[0][: args.weibo_rows], weibo[1][: args.weibo_rows]
    sets = {"weibo2018 train": weibo, "smp2020 train": ([smp[0][i] for i in pick], [smp[1][i] for i in pick])}
    grid = [(nb, float(c)) for nb in (False, True) for c in args.c.split(",")]
    for name, (texts, y) in sets.items():
        docs = to_docs(seg, texts)
        accs: dict[tuple[bool, float], list[float]] = {g: [] for g in grid}
        for train, test in folds((docs, y), args.folds):
            for nb, c in grid:
                started = time.process_time()
                pipe = make_pipeline(lexicon, c, nb).fit(train[0], np.asarray(train[1]))
                acc = float(((pipe.predict_proba(test[0])[:, 1] >= 0.5) == np.asarray(test[1])).mean())
                accs[(nb, c)].append(acc)
                print(
                    f"  {name} {'NB-LR' if nb else 'LR'} C={c:g}: {acc:.4f} ({time.process_time() - started:.0f}s)",
                    flush=True,
                )
        for (nb, c), values in accs.items():
            print(
                f"{name:16} {'NB-LR' if nb else 'LR':5} C={c:<4g} mean {np.mean(values):.4f} "
                f"({' '.join(f'{v:.3f}' for v in values)})",
                flush=True,
            )


if __name__ == "__main__":
    main()
