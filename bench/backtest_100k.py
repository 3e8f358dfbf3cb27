"""Backtest speed: `yuqing rules backtest` over 100,000 stored posts (target: under 10 s).

Seeds a temporary SQLite database with 100,000 synthetic Chinese posts (~300 characters each, a
everyday vocabulary, one in seven with a sentence about the political-legal sector), then times the same code path the command runs: streaming
the posts from the database, normalising them, and matching the topic before and after a change.

    python bench/backtest_100k.py [--posts 100000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from config import load_config
from nlp.backtest import backtest, changed_topic, pair_rules
from nlp.tuning import folder, stored_posts
from storage.db import make_engine, upgrade
from storage.models import PostRow
from yuqing.base.post import url_hash

EVERYDAY = (
    "天气 降温 比赛 米粉 道路 建设 学校 医院 社区 活动 宣传 居民 小区 物业 车棚 工资 市场 价格 "
    "孩子 老师 公园 地铁 公交 房价 招聘 游客 景区 美食 超市 快递 手机 网友 视频 关注"
).split()
SECTOR = ("民警 辅警 派出所 法院 检察院 执法 通报 调查 处理 老人 纠纷 推搡 殴打 交警 律师 监狱").split()
SECTOR_SHARE = 0.15  # about one post in seven touches the political-legal sector


def seed(path: Path, count: int) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(7)
    now = datetime.now(timezone.utc)
    rows = []
    for n in range(count):
        sentences = ["".join(rng.choices(EVERYDAY, k=4)) for _ in range(18)]
        if rng.random() < SECTOR_SHARE:
            sentences[rng.randrange(18)] = "".join(rng.choices(SECTOR, k=4))
        text = "，".join(sentences)
        link = f"https://bench.example.cn/p/{n}"
        when = now - timedelta(minutes=rng.randrange(60 * 24 * 7))
        rows.append(
            {
                "url_hash": url_hash(link),
                "source_id": "bench",
                "url": link,
                "canonical_url": link,
                "title": "".join(rng.choices(EVERYDAY, k=5)),
                "text": text,
                "published_at": when,
                "fetched_at": when,
                "language": "zh",
                "extras": {},
            }
        )
    with Session(engine) as session:
        for start in range(0, count, 10_000):
            session.execute(insert(PostRow), rows[start : start + 10_000])
        session.commit()
    engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    config = load_config(None, {})
    with tempfile.TemporaryDirectory() as tmp:
        seeded = time.perf_counter()
        url = seed(Path(tmp) / "bench.db", args.posts)
        print(f"seeded {args.posts} posts in {time.perf_counter() - seeded:.1f} s")
        engine = make_engine(url)
        start = time.perf_counter()
        fold = folder(config)
        topic = config.topics.get("police")
        assert topic is not None
        rules = pair_rules(config.topics, topic, changed_topic(topic, add=["推搡"], remove=["辅警"]), fold)
        with Session(engine) as session:
            since = datetime.now(timezone.utc) - timedelta(days=7, minutes=5)
            result = backtest(rules, stored_posts(session, since), fold)
        elapsed = time.perf_counter() - start
        engine.dispose()
    print(
        f"backtest of {result.scanned} posts: {elapsed:.2f} s ({result.scanned / elapsed:,.0f} posts/s); "
        f"matched before {result.before}, after {result.after} (target: 100,000 posts under 10 s)"
    )


if __name__ == "__main__":
    main()
