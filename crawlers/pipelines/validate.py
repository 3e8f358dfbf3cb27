"""Validate: drop empty or garbage posts with a reason, counted per reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawlers.context import runtime
from crawlers.items import PostItem
from yuqing.base.post import Post

MAX_TEXT_CHARS = 200_000
FUTURE_SLACK = timedelta(days=1)


def drop_reason(post: Post) -> str | None:
    """Why a post is not worth storing, ``None`` when it is."""
    if not post.url.startswith(("http://", "https://")):
        return "bad_url"
    if not post.title and not post.text:
        return "empty"
    if not post.title:
        return "no_title"
    sample = post.title + post.text[:5000]
    if sample.count("\ufffd") > max(3, len(sample) // 50):
        return "mojibake"
    letters = sum(ch.isalnum() for ch in sample)
    if letters < max(2, len(sample) // 10):
        return "garbage"
    return None


class ValidatePipeline:
    """Second stage: ``DropItem(reason)`` and ``yuqing/dropped/<reason>`` in the crawl stats."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.rt = runtime(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: PostItem, spider: Any = None) -> PostItem:
        post = item.post
        reason = drop_reason(post)
        if reason is not None:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"yuqing/dropped/{reason}")
            raise DropItem(reason)
        post.text = post.text[:MAX_TEXT_CHARS]
        if post.published_at is not None and post.published_at > self.rt.now + FUTURE_SLACK:
            post.extras["published_raw"] = str(item.published_raw)
            post.published_at = None  # a date in the future is a parse error, not a scoop
        return item
