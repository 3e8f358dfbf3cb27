"""The selector tester (the console's source page): fetch one page of a source under the crawl's
URL policy, or take pasted HTML, and show what each of the source's selectors yields.

No Scrapy here (the console must not import it): a small urllib client applies the same policy as
``crawlers.middlewares.UrlPolicyMiddleware`` (http(s) only; hosts on loopback, private, link-local,
metadata … addresses refused unless ``crawl.allow_private_addresses`` or the source's
``allow_private``, or the host is the source's own start/search host), checks every redirect
again, bounds the body by ``crawl.max_page_bytes`` (decompressed too) and times out as the crawl
does. The source's ``headers_env`` / ``cookies_env`` go to its own origins only. A name is
resolved once: the connection goes to the addresses that were checked, so a name that resolves to a
public address for the check and a private one a moment later (DNS rebinding) cannot reach the
private one. (Through a proxy from the environment, the proxy resolves the name.)

Selectors are applied by the spiders' own code (``crawlers.selectors``, ``crawlers.encoding``)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.client import HTTPResponse
from typing import Any
from urllib.parse import urljoin

import jmespath
from parsel import Selector

from config import Source
from config.settings_model import CrawlSettings
from crawlers.encoding import decode_html
from crawlers.extract import Article, extract_article
from crawlers.policy import (
    TooLarge,
    checked_addresses,
    gunzip_bounded,
    host_name,
    host_refusal,
    origin,
    own_urls,
    source_origins,
)
from crawlers.selectors import node_text, select, select_links
from yuqing.base.errors import CrawlError

MAX_REDIRECTS = 5
READ_CHUNK = 65536
MAX_VALUES = 20  # values shown per selector
MAX_ITEMS = 5  # items of a list page (selectors.item, json_paths.items) shown with their fields
MAX_CHARS = 500  # characters shown per value
LINK_KEYS = ("links", "next_page")
ITEM_FIELDS = ("title", "body", "time", "author", "views", "likes", "reposts", "comments", "links")
JSON_FIELDS = ("url", "title", "text", "time", "author", "views", "likes", "reposts", "comments")


class ProbeRefused(CrawlError):
    """The page was not fetched: ``kind`` is ``scheme``, ``private``, ``too_large``, ``http``,
    ``redirects`` or ``network``; the message says what, for the admin."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Fetched:
    """A fetched page: its final URL (after redirects), raw bytes and declared charset."""

    url: str
    body: bytes
    charset: str | None


@dataclass
class Match:
    """What one selector (or JSON path) yields: its values, how many nodes matched in all."""

    key: str
    expr: str
    count: int
    values: list[str]


@dataclass
class Probe:
    """What the tester shows: the page's selectors, and the fields of its first list items."""

    url: str | None
    encoding: str
    matches: list[Match] = field(default_factory=list)
    items: list[list[Match]] = field(default_factory=list)
    item_count: int = 0
    error: str = ""
    article: Article | None = None
    """what the spiders extract from an article page where no selector gives the field"""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as errors: each hop is checked against the policy before it is followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


Pins = dict[str, list[str]]
"""host name → the addresses checked for it, the only ones a connection to it may use"""


def _connect_to(addresses: list[str]) -> Any:
    """``HTTPConnection._create_connection`` for the checked addresses, tried in order."""

    def connect(address: tuple[str, int], timeout: Any = None, source_address: Any = None) -> socket.socket:
        error: OSError = OSError(f"no address for {address[0]}")
        for ip in addresses:
            try:
                return socket.create_connection((ip, address[1]), timeout, source_address)
            except OSError as exc:
                error = exc
        raise error

    return connect


def _pinned(base: type[http.client.HTTPConnection], pins: Pins) -> Any:
    def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        connection = base(host, **kwargs)
        addresses = pins.get(host_name(connection.host))
        if addresses:
            connection._create_connection = _connect_to(addresses)  # type: ignore[attr-defined]
        return connection

    return make


