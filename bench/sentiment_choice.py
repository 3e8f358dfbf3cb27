"""The default model on the sets its design was chosen on (train files only): weibo2018 train.txt and
fixed 6,000-row random subsamples (seed 0) of the SMP2020 usual train and virus train files. The eval
files reported by ``sentiment_eval.py`` are the held-out check; this prints the choice-set figures
quoted in docs/BENCHMARKS.md for the current default model.

    .venv/bin/python bench/sentiment_choice.py      (needs the bench extra: xlrd)
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datasets as ds  # noqa: E402

from config import SHIPPED_DIR, load_config  # noqa: E402
from nlp.job import build_segmenter  # noqa: E402
from nlp.modelstore import build_default  # noqa: E402
from nlp.sentiment import to_docs  # noqa: E402
from nlp.training import metrics  # noqa: E402

SUBSAMPLE = 6000


def choice_sets() -> dict[str, ds.Data]:
    rng = random.Random(0)

    def sub(data: ds.Data) -> ds.Data:
        idx = list(range(len(data[0])))
        rng.shuffle(idx)
        return [data[0][i] for i in idx[:SUBSAMPLE]], [data[1][i] for i in idx[:SUBSAMPLE]]

    return {
        "weibo2018 train.txt": ds.weibo2018_train(),
        "smp2020 usual train (6,000)": sub(ds.smp_usual_train()),
        "smp2020 virus train (6,000)": sub(ds.smp_json("virus_train.txt")),
    }


def main() -> None:
    seg = build_segmenter(load_config(SHIPPED_DIR, environ={}))
    model = build_default(seg)
    print(f"default model {model.version} (valence prior k = {model.info.get('valence_prior')})")
    accuracies = []
    for name, (texts, y) in choice_sets().items():
        accuracies.append(float(metrics(y, model.scores(to_docs(seg, texts)), 0.5)["accuracy"]))
        print(f"  {name:30} n={len(y):6d}  acc {accuracies[-1]:.3f}")
    print(f"  mean accuracy {sum(accuracies) / len(accuracies):.3f}")


if __name__ == "__main__":
    main()
