"""Sitemaps, sitemap indexes, news sitemaps and ``robots.txt`` Sitemap lines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree
from scrapy.http import Response

from crawlers.policy import TooLarge, gunzip_bounded
from crawlers.spiders.base import SourceSpider

NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)


def local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_sitemap(body: bytes, max_size: int = 0) -> tuple[str, list[dict[str, str | None]]]:
    """``("index"|"urlset", entries)``; each entry has loc, lastmod, and news title/time if any.
    A gzipped sitemap is decompressed up to ``max_size`` bytes (0: no limit), else ``TooLarge``."""
    if body[:2] == b"\x1f\x8b":
        body = gunzip_bounded(body, max_size)
    root = etree.fromstring(body, parser=PARSER)
    if root is None:
        return "urlset", []
    kind = "index" if local(root.tag) == "sitemapindex" else "urlset"
    entries = []
    for node in root:
        values = {local(child.tag): (child.text or "").strip() for child in node.iter() if child is not node}
        if values.get("loc"):
            entries.append(
                {
                    "loc": values["loc"],
                    "lastmod": values.get("lastmod"),
                    "title": values.get("title") if node.find(f".//{NEWS}title") is not None else None,
                    "published": values.get("publication_date"),
                }
            )
    return kind, entries


class SitemapSpider(SourceSpider):
    """Follows sitemap indexes; every URL of a urlset is an article page."""

    name = "sitemap"

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if response.url.endswith("/robots.txt"):
            for line in response.text.splitlines():
                if line.lower().startswith("sitemap:"):
                    yield from self.next_listing(line.split(":", 1)[1].strip(), response)
            return
        limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
        try:
            kind, entries = parse_sitemap(response.body, limit)
        except TooLarge:
            self.record_error(f"sitemap too large once decompressed (over {limit} bytes)", response.url)
            return
        except OSError:
            self.record_error("sitemap is not valid gzip", response.url)
            return
        if not entries:
            self.record_error("empty or unreadable sitemap", response.url)
        for entry in entries:
            if kind == "index":
                yield from self.next_listing(entry["loc"], response)
            elif self.full:
                return
            else:
                defaults = {"title": entry["title"], "published": entry["published"] or entry["lastmod"]}
                yield self.article(response.urljoin(entry["loc"] or ""), {k: v for k, v in defaults.items() if v})
