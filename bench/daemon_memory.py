"""Memory of the daemon under a busy schedule: RSS of the ``yuqing run`` process (and the peak of
its crawl subprocesses) sampled while many sources are crawled every few seconds from a local RSS
site, with analysis, health checks and delivery retries seconds apart.

    .venv/bin/python bench/daemon_memory.py --duration 3600 --sources 20 --every 10s

Prints one line per sample minute and a summary: start, peak and final daemon RSS (MB), crawl runs
and posts stored. The issue asks for an hour under 400 MB; ``--duration`` is in seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from config import copy_shipped, load_config  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402
from storage.models import CrawlRunRow, PostRow  # noqa: E402
from tests.mockserver import MockServer, Request, Response, html  # noqa: E402

FAST = """daemon:
  analyze_every: 5s
  health_check_every: 10s
  retry_every: 10s
  lease_ttl: 10s
  reload_poll: 2s
  workers: 8
"""


FEED = re.compile(r"/feed.*")
EVERYTHING_ELSE = re.compile(r"/.*")


def feed(request: Request, base_url: str) -> Response:
    """``/feed/N.xml``: 20 items whose set shifts over time, so every crawl finds some new posts."""
    tick = int(time.time() // 30)
    base = datetime(2026, 11, 27, tzinfo=timezone.utc)
    items = "".join(
        f"<item><title>派出所民警执法争议通报 {request.target} {i}</title>"
        f"<link>{base_url}/a{request.target}/{i}.html</link>"
        f"<description>{'网民反映民警执法态度粗暴，引发投诉。' * 20}{i}</description>"
        f"<pubDate>{format_datetime(base + timedelta(minutes=i))}</pubDate></item>"
        for i in range(tick * 5, tick * 5 + 20)
    )
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>b</title>'
        f"<link>http://127.0.0.1/</link><description>b</description>{items}</channel></rss>"
    ).encode()
    return Response(200, body, "application/rss+xml")


def article(request: Request) -> Response:
    return html(f"<html><body><article><h1>{request.target}</h1><p>{'正文内容。' * 200}</p></article></body></html>")


def serve_feeds(server: MockServer) -> None:
    """Feeds under ``/feed``, an article page at every other path."""
    server.route(FEED, lambda request: feed(request, server.base))
    server.route(EVERYTHING_ELSE, article)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                out += [int(child), *descendants(int(child))]
    except OSError:
        pass
    return out


def make_config(workdir: Path, port: int, sources: int, every: str) -> Path:
    config = copy_shipped(workdir / "config", workdir / "data")
    settings = (config / "settings.yaml").read_text(encoding="utf-8")
    settings = settings[: settings.index("daemon:\n")] + FAST
    (config / "settings.yaml").write_text(settings, encoding="utf-8")
    entries = "".join(
        f'  - id: bench-{n}\n    name: 压测源{n}\n    kind: rss\n    start_urls: ["http://127.0.0.1:{port}/feed/{n}.xml"]\n'
        f"    schedule: {{interval: {every}}}\n    obey_robots: false\n    delay: 0\n    max_items: 40\n"
        for n in range(sources)
    )
    (config / "sources.yaml").write_text("sources:\n" + entries, encoding="utf-8")
    return config


def counts(config: Path) -> tuple[int, int]:
    engine = make_engine(load_config(config).database_url)
    with engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(CrawlRunRow)).scalar_one()
        posts = conn.execute(select(func.count()).select_from(PostRow)).scalar_one()
    engine.dispose()
    return runs, posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=3600, help="seconds to run (default: an hour)")
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--every", default="10s", help="crawl interval of each source")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    args = parser.parse_args()
    server = MockServer().start()
    serve_feeds(server)
    workdir = Path(tempfile.mkdtemp(prefix="yuqing-bench-"))
    config = make_config(workdir, server.port, args.sources, args.every)
    engine = make_engine(load_config(config).database_url)
    upgrade(engine)
    engine.dispose()
    log = (workdir / "daemon.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from yuqing.cli import main; main()", "--config", str(config), "run"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "YUQING_LOG_LEVEL": "WARNING"},
    )
    samples: list[float] = []
    child_peak = 0.0
    started = time.monotonic()
    next_report = 60.0
    try:
        while time.monotonic() - started < args.duration and proc.poll() is None:
            time.sleep(args.sample)
            samples.append(rss_mb(proc.pid))
            child_peak = max([child_peak, *(rss_mb(p) for p in descendants(proc.pid))])
            if time.monotonic() - started >= next_report:
                print(
                    f"t={int(time.monotonic() - started):>5}s daemon_rss={samples[-1]:.1f} MB "
                    f"peak={max(samples):.1f} MB subprocess_peak={child_peak:.1f} MB",
                    flush=True,
                )
                next_report += 60
    finally:
        proc.terminate()
        proc.wait(60)
        server.stop()
    runs, posts = counts(config)
    print(f"duration={args.duration}s sources={args.sources} every={args.every} crawl_runs={runs} posts={posts}")
    print(
        f"daemon RSS: start={samples[0]:.1f} MB peak={max(samples):.1f} MB final={samples[-1]:.1f} MB "
        f"(limit 400 MB: {'OK' if max(samples) < 400 else 'EXCEEDED'}); peak of any subprocess (crawl or stage job)={child_peak:.1f} MB"
    )
    print(f"log and data: {workdir}")


if __name__ == "__main__":
    main()
