"""Store: insert each post once (``ON CONFLICT DO NOTHING``, so racing crawls are safe)."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.exc import SQLAlchemyError

from crawlers.context import runtime
from crawlers.items import PostItem
from storage.repo import insert_post

logger = logging.getLogger(__name__)


class StorePipeline:
    """Last stage: counts ``yuqing/new`` and ``yuqing/duplicate``; a failed write is an error."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.rt = runtime(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: PostItem, spider: Any = None) -> PostItem:
        stats = self.crawler.stats
        assert stats is not None
        try:
            with self.rt.sessions.begin() as session:
                new_id = insert_post(session, item.post)
        except SQLAlchemyError as exc:
            message = f"database write failed ({exc.__class__.__name__})"
            self.rt.record_error(message, item.post.url)
            stats.inc_value("yuqing/errors")
            logger.warning("could not store %s: %s", item.post.url, exc)
            raise DropItem("store_failed") from exc
        stats.inc_value("yuqing/new" if new_id is not None else "yuqing/duplicate")
        return item
