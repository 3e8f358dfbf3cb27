"""The base of the generic spiders: a source from config, limits, requests and items."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import scrapy
from parsel import Selector
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from config import Source, load_config
from config.sources_model import Selectors
from crawlers.context import CrawlRuntime, crawl_settings, find_source, runtime, search_urls
from crawlers.encoding import decode_html
from crawlers.extract import extract_article, extract_metadata
from crawlers.failures import download_cause
from crawlers.items import PostItem
from crawlers.middlewares import ARTICLE_META
from crawlers.selectors import parse_count, select_text
from storage.runs import WARNING_STAT
from yuqing.base.post import Post

logger = logging.getLogger(__name__)
PAGE_META = "yuqing_page"
COUNT_FIELDS = ("views", "likes", "reposts", "comments")
TEXT_TYPES = (b"text/", b"xml", b"json", b"html", b"rss", b"atom", b"javascript")


class SourceSpider(scrapy.Spider):
    """A spider set up by one ``config.sources_model.Source``; subclasses parse one kind."""

    rt: CrawlRuntime
    source: Source
    max_pages: int
    emitted: int  # posts claimed so far against max_items
    unmatched: dict[str, list[str]]  # selector key → list pages it matched nothing on

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        source_id = settings.get("YUQING_SOURCE")
        if source_id:  # also for `scrapy crawl KIND -s YUQING_SOURCE=ID`
            config = load_config(settings.get("YUQING_CONFIG_DIR") or None)
            source = find_source(config, source_id)
            settings.setdict(
                crawl_settings(config, source, settings.getint("YUQING_MAX_PAGES") or None), priority="spider"
            )

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        spider: SourceSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.rt = runtime(crawler)
        spider.source = spider.rt.source
        if spider.source.kind != cls.name:
            logger.warning(
                "source %s is of kind %s, crawled with spider %s", spider.source.id, spider.source.kind, cls.name
            )
        spider.max_pages = crawler.settings.getint("YUQING_MAX_PAGES") or spider.source.max_pages
        spider.emitted = 0
        spider.unmatched = {}
        env_names = {**spider.source.headers_env, **spider.source.cookies_env}
        for name, var in env_names.items():
            if var not in os.environ:
                logger.warning(
                    "source %s: %s comes from $%s, which is not set; sent without it", spider.source.id, name, var
                )
        return spider

    # -- requests --------------------------------------------------------------------------
    def start_urls_for_source(self) -> list[str]:
        return [*self.source.start_urls, *search_urls(self.source, self.rt.config)]

    async def start(self) -> Any:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        for url in self.start_urls_for_source():
            yield self.listing(url, page=1, dont_filter=True)

    def _request(self, url: str, callback: Any, meta: dict[str, Any], **kwargs: Any) -> Request:
        if self.source.obey_robots is False:
            meta["dont_obey_robotstxt"] = True
        # headers_env / cookies_env are added by CredentialsMiddleware, for the source's origins only
        return Request(url, callback=callback, errback=self.on_error, meta=meta, **kwargs)

    def listing(self, url: str, page: int, callback: Any = None, **kwargs: Any) -> Request:
        """A request for a list page, feed, API page or sitemap (counted against max_pages)."""
        return self._request(url, callback or self.parse, {PAGE_META: page}, **kwargs)

    def next_listing(self, url: str | None, response: Response) -> Iterator[Request]:
        """The next list page, while under max_pages and max_items."""
        page = int(response.meta.get(PAGE_META, 1))
        if url and page < self.max_pages and not self.full:
            yield self.listing(response.urljoin(url), page=page + 1)

    def article(self, url: str, defaults: dict[str, Any] | None = None) -> Request:
        """A request for an article page; ``defaults`` are fields the listing already showed."""
        # its share of max_items is claimed by IncrementalMiddleware, once known URLs are dropped
        return self._request(url, self.parse_article, {ARTICLE_META: True}, cb_kwargs={"defaults": defaults or {}})

    @property
    def full(self) -> bool:
        return self.emitted >= self.source.max_items

    @property
    def follows(self) -> bool:
        return self.source.follow_articles and self.source.max_depth >= 1

    # -- responses -------------------------------------------------------------------------
    def is_text(self, response: Response) -> bool:
        """False (and an error counted) for images, PDFs and other non-text responses."""
        ctype = (response.headers.get(b"Content-Type") or b"").lower()
        if not ctype or any(t in ctype for t in TEXT_TYPES):
            return True
        self.record_error(f"not a text response ({ctype.decode('latin-1')})", response.url)
        return False

    def decode(self, response: Response) -> str:
        """The response body as text: the source's fixed encoding, or detection."""
        if self.source.encoding:
            return response.body.decode(self.source.encoding, errors="replace")
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        charset = ctype.split("charset=", 1)[1].split(";")[0].strip() if "charset=" in ctype else None
        return decode_html(response.body, charset)[0]

    def selector(self, response: Response) -> Selector:
        return Selector(text=self.decode(response), base_url=response.url)

    @property
    def selectors(self) -> Selectors:
        return self.source.selectors or Selectors()

    def parse_article(self, response: Response, defaults: dict[str, Any]) -> Iterator[PostItem | None]:
        """An article page: configured selectors first, main-text extraction for the rest."""
        if not self.is_text(response):
            return
        html = self.decode(response)
        sel = Selector(text=html, base_url=response.url)
        fields = {k: v for k, v in defaults.items() if v}
        fields.update({k: v for k, v in self.fields_from(sel).items() if v})
        if not fields.get("title") or not fields.get("text"):
            found = extract_article(html, response.url)
        elif not fields.get("published") or not fields.get("author"):
            found = extract_metadata(html)  # the body is configured: skip the costly main-text search
        else:
            found = None
        if found is not None:
            auto = {"title": found.title, "text": found.text, "published": found.published, "author": found.author}
            fields.update({k: v for k, v in auto.items() if v and not fields.get(k)})
        yield self.make_item(response.url, claimed=True, **fields)

    def fields_from(self, sel: Selector) -> dict[str, Any]:
        """Title, text, time, author and counts picked by the configured selectors."""
        s = self.selectors
        fields: dict[str, Any] = {
            "title": select_text(sel, s.title),
            "text": select_text(sel, s.body),
            "published": select_text(sel, s.time),
            "author": select_text(sel, s.author),
        }
        for name in COUNT_FIELDS:
            fields[name] = select_text(sel, getattr(s, name))
        return fields

    def make_item(
        self,
        url: str,
        title: str | None = None,
        text: str | None = None,
        published: object = None,
        author: str | None = None,
        text_is_html: bool = False,
        claimed: bool = False,
        **extra: Any,
    ) -> PostItem | None:
        """A PostItem for the pipelines, ``None`` once max_items is reached (``claimed``: its
        share of max_items was taken when its article page was requested)."""
        if not claimed:
            if self.full:
                return None
            self.emitted += 1
        views, likes, reposts, comments = (parse_count(extra.pop(name, None)) for name in COUNT_FIELDS)
        post = Post(
            source_id=self.source.id,
            url=url,
            title=(title or "").strip(),
            text=text or "",
            author=(author or "").strip()[:255] or None,
            fetched_at=self.rt.now,
            views=views,
            likes=likes,
            reposts=reposts,
            comments=comments,
            extras={k: v for k, v in extra.items() if v is not None},
        )
        return PostItem(post=post, published_raw=published, text_is_html=text_is_html)

    # -- errors ----------------------------------------------------------------------------
    def note_unmatched(self, key: str, expr: str, response: Response) -> None:
        """A list selector (or JSON path) that matched nothing on a start page: the crawl's summary
        warns, since ``ok items=0`` alone looks like a quiet source. A later page past the end of a
        list, or a search without results, is no sign of a wrong selector."""
        first_url = (response.meta.get("redirect_urls") or [response.url])[0]
        if response.meta.get(PAGE_META) != 1 or first_url not in self.source.start_urls:
            return
        url = response.url
        pages = self.unmatched.setdefault(key, [])
        pages.append(url)
        more = f" (and {len(pages) - 1} more page(s))" if len(pages) > 1 else ""
        self.crawler.stats.set_value(f"{WARNING_STAT}{key}", f"{key} {expr!r} matched nothing on {pages[0]}{more}")
        logger.warning("%s %r matched nothing on %s", key, expr, url)

    def record_error(self, message: str, url: str) -> None:
        """Count one failed page; the run recorder summarises them."""
        self.rt.record_error(message, url)
        self.crawler.stats.inc_value("yuqing/errors")
        logger.warning("%s: %s", message, url)

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if failure.check(HttpError):
            error = failure.value
            assert isinstance(error, HttpError)  # failure.check said so; this tells mypy
            self.record_error(f"HTTP {error.response.status}", url)
        elif failure.check(IgnoreRequest):
            if "robots" in str(failure.value):
                self.crawler.stats.inc_value("yuqing/robots_forbidden")
            elif "DOWNLOAD_MAXSIZE" in str(failure.value):  # HttpCompressionMiddleware's limit
                self.record_error("page too large once decompressed (over max_page_bytes)", url)
            else:
                self.record_error(str(failure.value) or "request ignored", url)
        else:
            self.record_error(download_cause(failure.value), url)
