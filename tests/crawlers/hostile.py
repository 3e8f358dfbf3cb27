"""A hostile site for crawl tests and ``bench/hostile.py``, served by the one mock server.

``HostileServer.route(path, body, ...)`` serves fixed bytes; ``drip`` and ``endless`` stream; every
request's path and headers are kept in ``hits`` / ``headers_seen``.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from typing import BinaryIO

from tests.mockserver import MockServer, Response, redirect

CHUNK = 64 * 1024


def gzip_bomb(size: int, prefix: bytes = b"") -> bytes:
    """``prefix`` and then zeros, ``size`` bytes in all, gzipped (about 1000:1), built in chunks."""
    stream = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    parts = [stream.compress(prefix)]
    zeros = bytes(CHUNK)
    left = size - len(prefix)
    while left > 0:
        parts.append(stream.compress(zeros[: min(CHUNK, left)]))
        left -= CHUNK
    parts.append(stream.flush())
    return b"".join(parts)


def rss(items: list[tuple[str, str, str]], encoding: str = "utf-8", declared: str | None = None) -> bytes:
    """An RSS 2.0 feed of ``(title, link, description)`` items in ``encoding``, declaring
    ``declared`` (default: ``encoding``) in its XML prolog."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><description>{d}</description>"
        f"<pubDate>Fri, 10 Mar 2023 08:00:00 +0800</pubDate></item>"
        for t, link, d in items
    )
    text = (
        f'<?xml version="1.0" encoding="{declared or encoding}"?>\n<rss version="2.0"><channel>'
        f"<title>hostile</title><link>http://example.invalid/</link>{entries}</channel></rss>"
    )
    return text.encode(encoding)


class HostileServer:
    """A site written by strangers, on the one mock server (``tests/mockserver.py``): fixed bytes
    under any Content-Type, redirects, a page that drips and one that never ends; ``hits`` and
    ``headers_seen`` say what the crawler asked for and sent."""

    def __init__(self) -> None:
        self.mock = MockServer().start()

    @property
    def port(self) -> int:
        return self.mock.port

    @property
    def hits(self) -> list[str]:
        return self.mock.hits

    @property
    def headers_seen(self) -> dict[str, dict[str, str]]:
        """Target → the headers of its latest request."""
        return {r.target: r.headers for r in list(self.mock.requests)}

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return self.mock.url(path, host)

    def route(
        self, path: str, body: bytes = b"", ctype: str = "text/html; charset=utf-8", status: int = 200, **headers: str
    ) -> None:
        self.mock.route(path, Response(status, body, ctype, headers))

    def redirect(self, path: str, location: str) -> None:
        self.mock.route(path, redirect(location))

    def drip(self, path: str, interval: float = 1.0) -> None:
        """A page that sends one byte every ``interval`` seconds, forever."""

        def send(out: BinaryIO, stopping: threading.Event) -> None:
            out.write(b"<html><body>")
            while not stopping.wait(interval):
                out.write(b"x")
                out.flush()

        self.mock.route(path, Response(stream=send))

    def endless(self, path: str, chunk: bytes = b"<p>" + "无穷无尽的页面。".encode() * 1000 + b"</p>") -> None:
        """A page without Content-Length that never ends (as fast as the client reads)."""

        def send(out: BinaryIO, stopping: threading.Event) -> None:
            while not stopping.is_set():
                out.write(chunk)

        self.mock.route(path, Response(stream=send))

    def close(self) -> None:
        self.mock.stop()


def start_hostile() -> HostileServer:
    """A hostile server on a free port of 127.0.0.1."""
    return HostileServer()


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
