"""Scrapy's log lines without the posts in them: a dropped or failed item is logged by its URL and
the reason, never with its title or text (which name real people). Set as ``LOG_FORMATTER``."""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure


def item_url(item: Any) -> str:
    """The item's URL, the one thing of it a log line may carry."""
    item = getattr(item, "post", item)  # a PostItem carries its Post
    url = getattr(item, "url", None)
    if url is None and isinstance(item, dict):
        url = item.get("url")
    return str(url or "?")


class PrivateLogFormatter(LogFormatter):
    """Items appear in the log by their URL only."""

    def scraped(self, item: Any, response: Response | Failure | None, spider: Spider) -> LogFormatterResult:
        result = super().scraped(item, response, spider)
        return {**result, "msg": "Scraped %(url)s", "args": {"url": item_url(item)}}

    def dropped(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        return {**result, "msg": "Dropped %(url)s: %(reason)s", "args": {"url": item_url(item), "reason": exception}}

    def item_error(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        result = super().item_error(item, exception, response, spider)
        return {**result, "msg": "Error processing %(url)s", "args": {"url": item_url(item)}}
