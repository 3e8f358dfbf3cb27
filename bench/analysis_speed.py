"""Speed of the full analysis of 200-character posts, against jieba's own segmentation of the same text.

"Full analysis" = normalisation (full-width folding, traditional → simplified), segmentation with
every keyword, topic rules, negative score with reason words, learned relevance, MinHash fingerprint
and risk score: ``Analyzer.analyze`` plus ``risk_score``. Times are CPU seconds of this process
(one core), so other load on the machine does not inflate them.

    .venv/bin/python bench/analysis_speed.py [--posts 5000] [--models-dir /tmp/yuqing-bench-models]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jieba  # noqa: E402

from config import SHIPPED_DIR, load_config  # noqa: E402
from nlp.analyzer import Analyzer  # noqa: E402
from nlp.job import build_segmenter  # noqa: E402
from nlp.modelstore import ensure_model  # noqa: E402
from nlp.risk import RiskInput, risk_score  # noqa: E402
from nlp.rules import compile_topics  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"


def posts_200(n: int) -> list[str]:
    """n texts of 200 characters cut from real Weibo posts (or synthetic text where data is absent)."""
    path = SHARED / "weibo2018" / "train.txt"
    if path.exists():
        stream = "".join(
            line.split(",", 2)[2] for line in path.read_text(encoding="utf-8").splitlines() if line.count(",") >= 2
        )
    else:
        rng = random.Random(3)
        stream = "".join(
            rng.choice("民警派出所网友视频显示当地回应称调查处理群众执法今天我们的了是在") for _ in range(n * 200)
        )
    stream = (stream * (n * 200 // len(stream) + 1))[: n * 200]
    return [stream[i * 200 : (i + 1) * 200] for i in range(n)]


def cpu(fn: object) -> float:
    start = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--models-dir", type=Path, default=Path("/tmp/yuqing-bench-models"))
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    logging.getLogger("jieba").setLevel(logging.WARNING)
    config = load_config(SHIPPED_DIR, environ={})
    texts = posts_200(args.posts)
    segmenter = build_segmenter(config)
    analyzer = Analyzer(
        segmenter, compile_topics(config.topics, segmenter.normalize), ensure_model(args.models_dir, segmenter)
    )
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in config.topics.all_keywords():
        tokenizer.add_word(word)
    analyzer.analyze([("", t) for t in texts[:200]])  # warm up
    jieba_s = cpu(lambda: [tokenizer.lcut(t) for t in texts])
    rjieba_s = cpu(lambda: [segmenter.cut(t) for t in texts])

    def full() -> None:
        for i in range(0, len(texts), args.batch):
            for result in analyzer.analyze([("", t) for t in texts[i : i + args.batch]]):
                risk_score(RiskInput(result.negative_score, result.negative, result.topic_weight(analyzer.rules)))

    full_s = cpu(full)
    n = len(texts)
    print(f"{n} posts of 200 characters (CPU seconds, one process)")
    print(f"jieba (pure Python) segmentation: {jieba_s:.2f}s = {n / jieba_s:,.0f} posts/s")
    print(f"rjieba segmentation + normalisation: {rjieba_s:.2f}s = {n / rjieba_s:,.0f} posts/s")
    print(
        f"full analysis: {full_s:.2f}s = {n / full_s:,.0f} posts/s = {full_s / jieba_s:.2f}x jieba's segmentation time"
    )


if __name__ == "__main__":
    main()
