"""A hostile web server for crawl tests and ``bench/hostile.py``: a site written by strangers.

Self-contained (standard library only) so it can be folded into a shared mock server later.
``HostileServer.route(path, body, ...)`` serves fixed bytes; ``drip`` and ``endless`` stream; every
request's path and headers are kept in ``hits`` / ``headers_seen``.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

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


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    ctype: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    stream: Callable[[Handler], None] | None = None


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self.headers_seen: dict[str, dict[str, str]] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def route(
        self, path: str, body: bytes = b"", ctype: str = "text/html; charset=utf-8", status: int = 200, **headers: str
    ) -> None:
        self.routes[path] = Route(status, body, ctype, headers)

    def redirect(self, path: str, location: str) -> None:
        self.routes[path] = Route(302, b"", headers={"Location": location})

    def drip(self, path: str, interval: float = 1.0) -> None:
        """A page that sends one byte every ``interval`` seconds, forever."""

        def send(handler: Handler) -> None:
            handler.start(200, "text/html; charset=utf-8")
            handler.wfile.write(b"<html><body>")
            while not self.stop.wait(interval):
                handler.wfile.write(b"x")
                handler.wfile.flush()

        self.routes[path] = Route(stream=send)

    def endless(self, path: str, chunk: bytes = b"<p>" + "无穷无尽的页面。".encode() * 1000 + b"</p>") -> None:
        """A page without Content-Length that never ends (as fast as the client reads)."""

        def send(handler: Handler) -> None:
            handler.start(200, "text/html; charset=utf-8")
            while not self.stop.is_set():
                handler.wfile.write(chunk)

        self.routes[path] = Route(stream=send)

    def close(self) -> None:
        self.stop.set()
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    server: HostileServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass

    def start(self, status: int, ctype: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = urlsplit(self.path).path
        with self.server.lock:
            self.server.hits.append(self.path)
            self.server.headers_seen[self.path] = dict(self.headers.items())
        route = self.server.routes.get(path) or Route(404, b"not found")
        try:
            if route.stream is not None:
                route.stream(self)
                return
            self.start(route.status, route.ctype, **{"Content-Length": str(len(route.body)), **route.headers})
            self.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler hung up: expected for pages over its limits


def start_hostile() -> HostileServer:
    """A hostile server on a free port of 127.0.0.1, serving in a daemon thread."""
    server = HostileServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