class _PinnedHTTP(urllib.request.HTTPHandler):
    def __init__(self, pins: Pins) -> None:
        super().__init__()
        self.pins = pins

    def http_open(self, req: urllib.request.Request) -> HTTPResponse:
        return self.do_open(_pinned(http.client.HTTPConnection, self.pins), req)


class _PinnedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, pins: Pins) -> None:
        super().__init__()
        self.pins = pins

    def https_open(self, req: urllib.request.Request) -> HTTPResponse:
        return self.do_open(_pinned(http.client.HTTPSConnection, self.pins), req)


def check_url(url: str, source: Source, crawl: CrawlSettings) -> list[str]:
    """Raise ``ProbeRefused`` when the crawl of ``source`` would refuse ``url``; otherwise the
    addresses that were checked (the connection must use them), or ``[]`` when none was needed."""
    place = origin(url)
    if place is None:
        raise ProbeRefused("scheme", f"only http(s) URLs are fetched, not {url[:80]!r}")
    if crawl.allow_private_addresses or source.allow_private:
        return []
    own = {p[1] for p in map(origin, own_urls(source)) if p is not None and host_refusal(p[1], p[2]) is not None}
    if place[1] in own:
        return []
    addresses, refusal = checked_addresses(place[1], place[2])
    if refusal is not None:
        raise ProbeRefused("private", refusal)
    if not addresses:  # a second lookup must not get to choose
        raise ProbeRefused("network", f"DNS lookup failed for {place[1]}")
    return addresses


def _headers(url: str, source: Source, crawl: CrawlSettings) -> dict[str, str]:
    headers = {"User-Agent": crawl.user_agent, "Accept-Encoding": "gzip, identity", "Accept": "*/*"}
    if origin(url) in source_origins(source):
        headers.update({name: os.environ[var] for name, var in source.headers_env.items() if var in os.environ})
        cookies = [f"{name}={os.environ[var]}" for name, var in source.cookies_env.items() if var in os.environ]
        if cookies:
            headers["Cookie"] = "; ".join(cookies)
    return headers


def _read(answer: HTTPResponse, limit: int, deadline: float) -> bytes:
    """The body, at most ``limit`` bytes, read by the ``deadline`` (a page that drips a byte at a
    time would otherwise pass every socket timeout)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := answer.read1(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ProbeRefused("too_large", f"page larger than {limit} bytes (crawl.max_page_bytes)")
        if time.monotonic() > deadline:
            raise ProbeRefused("network", "timeout: the page was not read within the crawl's timeout")
        chunks.append(chunk)
    body = b"".join(chunks)
    if (answer.headers.get("Content-Encoding") or "").lower() in ("gzip", "x-gzip"):
        try:
            body = gunzip_bounded(body, limit)
        except TooLarge as exc:
            raise ProbeRefused("too_large", f"page {exc} (crawl.max_page_bytes)") from None
        except OSError as exc:
            raise ProbeRefused("network", str(exc)) from None
    return body


def fetch(url: str, source: Source, crawl: CrawlSettings) -> Fetched:
    """One page of ``source`` under the crawl's policy, redirects checked hop by hop."""
    pins: Pins = {}
    opener = urllib.request.build_opener(_NoRedirect, _PinnedHTTP(pins), _PinnedHTTPS(pins))
    timeout = source.timeout or crawl.timeout
    deadline = time.monotonic() + timeout  # for the whole fetch, redirects included
    for _ in range(MAX_REDIRECTS + 1):
        pins.clear()
        place = origin(url)
        addresses = check_url(url, source, crawl)
        if place is not None and addresses:
            pins[host_name(place[1])] = addresses
        request = urllib.request.Request(url, headers=_headers(url, source, crawl))
        try:
            with opener.open(request, timeout=timeout) as answer:
                body = _read(answer, crawl.max_page_bytes, deadline)
                return Fetched(answer.geturl(), body, answer.headers.get_content_charset())
        except urllib.error.HTTPError as exc:
            location = exc.headers.get("Location") if 300 <= exc.code < 400 else None
            exc.close()
            if not location:
                raise ProbeRefused("http", f"HTTP {exc.code}") from None
            url = urljoin(url, location)
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)  # HTTPException: a bad status line, too many headers …
            raise ProbeRefused("network", f"{type(reason).__name__}: {reason}"[:300]) from None
    raise ProbeRefused("redirects", f"more than {MAX_REDIRECTS} redirects")


