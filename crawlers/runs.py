"""The crawl-run recorder: a ``crawl_runs`` row opened when the spider opens, finished with its
counts, status and error summary when it closes."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawlers.context import CrawlRuntime, runtime
from storage.runs import finish_run, start_run

logger = logging.getLogger(__name__)
SUMMARY_LINES = 8


def run_counts(stats: dict[str, Any]) -> dict[str, int]:
    """The crawl_runs counters from Scrapy's stats."""
    dropped = sum(v for k, v in stats.items() if k.startswith("yuqing/dropped/"))
    return {
        "pages": stats.get("yuqing/pages", 0),
        "items": stats.get("yuqing/items", 0),
        "new": stats.get("yuqing/new", 0),
        "duplicate": stats.get("yuqing/duplicate", 0),
        "dropped": dropped,
        "errors": stats.get("yuqing/errors", 0),
    }


def run_status(counts: dict[str, int], reason: str) -> str:
    """ok: no error; partial: errors but pages fetched; failed: nothing fetched or nothing usable."""
    if counts["errors"] == 0 and reason == "finished" and counts["pages"] > 0:
        return "ok"
    if counts["pages"] > 0 and (counts["items"] > 0 or counts["errors"] < counts["pages"]):
        return "partial"
    return "failed"


def error_summary(rt: CrawlRuntime, reason: str, counts: dict[str, int]) -> str:
    """Human-readable: the commonest errors with a count and an example URL."""
    lines = [
        f"{count}× {message} (e.g. {rt.error_urls.get(message, '?')})"
        for message, count in sorted(rt.errors.items(), key=lambda kv: -kv[1])[:SUMMARY_LINES]
    ]
    if reason != "finished":
        lines.insert(0, f"crawl stopped early: {reason}")
    if counts["pages"] == 0 and not lines:
        lines.append("no page could be fetched (robots.txt forbids it, or no start URL)")
    return "\n".join(lines)


class CrawlRunExtension:
    """Counts pages and items and writes the crawl_runs row (the basis of source-health alerts)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.response, signal=signals.response_received)
        crawler.signals.connect(self.scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.failed, signal=signals.spider_error)
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunExtension:
        return cls(crawler)

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    def opened(self, spider: Any) -> None:
        rt = runtime(self.crawler)
        with rt.sessions.begin() as session:
            self.run_id = start_run(session, rt.source.id, datetime.now(timezone.utc))
        self.stats.set_value("yuqing/run_id", self.run_id)

    def response(self, response: Response, request: Any, spider: Any) -> None:
        if not response.url.endswith("/robots.txt"):
            self.stats.inc_value("yuqing/pages")

    def scraped(self, item: Any, response: Any, spider: Any) -> None:
        self.stats.inc_value("yuqing/items")

    def dropped(self, item: Any, response: Any, exception: Exception, spider: Any) -> None:
        self.stats.inc_value("yuqing/items")

    def failed(self, failure: Any, response: Any, spider: Any) -> None:
        self._error(f"spider error ({failure.type.__name__})", getattr(response, "url", "?"))

    def request_dropped(self, request: Any, spider: Any) -> None:
        """A redirect back to a page already requested is a loop: an error, not a silent drop."""
        if request.meta.get("redirect_times"):
            self._error("redirect loop", request.url)

    def _error(self, message: str, url: str) -> None:
        runtime(self.crawler).record_error(message, url)
        self.stats.inc_value("yuqing/errors")

    def closed(self, spider: Any, reason: str) -> None:
        if self.run_id is None:
            return
        rt = runtime(self.crawler)
        stats = self.stats.get_stats()
        counts = run_counts(stats)
        status = run_status(counts, reason)
        summary = error_summary(rt, reason, counts)
        plain = {k: v for k, v in stats.items() if isinstance(v, (int, float, str))}
        with rt.sessions.begin() as session:
            finish_run(session, self.run_id, status, datetime.now(timezone.utc), counts, summary, plain)
        self.stats.set_value("yuqing/status", status)
        logger.info("crawl of %s: %s %s", rt.source.id, status, counts)
