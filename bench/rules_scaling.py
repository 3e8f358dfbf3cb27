"""Rule matching time with 100 keywords against 10,000 keywords (and topics with expressions).

Keywords are real words from jieba's dictionary, spread over topics of 10 keywords each, drawn
from two pools: any 2–4 character word (many are common, so a longer list also finds more matches,
which is output work) and 4-character phrases (rare in text, like admins' keywords); every fifth topic also has an expression with NEAR and negation. The texts are 200-character
real Weibo posts. Times are CPU seconds per post of ``RuleSet.match`` on normalised text, the best
of five passes.

    .venv/bin/python bench/rules_scaling.py [--posts 5000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jieba  # noqa: E402
from analysis_speed import posts_200  # noqa: E402

from config.topics_model import TopicsFile  # noqa: E402
from nlp.rules import compile_topics  # noqa: E402
from nlp.segment import normalize  # noqa: E402


def dictionary_words() -> list[str]:
    path = Path(jieba.__file__).with_name("dict.txt")
    words = [line.split(" ", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()]
    return sorted({w for w in words if 2 <= len(w) <= 4})


def topics_with(keywords: list[str]) -> TopicsFile:
    topics = []
    for i in range(0, len(keywords), 10):
        words = keywords[i : i + 10]
        topic = {"id": f"t{i}", "name": f"T{i}", "keywords": words}
        if (i // 10) % 5 == 0:
            topic["expr"] = f"({words[0]} | {words[1]}) NEAR/20 ({words[2]} | {words[3]}) | {words[4]} & !{words[5]}"
        topics.append(topic)
    return TopicsFile.model_validate({"topics": topics})


REPEATS = 5
"""Each figure is the best of this many passes over the texts (as ``timeit`` reports): on a shared
machine the slower passes measure the neighbours, not the code."""


def per_post_us(count: int, pool: list[str], texts: list[str]) -> tuple[float, int]:
    rules = compile_topics(topics_with(pool[:count]))
    rules.match("", texts[0])
    best = float("inf")
    for _ in range(REPEATS):
        start = time.process_time()
        matched = sum(len(rules.match("", t)) for t in texts)
        best = min(best, time.process_time() - start)
    return best / len(texts) * 1e6, matched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=5000)
    args = parser.parse_args()
    texts = [normalize(t) for t in posts_200(args.posts)]
    words = dictionary_words()
    pools = {
        "any 2-4 character dictionary words (common words: matches grow with the list)": words,
        "4-character dictionary phrases (like admins' keywords: matches stay rare)": [w for w in words if len(w) == 4],
    }
    for name, pool in pools.items():
        random.Random(5).shuffle(pool)
        print(name)
        results = {n: per_post_us(n, pool, texts) for n in (100, 1000, 10_000)}
        for n, (us, matched) in results.items():
            print(
                f"  {n:>6} keywords ({n // 10} topics): {us:7.1f} µs per post, {matched} topic matches in {len(texts)} posts"
            )
        print(f"  10,000 / 100 keywords time ratio: {results[10_000][0] / results[100][0]:.2f}x")


if __name__ == "__main__":
    main()