def _short(value: str) -> str:
    return value if len(value) <= MAX_CHARS else value[:MAX_CHARS] + "…"


def _match(sel: Selector, key: str, expr: str, base: str | None) -> Match:
    """What one configured selector yields on ``sel``, as the spiders read it."""
    if key in LINK_KEYS:
        links = select_links(sel, expr)
        values = [urljoin(base, link) if base else link for link in links]
        return Match(key, expr, len(values), [_short(v) for v in values[:MAX_VALUES]])
    nodes = select(sel, expr)
    texts = [node_text(node) for node in nodes]
    return Match(key, expr, len(nodes), [_short(t) for t in texts[:MAX_VALUES] if t])


def probe_html(html: str, source: Source, url: str | None = None, encoding: str = "utf-8") -> Probe:
    """Every selector of ``source`` on a page's HTML; with ``selectors.item``, each field of the
    first items too (relative to the item, as the list-page spider reads them)."""
    sel = Selector(text=html, base_url=url or "")
    selectors = source.selectors.model_dump() if source.selectors else {}
    probe = Probe(url, encoding)
    for key, expr in selectors.items():
        if expr and expr.strip():
            probe.matches.append(_match(sel, key, expr, url))
    item = selectors.get("item")
    if item:
        nodes = select(sel, item)
        probe.item_count = len(nodes)
        for node in nodes[:MAX_ITEMS]:
            fields = [(k, selectors.get(k) or ("a" if k == "links" else None)) for k in ITEM_FIELDS]
            probe.items.append([_match(node, k, e, url) for k, e in fields if e])
    found = extract_article(html, url)
    probe.article = Article(_short(found.title), _short(found.text), found.published, found.author)
    return probe


def _json_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def probe_json(text: str, source: Source, url: str | None = None) -> Probe:
    """The ``json_paths`` of a json source on an API page: the items and each field of the first."""
    probe = Probe(url, "utf-8")
    paths = source.json_paths
    if paths is None:
        return probe
    try:
        data = json.loads(text)
        entries = jmespath.search(paths.items, data)
    except (ValueError, jmespath.exceptions.JMESPathError) as exc:
        probe.error = f"not JSON or a bad path ({type(exc).__name__}: {str(exc)[:200]})"
        return probe
    entries = entries if isinstance(entries, list) else []
    probe.item_count = len(entries)
    probe.matches.append(Match("items", paths.items, len(entries), []))
    for entry in entries[:MAX_ITEMS]:
        row = []
        for key in JSON_FIELDS:
            expr = getattr(paths, key)
            if expr:
                found = jmespath.search(expr, entry)
                row.append(
                    Match(key, expr, 0 if found is None else 1, [] if found is None else [_short(_json_value(found))])
                )
        probe.items.append(row)
    return probe


def probe_page(body: bytes | str, source: Source, url: str | None = None, charset: str | None = None) -> Probe:
    """Decode a page as the spider does (the source's fixed encoding, else detection) and probe it."""
    if isinstance(body, str):
        text, encoding = body, "utf-8"
    elif source.encoding:
        text, encoding = body.decode(source.encoding, errors="replace"), source.encoding
    else:
        text, encoding = decode_html(body, charset)
    if source.kind == "json":
        return probe_json(text, source, url)
    return probe_html(text, source, url, encoding)
