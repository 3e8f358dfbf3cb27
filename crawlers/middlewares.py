"""Downloader and spider middlewares: the URL policy (http(s) only, no private addresses),
credentials kept to their origins, retries with backoff, and incremental crawling."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

from crawlers.context import runtime
from crawlers.policy import ALLOWED_SCHEMES, DEFAULT_PORTS, checked_addresses, origin, own_urls, source_origins
from crawlers.resolver import PinnedResolver
from storage.repo import known_hashes
from yuqing.base.post import canonicalize_url, url_hash

logger = logging.getLogger(__name__)
ARTICLE_META = "yuqing_article"


class UrlPolicyMiddleware:
    """Refuses, before any byte is fetched (and again for every redirect, which comes back through
    here), a request whose scheme is not http/https, or whose host is a cloud-metadata name or
    resolves to a loopback, private, link-local, unique-local, multicast, reserved or other
    non-global address. The refusal is an ``IgnoreRequest`` (the spider's errback records it in
    the run's error summary) and a ``yuqing/refused/scheme`` or ``yuqing/refused/private_address``
    counter.

    Exempt from the address check: every host when ``crawl.allow_private_addresses`` or the
    source's ``allow_private`` is true, and the host of a start/search URL of the source that is
    itself on such an address (an intranet source may crawl its own host, nothing else).

    Names are resolved here with ``getaddrinfo`` in a thread (once per host and crawl) and refused
    if ANY address is private, so a DNS answer listing a public address first and a private one
    later is refused. A name that passes is pinned to an address that was checked
    (``crawlers.resolver.PinnedResolver``): the download connects there without a second lookup,
    so a name that answers public here and private a moment later (DNS rebinding) cannot reach the
    private address, and a name that did not resolve here is not looked up again.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.allow_all = crawler.settings.getbool("YUQING_ALLOW_PRIVATE")
        self.verdicts: dict[tuple[str, int], str | None] = {}
        self.own_private: set[str] | None = None  # start hosts on private addresses, found on first use

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UrlPolicyMiddleware:
        return cls(crawler)

    async def _verdict(self, host: str, port: int) -> str | None:
        key = (host, port)
        if key not in self.verdicts:
            from twisted.internet import threads  # the running reactor's thread pool

            addresses, refusal = await maybe_deferred_to_future(threads.deferToThread(checked_addresses, host, port))
            if refusal is None:
                self._pin(host, addresses)
            self.verdicts[key] = refusal
        return self.verdicts[key]

    @staticmethod
    def _pin(host: str, addresses: list[str]) -> None:
        from twisted.internet import reactor  # the running reactor, which holds the crawl's resolver

        resolver = getattr(reactor, "resolver", None)
        if isinstance(resolver, PinnedResolver):
            resolver.pin(host, addresses)
        else:
            logger.warning("DNS resolver %s does not pin checked addresses (DNS rebinding)", type(resolver).__name__)

    async def _own_private_hosts(self) -> set[str]:
        if self.own_private is None:
            found = set()
            for url in own_urls(runtime(self.crawler).source):
                place = origin(url)
                if place is not None and await self._verdict(place[1], place[2]) is not None:
                    found.add(place[1])
            self.own_private = found
        return self.own_private

    def _refuse(self, request: Request, kind: str, message: str) -> IgnoreRequest:
        if request.callback is not NO_CALLBACK and self.crawler.stats:  # robots.txt: its page counts
            self.crawler.stats.inc_value(f"yuqing/refused/{kind}")
        logger.warning("%s: %s", message, request.url)
        return IgnoreRequest(message)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        parsed = urlparse_cached(request)
        scheme = parsed.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise self._refuse(request, "scheme", f"refused non-http(s) URL ({scheme or 'no scheme'}:)")
        host = (parsed.hostname or "").lower().rstrip(".")
        if self.allow_all or host in await self._own_private_hosts():
            return None
        try:
            port = parsed.port or DEFAULT_PORTS[scheme]
        except ValueError:
            return None  # a malformed port: the download fails on its own
        refusal = await self._verdict(host, port)
        if refusal is not None:
            raise self._refuse(request, "private_address", refusal)
        return None


class CredentialsMiddleware:
    """Adds the source's ``headers_env`` headers and ``cookies_env`` cookies to requests for its
    own origins only (scheme, host and port of its start/search URLs, or its ``credential_hosts``),
    and strips those headers from any other request, such as a link to another site or a redirect
    there (Scrapy copies a request's headers into its redirect). The cookies are added to the
    ``Cookie`` header after the cookie middleware, so they never enter the cookie jar, which
    would send them to the same host on any port."""

    def __init__(self, crawler: Crawler) -> None:
        source = runtime(crawler).source
        self.origins = source_origins(source)
        self.headers = {name: os.environ[var] for name, var in source.headers_env.items() if var in os.environ}
        self.cookies = {name: os.environ[var] for name, var in source.cookies_env.items() if var in os.environ}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CredentialsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if not self.headers and not self.cookies:
            return None
        allowed = origin(request.url) in self.origins
        for name, value in self.headers.items():
            if allowed:
                request.headers[name] = value
            else:
                request.headers.pop(name, None)
        jar = [
            pair
            for pair in (request.headers.get(b"Cookie") or b"").decode("latin-1").split(";")
            if pair.strip() and pair.split("=", 1)[0].strip() not in self.cookies
        ]
        if allowed:
            jar += [f"{name}={value}" for name, value in self.cookies.items()]
        if jar:
            request.headers[b"Cookie"] = "; ".join(pair.strip() for pair in jar).encode("latin-1", "replace")
        else:
            request.headers.pop(b"Cookie", None)
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries on 5xx and timeouts, waiting ``YUQING_RETRY_BACKOFF * 2**n`` seconds first."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("YUQING_RETRY_BACKOFF", 1.0)

    async def _pause(self, result: Any) -> Any:
        if isinstance(result, Request) and self.backoff > 0:
            attempt = max(1, int(result.meta.get("retry_times", 1)))
            delay = self.backoff * 2 ** (attempt - 1)
            from twisted.internet import (  # the running reactor, installed by Scrapy
                reactor,
                task,
            )

            await maybe_deferred_to_future(task.deferLater(reactor, delay, lambda: None))
        return result

    async def process_response(self, request: Request, response: Any, spider: Any = None) -> Any:  # type: ignore[override]  # async: Scrapy ≥ 2.13 awaits it
        return await self._pause(super().process_response(request, response))

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Any:  # type: ignore[override]  # async: Scrapy ≥ 2.13 awaits it
        return await self._pause(super().process_exception(request, exception))


class IncrementalMiddleware:
    """Drops requests for article pages whose canonical URL is stored already (one query per
    callback; unless the source has ``refresh: true``), then lets through only as many as
    ``max_items`` still allows, so stored URLs never use up a run's budget."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        return cls(crawler)

    def _known(self, hashes: list[str]) -> set[str]:
        rt = runtime(self.crawler)
        if not hashes or rt.source.refresh:
            return set()
        with rt.sessions() as session:
            return known_hashes(session, hashes)

    def _filter(self, batch: list[Any]) -> list[Any]:
        articles = {
            id(r): url_hash(canonicalize_url(r.url))
            for r in batch
            if isinstance(r, Request) and r.meta.get(ARTICLE_META)
        }
        if not articles:
            return batch
        known = self._known(list(articles.values()))
        spider = self.crawler.spider
        budget = max(0, runtime(self.crawler).source.max_items - getattr(spider, "emitted", 0))
        kept: list[Any] = []
        for entry in batch:
            key = articles.get(id(entry))
            if key is not None and (key in known or budget <= 0):
                self._count("yuqing/skipped_known" if key in known else "yuqing/skipped_max_items")
                continue
            if key is not None:
                budget -= 1
                spider.emitted = getattr(spider, "emitted", 0) + 1  # type: ignore[union-attr]  # a counter of ours on the spider
            kept.append(entry)
        return kept

    def _count(self, key: str) -> None:
        if self.crawler.stats:
            self.crawler.stats.inc_value(key)

    def process_spider_output(self, response: Any, result: Iterable[Any], spider: Any = None) -> Iterable[Any]:
        yield from self._filter(list(result))

    async def process_spider_output_async(
        self, response: Any, result: AsyncIterator[Any], spider: Any = None
    ) -> AsyncIterator[Any]:
        batch = [item async for item in result]
        for item in self._filter(batch):
            yield item
