"""RSS 0.9x/1.0/2.0 and Atom feeds (feedparser); follows entries that carry only a summary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import feedparser
from scrapy.http import Response

from crawlers.spiders.base import SourceSpider
from crawlers.text import html_to_text

SUMMARY_CHARS = 60  # an entry with less text than this is a teaser: fetch the article page
TEASER_ENDINGS = ("…", "...", "【详细】", "阅读全文", "查看全文", "[more]")


def is_teaser(text: str, title: str) -> bool:
    """True when a feed entry carries only a title or summary, not the article."""
    text = text.strip()
    return len(text) < SUMMARY_CHARS or text == title.strip() or text.endswith(TEASER_ENDINGS)


def entry_fields(entry: Any) -> dict[str, Any]:
    """Title, link, body HTML, raw time and author of a feed entry."""
    content = entry.get("content") or []
    body = content[0].get("value", "") if content else entry.get("summary", "")
    return {"url": entry.get("link") or entry.get("id"), "title": entry.get("title", ""),
            "text": body or "", "published": entry.get("published") or entry.get("updated"),
            "author": entry.get("author")}


class RssSpider(SourceSpider):
    """A feed per start URL; each entry becomes a post."""

    name = "rss"

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        feed = feedparser.parse(response.body, response_headers={
            "content-type": (response.headers.get(b"Content-Type") or b"").decode("latin-1")})
        if not feed.entries:
            if feed.bozo:
                self.record_error(f"not a feed ({type(feed.bozo_exception).__name__})", response.url)
            return
        for entry in feed.entries:
            yield from self.entry(entry, response)

    def entry(self, entry: Any, response: Response) -> Iterator[Any]:
        fields = entry_fields(entry)
        url = fields.pop("url")
        if not url or self.full:
            return
        url = response.urljoin(url)
        text = html_to_text(fields["text"])
        if self.follows and is_teaser(text, fields["title"]):
            yield self.article(url, {**fields, "text": None})
            return
        item = self.make_item(url, **{**fields, "text": text})
        if item is not None:
            yield item
