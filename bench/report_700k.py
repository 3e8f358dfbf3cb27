"""Benchmark: build the weekly report (周报) over a week of 700,000 stored posts.

Creates a fresh database (SQLite in a temporary directory by default, or ``--db-url``), stores
``--posts`` posts spread over the week Mon 2026-11-23 to Mon 2026-11-30 (Asia/Shanghai) and
``--previous`` over the week before (about 20 % relevant, 5 % negative, 300 events, crawl runs for
30 sources; the digest benchmark's mix), then times ``build_report`` (every query of the period,
the previous week's counts, the per-day series), the HTML and text rendering and the .docx.

    .venv/bin/python bench/report_700k.py
    .venv/bin/python bench/report_700k.py --db-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from digest_100k import SOURCES, write_config  # the digest benchmark's config
from sqlalchemy import insert
from synthetic import analysed_post

from alerts.render import environment
from alerts.report_docx import period_docx
from alerts.reports import build_for, last_full_period, report_html, report_text
from alerts.service import select_groups
from storage.context import AppContext
from storage.db import make_engine, upgrade
from storage.models import AnalysisRow, CrawlRunRow, EventRow, PostRow, PostTopicRow

TZ = ZoneInfo("Asia/Shanghai")
PERIOD = last_full_period("week", date(2026, 12, 1), TZ)
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
BATCH = 50_000


def batch(first: int, n: int, start: datetime, rng: random.Random) -> tuple[list[dict[str, Any]], ...]:
    """Posts ``first`` … ``first + n - 1`` spread over the week starting at ``start``."""
    posts, analyses, topics = [], [], []
    for i in range(first, first + n):
        at = (start + timedelta(seconds=rng.uniform(1, 7 * 86_400 - 1))).astimezone(timezone.utc)
        post, analysis, topic = analysed_post(i, at, rng)
        posts.append(post)
        analyses.append(analysis)
        topics.extend([topic] if topic else [])
    return posts, analyses, topics


def seed(engine: Any, week: int, previous: int) -> float:
    rng = random.Random(7)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(EventRow),
            [
                {
                    "id": e,
                    "title": f"事件{e}",
                    "first_seen": PERIOD.start + timedelta(days=e % 7),
                    "last_seen": PERIOD.start + timedelta(days=e % 7, hours=20),
                    "post_count": 5 + e % 40,
                    "source_count": 2 + e % 9,
                    "risk_level": 1 + e % 3,
                    "risk_score": 0.5,
                    "extras": {},
                }
                for e in range(1, 301)
            ],
        )
    plan = [(PERIOD.previous, previous), (PERIOD.start, week)]
    first = 1
    for start, total in plan:
        for offset in range(0, total, BATCH):
            posts, analyses, topics = batch(first, min(BATCH, total - offset), start, rng)
            first += len(posts)
            with engine.begin() as conn:
                conn.execute(insert(PostRow), posts)
                conn.execute(insert(AnalysisRow), analyses)
                conn.execute(insert(PostTopicRow), topics)
    with engine.begin() as conn:
        conn.execute(
            insert(CrawlRunRow),
            [
                {
                    "source_id": f"s{s}",
                    "started_at": PERIOD.start + timedelta(hours=h),
                    "status": "ok" if s % 10 else "failed",
                    "items": 100,
                    "new": 80,
                    "stats": {},
                    "error_summary": "",
                }
                for s in range(SOURCES)
                for h in range(0, 7 * 24, 2)
            ],
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=700_000, help="posts in the week reported on")
    parser.add_argument("--previous", type=int, default=100_000, help="posts in the week before")
    parser.add_argument("--db-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db_url = args.db_url or f"sqlite:///{root / 'bench.db'}"
        engine = make_engine(db_url)
        upgrade(engine)
        print(f"database: {engine.url.render_as_string(hide_password=True).split('?')[0]}")
        took = seed(engine, args.posts, args.previous)
        print(f"stored {args.posts:,} + {args.previous:,} posts in {took:.1f} s; load average {os.getloadavg()[0]:.1f}")
        engine.dispose()
        app = AppContext.create(write_config(root, db_url))
        group = select_groups(app, None)[0]
        env = environment()
        for run in range(1, args.repeat + 1):
            t0 = time.perf_counter()
            r = build_for(app, group, PERIOD, NOW)
            t1 = time.perf_counter()
            html, text = report_html(env, r), report_text(env, r)
            t2 = time.perf_counter()
            word = period_docx(r)
            t3 = time.perf_counter()
            print(
                f"run {run}: weekly report built in {t1 - t0:.2f} s, rendered in {t2 - t1:.2f} s, .docx in "
                f"{t3 - t2:.2f} s; total {t3 - t0:.2f} s ({'；'.join(r.change_lines())}; {len(r.digest.items)} items, "
                f"{len(r.digest.events)} events, {len(html) // 1024} KiB HTML, {len(text) // 1024} KiB text, "
                f"{len(word) // 1024} KiB .docx)"
            )
        app.close()


if __name__ == "__main__":
    main()
