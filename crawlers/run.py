"""Crawl one source in this process: ``python -m crawlers.run SOURCE_ID [--max-pages N]``.

Twisted's reactor cannot restart, so every crawl gets a process of its own; ``yuqing crawl`` and the
daemon start this module as a subprocess. The last line on stdout is a JSON summary of the run.
Exit status: 0 ok/partial, 1 failed, 2 unusable arguments or configuration.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from config import load_config
from crawlers.context import find_source
from crawlers.launch import SUMMARY_PREFIX
from crawlers.runs import run_counts
from crawlers.spiders.html import HtmlSpider
from crawlers.spiders.json_api import JsonSpider
from crawlers.spiders.rss import RssSpider
from crawlers.spiders.sitemap import SitemapSpider
from storage.db import make_engine, require_current
from yuqing.base.errors import YuqingError

SPIDERS = {"rss": RssSpider, "html": HtmlSpider, "json": JsonSpider, "sitemap": SitemapSpider}


def crawl(source_id: str, config_dir: str | None = None, max_pages: int | None = None,
          now: str | None = None, log_level: str = "WARNING", extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one crawl to the end in this process (once per process) and return its summary."""
    config = load_config(config_dir)
    source = find_source(config, source_id)
    engine = make_engine(config.database_url)
    require_current(engine)
    engine.dispose()
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    settings = get_project_settings()
    overrides = {"YUQING_CONFIG_DIR": str(config.dir), "YUQING_SOURCE": source.id, "LOG_LEVEL": log_level,
                 "YUQING_MAX_PAGES": max_pages or 0, "YUQING_NOW": now or "", **(extra or {})}
    settings.setdict(overrides, priority="cmdline")
    process = CrawlerProcess(settings, install_root_handler=True)
    crawler = process.create_crawler(SPIDERS[source.kind])
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return {"source": source.id, "run_id": stats.get("yuqing/run_id"),
            "status": stats.get("yuqing/status", "failed"), **run_counts(stats)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.run", description="Crawl one source.")
    parser.add_argument("source_id")
    parser.add_argument("--config", dest="config_dir", default=None)
    parser.add_argument("--max-pages", type=int, default=None)
    parser.add_argument("--now", default=None, help="ISO time that relative dates count back from")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="extra Scrapy setting (benchmarks, tests)")
    args = parser.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.set)
    try:
        summary = crawl(args.source_id, args.config_dir, args.max_pages, args.now, args.log_level, extra)
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
