"""Downloader and spider middlewares: retries with backoff, and incremental crawling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future

from crawlers.context import runtime
from storage.repo import known_hashes
from yuqing.base.post import canonicalize_url, url_hash

logger = logging.getLogger(__name__)
ARTICLE_META = "yuqing_article"


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries on 5xx and timeouts, waiting ``YUQING_RETRY_BACKOFF * 2**n`` seconds first."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("YUQING_RETRY_BACKOFF", 1.0)

    async def _pause(self, result: Any) -> Any:
        if isinstance(result, Request) and self.backoff > 0:
            attempt = max(1, int(result.meta.get("retry_times", 1)))
            delay = self.backoff * 2 ** (attempt - 1)
            from twisted.internet import (  # the running reactor, installed by Scrapy
                reactor,
                task,
            )

            await maybe_deferred_to_future(task.deferLater(reactor, delay, lambda: None))
        return result

    async def process_response(self, request: Request, response: Any, spider: Any = None) -> Any:  # type: ignore[override]  # async: Scrapy ≥ 2.13 awaits it
        return await self._pause(super().process_response(request, response))

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Any:  # type: ignore[override]  # async: Scrapy ≥ 2.13 awaits it
        return await self._pause(super().process_exception(request, exception))


class IncrementalMiddleware:
    """Drops requests for article pages whose canonical URL is stored already (one query per
    callback; unless the source has ``refresh: true``), then lets through only as many as
    ``max_items`` still allows, so stored URLs never use up a run's budget."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        return cls(crawler)

    def _known(self, hashes: list[str]) -> set[str]:
        rt = runtime(self.crawler)
        if not hashes or rt.source.refresh:
            return set()
        with rt.sessions() as session:
            return known_hashes(session, hashes)

    def _filter(self, batch: list[Any]) -> list[Any]:
        articles = {id(r): url_hash(canonicalize_url(r.url)) for r in batch
                    if isinstance(r, Request) and r.meta.get(ARTICLE_META)}
        if not articles:
            return batch
        known = self._known(list(articles.values()))
        spider = self.crawler.spider
        budget = max(0, runtime(self.crawler).source.max_items - getattr(spider, "emitted", 0))
        kept: list[Any] = []
        for entry in batch:
            key = articles.get(id(entry))
            if key is not None and (key in known or budget <= 0):
                self._count("yuqing/skipped_known" if key in known else "yuqing/skipped_max_items")
                continue
            if key is not None:
                budget -= 1
                spider.emitted = getattr(spider, "emitted", 0) + 1  # type: ignore[union-attr]  # a counter of ours on the spider
            kept.append(entry)
        return kept

    def _count(self, key: str) -> None:
        if self.crawler.stats:
            self.crawler.stats.inc_value(key)

    def process_spider_output(self, response: Any, result: Iterable[Any], spider: Any = None) -> Iterable[Any]:
        yield from self._filter(list(result))

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        batch = [item async for item in result]
        for item in self._filter(batch):
            yield item
