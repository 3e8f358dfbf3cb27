"""Public JSON APIs: JMESPath paths for the item list, fields and pagination."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jmespath
from scrapy.http import Response

from crawlers.spiders.base import COUNT_FIELDS, PAGE_META, SourceSpider

ITEM_FIELDS = ("title", "text", "time", "author", *COUNT_FIELDS)


def with_page(url: str, param: str, page: int) -> str:
    """``url`` with the query parameter ``param`` set to ``page``."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != param]
    return urlunsplit(parts._replace(query=urlencode([*query, (param, str(page))])))


def search(expr: str | None, data: Any) -> Any:
    return jmespath.search(expr, data) if expr else None


class JsonSpider(SourceSpider):
    """API pages configured by ``json_paths``."""

    name = "json"

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        try:
            data = json.loads(self.decode(response))
        except ValueError as exc:
            self.record_error(f"not JSON ({exc.__class__.__name__})", response.url)
            return
        paths = self.source.json_paths
        assert paths is not None  # the config model requires json_paths for json sources
        entries = search(paths.items, data) or []
        if not isinstance(entries, list):
            self.record_error("json_paths.items is not a list", response.url)
            return
        if not entries:
            self.note_unmatched("json_paths.items", paths.items, response)
        for entry in entries:
            yield from self.entry(entry, response)
        if paths.next_url:
            yield from self.next_listing(search(paths.next_url, data), response)
        elif paths.page_param and entries:
            page = int(response.meta.get(PAGE_META, 1))
            current = dict(parse_qsl(urlsplit(response.url).query)).get(paths.page_param)
            number = int(current) + 1 if current and current.isdigit() else page + 1
            yield from self.next_listing(with_page(response.url, paths.page_param, number), response)

    def entry(self, entry: Any, response: Response) -> Iterator[Any]:
        paths = self.source.json_paths
        assert paths is not None
        url = search(paths.url, entry)
        if not url or self.full:
            return
        fields = {name: search(getattr(paths, name), entry) for name in ITEM_FIELDS}
        fields["published"] = fields.pop("time")
        fields = {k: (str(v) if k in ("title", "text", "author") and v is not None else v) for k, v in fields.items()}
        url = response.urljoin(str(url))
        if not fields["text"] and self.follows:
            yield self.article(url, {k: v for k, v in fields.items() if v})
            return
        item = self.make_item(url, text_is_html=True, **fields)
        if item is not None:
            yield item
