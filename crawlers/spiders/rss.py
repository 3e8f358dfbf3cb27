"""RSS 0.9x/1.0/2.0 and Atom feeds (feedparser); follows entries that carry only a summary.

A feed is parsed from its bytes only: feedparser takes a string as a file name or URL first (a body
``/dev/zero`` would be read forever), so it gets a stream. The bytes are decoded by the project's
decoder (:mod:`crawlers.encoding`: GBK labelled UTF-8, a stray bad byte) and handed over as UTF-8,
so feedparser never falls back to windows-1252 and mojibake. A feed that still does not decode is
an error of the run, not stored garbage.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import feedparser
from scrapy.http import Response

from crawlers.spiders.base import SourceSpider
from crawlers.text import html_to_text

XML_PROLOG = re.compile(r"^\s*<\?xml[^>]*\?>")
UTF8_HEADERS = {"content-type": "application/xml; charset=utf-8"}
SUMMARY_CHARS = 60  # an entry with less text than this is a teaser: fetch the article page
TEASER_ENDINGS = ("…", "...", "【详细】", "阅读全文", "查看全文", "[more]")


def is_teaser(text: str, title: str) -> bool:
    """True when a feed entry carries only a title or summary, not the article."""
    text = text.strip()
    return len(text) < SUMMARY_CHARS or text == title.strip() or text.endswith(TEASER_ENDINGS)


def undecodable(text: str) -> bool:
    """True when decoding left too many U+FFFD (or NUL) characters to be text: one bad byte is
    tolerated, a feed in an unknown encoding or binary data is not."""
    bad = text.count("\ufffd") + text.count("\x00")
    return bad > max(8, len(text) // 100)


def parse_feed(text: str) -> Any:
    """feedparser's result for a decoded feed, re-encoded as UTF-8 and passed as a stream (never a
    string, which feedparser would first try as a path or URL)."""
    data = XML_PROLOG.sub('<?xml version="1.0" encoding="utf-8"?>', text, count=1).encode("utf-8")
    return feedparser.parse(io.BytesIO(data), response_headers=UTF8_HEADERS)


def entry_fields(entry: Any) -> dict[str, Any]:
    """Title, link, body HTML, raw time and author of a feed entry."""
    content = entry.get("content") or []
    body = content[0].get("value", "") if content else entry.get("summary", "")
    return {
        "url": entry.get("link") or entry.get("id"),
        "title": entry.get("title", ""),
        "text": body or "",
        "published": entry.get("published") or entry.get("updated"),
        "author": entry.get("author"),
    }


class RssSpider(SourceSpider):
    """A feed per start URL; each entry becomes a post."""

    name = "rss"

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        text = self.decode(response)
        if undecodable(text):
            self.record_error("feed does not decode as text (wrong encoding or binary data)", response.url)
            return
        feed = parse_feed(text)
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
