"""Benchmark: build the daily digest over a day of 100,000 stored posts.

Creates a fresh database (SQLite in a temporary directory by default, or ``--db-url``), stores
``--posts`` posts for the day before the send time (about 20 % relevant, 5 % negative, a few
hundred events, crawl runs for 30 sources, engagement numbers, places on half the posts and about 25
distinct words per relevant post for 热词), then times ``build_digest`` (every query, the
masking, the 7-day chart) and the rendering of HTML and text. Prints the figures.

    .venv/bin/python bench/digest_100k.py
    .venv/bin/python bench/digest_100k.py --posts 100000 --db-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert

from alerts.chart import bar_chart
from alerts.render import digest_html, digest_text, environment
from alerts.service import build_digest, select_groups
from config import SHIPPED_DIR
from storage.context import AppContext
from storage.db import make_engine, upgrade
from storage.models import AnalysisRow, CrawlRunRow, EventRow, PostRow, PostTopicRow, PostWordRow
from yuqing.base.post import url_hash

SEND_AT = datetime(2026, 11, 27, 0, 0, tzinfo=timezone.utc)
TOPICS = [
    ("police", "民警"),
    ("courts", "法院"),
    ("procuratorate", "检察院"),
    ("justice", "监狱"),
    ("violent-enforcement", "殴打"),
]
SOURCES = 30
PLACES = ["广东省/深圳市", "广东省/广州市", "广东省", "北京市", "湖南省/长沙市", "江苏省/南京市"]
# a vocabulary for post_words: 2,000 words, about 25 per relevant post (Zipf-like: a few very frequent)
VOCABULARY = [f"词{i}" for i in range(2000)]
TEXT = "据网友反映，某地{term}在处理一起纠纷时态度粗暴，引发围观。当事人联系电话13812345678，要求给个说法。" * 3


def write_config(root: Path, db_url: str) -> Path:
    config = root / "config"
    config.mkdir()
    for path in SHIPPED_DIR.glob("*.yaml"):
        shutil.copy(path, config / path.name)
    sources = "sources:\n" + "".join(
        f"  - {{id: s{i}, name: 来源{i}, kind: rss, start_urls: ['http://127.0.0.1/{i}.xml'], "
        f"media_level: {['中央级', '省级', '市级'][i % 3]}, region: 广东省}}\n"
        for i in range(SOURCES)
    )
    (config / "sources.yaml").write_text(sources, encoding="utf-8")
    settings = (config / "settings.yaml").read_text(encoding="utf-8")
    settings = settings.replace("\ndata_dir:\n", f"\ndata_dir: {root / 'data'}\n", 1)
    settings = settings.replace("\ndatabase_url:\n", f"\ndatabase_url: {db_url}\n", 1)
    (config / "settings.yaml").write_text(settings, encoding="utf-8")
    return config


def rows(n: int, rng: random.Random) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    posts, analyses, topics, words = [], [], [], []
    for i in range(1, n + 1):
        at = SEND_AT - timedelta(seconds=rng.uniform(1, 86_399))
        topic, term = TOPICS[i % len(TOPICS)]
        relevant = rng.random() < 0.2
        negative = relevant and rng.random() < 0.25
        url = f"https://news{i % SOURCES}.example.cn/{i}.html"
        title = f"第{i}条：某地{term}处理纠纷引发关注" if relevant else f"第{i}条：本地生活资讯"
        posts.append(
            {
                "id": i,
                "url_hash": url_hash(url),
                "source_id": f"s{i % SOURCES}",
                "url": url,
                "canonical_url": url,
                "title": title,
                "text": TEXT.format(term=term),
                "author": None,
                "published_at": at,
                "fetched_at": at,
                "language": "zh",
                "likes": rng.randrange(500) if i % 3 else None,
                "comments": rng.randrange(100) if i % 3 else None,
                "reposts": rng.randrange(50) if i % 3 else None,
                "views": rng.randrange(100_000) if i % 3 else None,
                "extras": {},
            }
        )
        entry = (
            [
                {
                    "topic": topic,
                    "terms": [
                        {
                            "term": term,
                            "field": "title",
                            "start": title.index(term),
                            "end": title.index(term) + len(term),
                        }
                    ],
                }
            ]
            if relevant
            else []
        )
        risk = rng.choice([1, 1, 1, 2, 2, 3]) if negative else 0
        analyses.append(
            {
                "post_id": i,
                "analyzed_at": at,
                "relevant": relevant,
                "topics": entry,
                "negative_score": 0.8 if negative else 0.1,
                "negative": negative,
                "reasons": [],
                "risk_level": risk,
                "risk_score": risk / 3,
                "event_id": (i % 300) + 1 if negative and i % 4 == 0 else None,
                "places": [PLACES[i % len(PLACES)]] if i % 2 else [],
            }
        )
        if relevant:
            topics.append({"post_id": i, "topic_id": topic, "terms": entry[0]["terms"], "relevance": 1.0})
            chosen = {VOCABULARY[min(int(rng.paretovariate(0.6)) - 1, 1999)] for _ in range(25)}
            words.extend({"post_id": i, "word": w} for w in chosen)
    return posts, analyses, topics, words


def seed(engine, n: int) -> float:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    start = time.perf_counter()
    posts, analyses, topics, words = rows(n, rng)
    with engine.begin() as conn:
        conn.execute(insert(PostRow), posts)
        conn.execute(
            insert(EventRow),
            [
                {
                    "id": e,
                    "title": f"事件{e}",
                    "first_seen": SEND_AT - timedelta(hours=20),
                    "last_seen": SEND_AT,
                    "post_count": 5 + e % 40,
                    "source_count": 2 + e % 9,
                    "risk_level": 1 + e % 3,
                    "risk_score": 0.5,
                    "representative_post_id": e * 4,
                    "extras": {},
                }
                for e in range(1, 301)
            ],
        )
        conn.execute(insert(AnalysisRow), analyses)
        conn.execute(insert(PostTopicRow), topics)
        conn.execute(insert(PostWordRow), words)
        conn.execute(
            insert(CrawlRunRow),
            [
                {
                    "source_id": f"s{s}",
                    "started_at": SEND_AT - timedelta(hours=h),
                    "status": "ok" if s % 10 else "failed",
                    "items": 100,
                    "new": 80,
                    "stats": {},
                    "error_summary": "",
                }
                for s in range(SOURCES)
                for h in range(1, 24)
            ],
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--db-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db_url = args.db_url or f"sqlite:///{root / 'bench.db'}"
        engine = make_engine(db_url)
        upgrade(engine)
        print(f"database: {engine.url.render_as_string(hide_password=True).split('?')[0]}")
        print(f"stored {args.posts:,} posts in {seed(engine, args.posts):.1f} s; load average {os.getloadavg()[0]:.1f}")
        engine.dispose()
        app = AppContext.create(write_config(root, db_url))
        group = select_groups(app, None)[0]
        env = environment()
        for run in range(1, args.repeat + 1):
            t0 = time.perf_counter()
            d = build_digest(app, group, SEND_AT, SEND_AT, chart=False)
            tq = time.perf_counter()
            d.chart = bar_chart(d.series)
            t1 = time.perf_counter()
            html, text = digest_html(env, d), digest_text(env, d)
            t2 = time.perf_counter()
            counts = ", ".join(f"{c.label} {c.value}" for c in d.summary)
            print(
                f"run {run}: digest built in {t1 - t0:.2f} s (queries {tq - t0:.2f} s, chart {t1 - tq:.2f} s), "
                f"rendered in {t2 - t1:.2f} s "
                f"({counts}; {len(d.items)} items, {len(d.events)} events, "
                f"{len(d.analyses.hot_terms) if d.analyses else 0} hot terms, {len(html) // 1024} KiB HTML, "
                f"{len(text) // 1024} KiB text)"
            )
        app.close()


if __name__ == "__main__":
    main()
