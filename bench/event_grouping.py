"""Event grouping against 1,000,000 stored posts: time to find a new post's near-duplicates.

Builds a SQLite database (the real schema) holding the LSH band keys of N stored posts, then times
``nlp.job.similar_posts`` (the query the analysis job runs) for new posts, half of them reposts (with
one word changed) of stored ones.

    .venv/bin/python bench/event_grouping.py [--posts 1000000] [--queries 2000] [--db /tmp/events.db]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from nlp.events import BANDS, fingerprint  # noqa: E402
from nlp.job import similar_posts  # noqa: E402
from nlp.segment import build_segmenter  # noqa: E402
from storage.db import make_engine, session_factory, upgrade  # noqa: E402


def synthetic_words(rng: random.Random, vocabulary: list[str], n: int = 60) -> list[str]:
    return [rng.choice(vocabulary) for _ in range(n)]


def build(db: Path, posts: int, vocabulary: list[str], rng: random.Random) -> list[list[str]]:
    """Create the database with ``posts`` fingerprints; return the word lists of 1,000 stored posts.

    1,000 stored posts are fingerprinted from (synthetic) text so that queries can repost them; the
    band keys of the others are uniform random 63-bit values, which is what the keys of unrelated
    posts are (a band key is a hash of four MinHash values)."""
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("DROP INDEX ix_fingerprints_band_value")  # rebuilt after the bulk load, as a restore would
    started = time.perf_counter()
    kept = [synthetic_words(rng, vocabulary) for _ in range(1000)]
    rows = [(i + 1, band, value) for i, words in enumerate(kept) for band, value in enumerate(fingerprint(words) or [])]
    conn.executemany("INSERT INTO fingerprints (post_id, band, value) VALUES (?, ?, ?)", rows)
    keys = np.random.default_rng(13)
    chunk = 100_000
    for first in range(1001, posts + 1, chunk):
        ids = np.arange(first, min(first + chunk, posts + 1), dtype=np.int64)
        values = keys.integers(0, 2**63 - 1, size=(len(ids), BANDS), dtype=np.int64)
        conn.executemany(
            "INSERT INTO fingerprints (post_id, band, value) VALUES (?, ?, ?)",
            ((int(p), b, int(v)) for p, row in zip(ids, values) for b, v in enumerate(row)),
        )
    conn.execute("CREATE INDEX ix_fingerprints_band_value ON fingerprints (band, value)")
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    print(f"built {posts:,} posts' fingerprints ({posts * BANDS:,} rows) in {time.perf_counter() - started:.0f}s")
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/yuqing-bench-events.db"))
    args = parser.parse_args()
    rng = random.Random(11)
    segmenter = build_segmenter([], backend="rjieba")
    vocabulary = sorted({w for w in segmenter.cut("".join(chr(c) for c in range(0x4E00, 0x4E00 + 6000))) if w})
    vocabulary += [f"{a}{b}" for a, b in zip(vocabulary, reversed(vocabulary))][:20000]
    if args.db.exists():
        args.db.unlink()
    stored = build(args.db, args.posts, vocabulary, rng)
    sessions = session_factory(make_engine(f"sqlite:///{args.db}"))
    timings, found = [], 0
    with sessions() as session:
        for i in range(args.queries):
            if i % 2:
                words = list(rng.choice(stored))
                words[rng.randrange(len(words))] = rng.choice(vocabulary)  # a repost with a small edit
            else:
                words = synthetic_words(rng, vocabulary)
            keys = fingerprint(words) or []
            start = time.perf_counter()
            shared = similar_posts(session, keys, post_id=0)
            timings.append((time.perf_counter() - start) * 1000)
            found += bool(i % 2) and any(n >= 2 for n in shared.values())
    timings.sort()
    print(f"stored posts: {args.posts:,}; queries: {args.queries} (half of them edited reposts)")
    print(
        f"lookup ms: mean {statistics.mean(timings):.3f}, median {timings[len(timings) // 2]:.3f}, "
        f"p99 {timings[int(len(timings) * 0.99)]:.3f}"
    )
    print(f"edited reposts found: {found}/{args.queries // 2}")


if __name__ == "__main__":
    main()
