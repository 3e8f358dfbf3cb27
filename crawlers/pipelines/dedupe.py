"""Dedupe: one post per canonical URL within a crawl (storage makes it once across crawls)."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawlers.items import PostItem


class DedupePipeline:
    """Third stage: a canonical URL seen earlier in this crawl is a duplicate."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: PostItem, spider: Any = None) -> PostItem:
        key = item.post.key
        if key in self.seen:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("yuqing/duplicate")
            raise DropItem("duplicate")
        self.seen.add(key)
        return item
