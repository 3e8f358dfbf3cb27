"""HTML list pages → article pages, or list pages that carry whole posts (forums, boards)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy.http import Response

from crawlers.selectors import select, select_links
from crawlers.spiders.base import SourceSpider

MIN_ANCHOR_CHARS = 8  # without a links selector, anchors this long on the same site are articles


def auto_links(sel: Selector, base_url: str) -> list[str]:
    """Article-looking links of a list page: same host, anchor text long enough to be a headline."""
    host = urlsplit(base_url).netloc
    links = []
    for anchor in sel.css("a[href]"):
        text = "".join(anchor.css("::text").getall()).strip()
        href = anchor.attrib["href"]
        if len(text) >= MIN_ANCHOR_CHARS and not href.startswith(("javascript:", "#", "mailto:")):
            links.append(href)
    return [link for link in links if not urlsplit(link).netloc or urlsplit(link).netloc == host]


class HtmlSpider(SourceSpider):
    """List pages configured by ``selectors``; article pages by selectors or main-text extraction."""

    name = "html"

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if not self.is_text(response):
            return
        sel = self.selector(response)
        s = self.selectors
        if s.item:
            nodes = select(sel, s.item)
            if not nodes:
                self.note_unmatched("selectors.item", s.item, response)
            for index, node in enumerate(nodes):
                yield from self.list_item(node, index, response)
        elif self.follows:
            links = select_links(sel, s.links) if s.links else auto_links(sel, response.url)
            if s.links and not links:
                self.note_unmatched("selectors.links", s.links, response)
            for link in dict.fromkeys(links):
                if self.full:
                    break
                yield self.article(response.urljoin(link))
        if s.next_page:
            yield from self.next_listing(next(iter(select_links(sel, s.next_page)), None), response)

    def list_item(self, node: Selector, index: int, response: Response) -> Iterator[Any]:
        """One post shown on a list page; followed to its page when the body is not on the list."""
        s = self.selectors
        fields = self.fields_from(node)
        link = next(iter(select_links(node, s.links or "a")), None)
        if link is None:
            # no own page: a stable, unique URL from the list page and the post's content
            digest = hashlib.sha1(f"{fields['title']}\n{fields['text']}".encode()).hexdigest()[:16]
            sep = "&" if "?" in response.url else "?"
            url = f"{response.url}{sep}yuqing_item={digest}"
        else:
            url = response.urljoin(link)
        if not s.body and link and self.follows:
            yield self.article(url, {k: v for k, v in fields.items() if v})
            return
        item = self.make_item(url, **fields)
        if item is not None:
            yield item
