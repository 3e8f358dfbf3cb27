"""Crawl one source in this process: ``python -m crawlers.run SOURCE_ID [--max-pages N]``.

Twisted's reactor cannot restart, so every crawl gets a process of its own; ``yuqing crawl`` and the
daemon start this module as a subprocess. The last line on stdout is a JSON summary of the run.
Exit status: 0 ok/partial, 1 failed, 2 unusable arguments or configuration, 3 the source is being
crawled already (by the daemon or another ``yuqing crawl``): one crawl of a source at a time, held by
a ``crawl:SOURCE`` lease in the database, so two crawls never fetch everything twice, and a crawl may
close the runs its source left ``running`` (their owner is gone: it holds the lease).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings
from sqlalchemy import Engine

from config import Config, Source, load_config
from crawlers.context import find_source
from crawlers.launch import ALREADY_RUNNING, SUMMARY_PREFIX
from crawlers.runs import run_counts
from crawlers.spiders.html import HtmlSpider
from crawlers.spiders.json_api import JsonSpider
from crawlers.spiders.rss import RssSpider
from crawlers.spiders.sitemap import SitemapSpider
from storage import leases
from storage.db import make_engine, require_current, session_factory
from storage.runs import mark_abandoned
from yuqing.base.clock import utcnow
from yuqing.base.errors import CrawlError, YuqingError
from yuqing.base.private import private_files


class AlreadyCrawling(CrawlError):
    """Another process holds the source's crawl lease."""


SPIDERS = {"rss": RssSpider, "html": HtmlSpider, "json": JsonSpider, "sitemap": SitemapSpider}


def crawl(
    source_id: str,
    config_dir: str | None = None,
    max_pages: int | None = None,
    now: str | None = None,
    log_level: str = "WARNING",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one crawl to the end in this process (once per process) and return its summary."""
    config = load_config(config_dir)
    source = find_source(config, source_id)
    engine = make_engine(config.database_url)
    try:
        require_current(engine)
        with crawl_lease(engine, source.id, timedelta(seconds=config.settings.stale_run_seconds)):
            return _crawl(config, source, max_pages, now, log_level, extra)
    finally:
        engine.dispose()


@contextmanager
def crawl_lease(engine: Engine, source_id: str, ttl: timedelta) -> Iterator[None]:
    """Hold the source's crawl lease for the crawl (``AlreadyCrawling`` when another process holds it);
    the runs it left ``running`` are closed first: whoever wrote them is gone."""
    name, owner, started = f"crawl:{source_id}", leases.make_owner(), utcnow()
    if not leases.acquire(engine, name, owner, started, ttl):
        held = leases.holder(engine, name)
        host, _, rest = (held.owner if held else "?:?").partition(":")
        since = held.acquired_at.isoformat(timespec="seconds") if held else "?"
        raise AlreadyCrawling(
            f"{source_id} is already being crawled (pid {rest.partition(':')[0]} on {host}, since {since})",
            "wait for that crawl to end; `yuqing status` shows the source's runs",
        )
    try:
        with session_factory(engine).begin() as session:
            mark_abandoned(session, started, started, source_id)
        yield
    finally:
        leases.release(engine, name, owner)


def _crawl(
    config: Config, source: Source, max_pages: int | None, now: str | None, log_level: str, extra: dict[str, Any] | None
) -> dict[str, Any]:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    settings = get_project_settings()
    overrides = {
        "YUQING_CONFIG_DIR": str(config.dir),
        "YUQING_SOURCE": source.id,
        "LOG_LEVEL": log_level,
        "YUQING_MAX_PAGES": max_pages or 0,
        "YUQING_NOW": now or "",
        **(extra or {}),
    }
    settings.setdict(overrides, priority="cmdline")
    process = CrawlerProcess(settings, install_root_handler=True)
    crawler = process.create_crawler(SPIDERS[source.kind])
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return {
        "source": source.id,
        "run_id": stats.get("yuqing/run_id"),
        "status": stats.get("yuqing/status", "failed"),
        **run_counts(stats),
    }


def main(argv: list[str] | None = None) -> int:
    private_files()
    parser = argparse.ArgumentParser(prog="python -m crawlers.run", description="Crawl one source.")
    parser.add_argument("source_id")
    parser.add_argument("--config", dest="config_dir", default=None)
    parser.add_argument("--max-pages", type=int, default=None)
    parser.add_argument("--now", default=None, help="ISO time that relative dates count back from")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra Scrapy setting (benchmarks, tests)",
    )
    args = parser.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.set)
    try:
        summary = crawl(args.source_id, args.config_dir, args.max_pages, args.now, args.log_level, extra)
    except AlreadyCrawling as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        return ALREADY_RUNNING
    except YuqingError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"Hint: {exc.hint}", file=sys.stderr)
        return 2
    print(SUMMARY_PREFIX + json.dumps(summary, ensure_ascii=False), flush=True)
    return 1 if summary["status"] == "failed" else 0


if __name__ == "__main__":
    logging.captureWarnings(True)
    sys.exit(main())
