"""Benchmark: the console's review list and search over 1,000,000 stored posts (SQLite).

Builds once (cached at ``--db``, default /tmp/yuqing-web-1m.db; ``--rebuild`` starts again) a
database of ``--posts`` posts spread over the 60 days before NOW, every one analysed (about 20 %
relevant, 5 % negative, topics, events) and in the full-text index (about 40 words each from a
vocabulary where a few words are common), by bulk insert rather than the crawler. Then times 50
requests each (median and p95) through the real Starlette app (TestClient, logged in as an
analyst): the review list's default view (relevant, last 24 h, newest first), the list filtered
on a topic, and a search for a common word over 24 hours and over 30 days. The issue's targets:
list < 300 ms, search < 500 ms at p95.

    .venv/bin/python bench/web_1m.py
    .venv/bin/python bench/web_1m.py --requests 20
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from digest_100k import TOPICS, write_config  # the digest benchmark's config
from sqlalchemy import insert, select, text
from starlette.testclient import TestClient
from synthetic import analysed_post

from storage.context import AppContext
from storage.db import make_engine, upgrade
from storage.models import AnalysisRow, EventRow, PostRow, PostTopicRow, UserRow
from storage.search import index_words
from storage.users import add_user
from web.app import create_app

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
DAYS = 60
BATCH = 20_000
PASSWORD = "bench password 1m"
# the index's words: the topic's term, a few common words, and a long tail (Zipf-like)
COMMON = ["网友", "反映", "群众", "要求", "处理", "调查", "视频", "公开", "回应", "说法"]
TAIL = [f"词{i}" for i in range(5000)]
SEARCHED = "网友"


def words_of(term: str, rng: random.Random) -> list[str]:
    common = [w for w in COMMON if rng.random() < 0.3]
    tail = [TAIL[min(int(rng.paretovariate(1.2)) - 1, len(TAIL) - 1)] for _ in range(30)]
    return [term, "某地", "纠纷", *common, *tail]


def batch(first: int, n: int, rng: random.Random) -> tuple[list[dict[str, Any]], ...]:
    """Posts ``first`` … ``first + n - 1``, at random times over the ``DAYS`` before NOW."""
    posts, analyses, topics, words = [], [], [], []
    for i in range(first, first + n):
        at = NOW - timedelta(seconds=rng.uniform(60, DAYS * 86_400))
        # one post in ten has no published time: its time is when it was collected
        post, analysis, topic = analysed_post(i, at, rng, unpublished=i % 10 == 0)
        posts.append(post)
        analyses.append(analysis)
        topics.extend([topic] if topic else [])
        words.append((i, words_of(TOPICS[i % len(TOPICS)][1] if topic else "资讯", rng)))
    return posts, analyses, topics, words


def build(path: Path, total: int) -> None:
    """The database at ``path`` (written beside it and renamed: a broken build is never cached)."""
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{partial}")
    upgrade(engine)
    rng = random.Random(11)
    started = time.perf_counter()
    with engine.begin() as conn:
        events = [
            {
                "id": e,
                "title": f"事件{e}",
                "first_seen": NOW - timedelta(days=e % DAYS),
                "last_seen": NOW - timedelta(days=e % DAYS, hours=-20),
                "post_count": 5 + e % 40,
                "source_count": 2 + e % 9,
                "risk_level": 1 + e % 3,
                "risk_score": 0.5,
                "extras": {},
            }
            for e in range(1, 301)
        ]
        conn.execute(insert(EventRow), events)
    for first in range(1, total + 1, BATCH):
        posts, analyses, topics, words = batch(first, min(BATCH, total + 1 - first), rng)
        with engine.begin() as conn:
            conn.execute(insert(PostRow), posts)
            conn.execute(insert(AnalysisRow), analyses)
            conn.execute(insert(PostTopicRow), topics)
        with engine.connect() as conn:
            from sqlalchemy.orm import Session

            with Session(bind=conn) as session:
                index_words(session, words)
                session.commit()
        if first // BATCH % 10 == 0:
            print(f"  {first + len(posts) - 1:,} posts stored ({time.perf_counter() - started:.0f} s)", flush=True)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    partial.rename(path)
    print(f"built {path} with {total:,} posts in {time.perf_counter() - started:.0f} s")


def ensure_user(app: AppContext) -> None:
    with app.session() as session:
        if session.scalar(select(UserRow.id).where(UserRow.name == "bench")) is None:
            add_user(session, "bench", role="analyst", unit=None, password=PASSWORD, by="bench", now=NOW)


def logged_in(app: AppContext) -> TestClient:
    client = TestClient(create_app(app, clock=lambda: NOW), base_url="http://127.0.0.1")
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    answer = client.post("/login", data={"name": "bench", "password": PASSWORD, "csrf": token.group(1), "next": "/"})
    assert answer.status_code == 200, answer.text
    return client


def timed(client: TestClient, url: str, n: int) -> tuple[float, float, int]:
    """Median and p95 in ms of ``n`` GETs of ``url`` (after one warm-up), and the rows shown."""
    answer = client.get(url)
    assert answer.status_code == 200, answer.text[:500]
    rows = answer.text.count('<tr id="post-')
    took = []
    for _ in range(n):
        t0 = time.perf_counter()
        client.get(url)
        took.append((time.perf_counter() - t0) * 1000)
    took.sort()
    return statistics.median(took), took[max(0, int(round(0.95 * n)) - 1)], rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/yuqing-web-1m.db"))
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--requests", type=int, default=50, help="requests timed per case")
    args = parser.parse_args()
    if args.rebuild:
        args.db.unlink(missing_ok=True)
    if not args.db.exists():
        print(f"building {args.db} ({args.posts:,} posts; once, then cached)", flush=True)
        build(args.db, args.posts)
    with tempfile.TemporaryDirectory() as tmp:
        app = AppContext.create(write_config(Path(tmp), f"sqlite:///{args.db}"))
        upgrade(app.engine)  # a cached database from before a new migration gets it here
        ensure_user(app)
        client = logged_in(app)
        topic = TOPICS[1][0]
        cases = [
            ("review list, default view (relevant, 24 h)", "/"),
            (f"review list, topic {topic}", f"/?topic={topic}"),
            (f"search {SEARCHED!r}, 24 h", f"/?q={SEARCHED}&days=1"),
            (f"search {SEARCHED!r}, 30 days", f"/?q={SEARCHED}&days=30"),
        ]
        print(f"database: {args.db} ({args.db.stat().st_size // 2**20} MiB); load average {os.getloadavg()[0]:.1f}")
        for label, url in cases:
            median, p95, rows = timed(client, url, args.requests)
            print(f"{label:45} median {median:7.1f} ms   p95 {p95:7.1f} ms   ({rows} rows shown)", flush=True)
        app.close()


if __name__ == "__main__":
    main()
