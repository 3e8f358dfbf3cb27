"""The fixture site's HTTP server: files under ``site/`` plus routes that misbehave on purpose."""

from __future__ import annotations

import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SITE = Path(__file__).resolve().parent / "site"
WRONG_CHARSET = {"/forum/list.html": "text/html; charset=utf-8"}  # GBK bytes served as UTF-8
FLAKY_ARTICLE = ("<html><head><meta charset='utf-8'><title>故障恢复后的文章</title></head><body>"
                 "<h1 class='title'>故障恢复后的文章</h1><span class='time'>2023-03-10 11:00</span>"
                 "<div class='content'><p>服务器第一次返回错误，重试之后正常返回了这篇文章的正文内容。</p></div></body></html>")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class FixtureServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, slow_seconds: float = 3.0) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.slow_seconds = slow_seconds
        self.hits: list[str] = []
        self.headers_seen: dict[str, dict[str, str]] = {}
        self.flaky_calls = 0
        self.lock = threading.Lock()
        self.big_bytes = 5 * 1024 * 1024

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(SimpleHTTPRequestHandler):
    server: FixtureServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(SITE), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the crawler hung up (a page over its size limit): expected

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = urlsplit(self.path).path
        with self.server.lock:
            self.server.hits.append(self.path)
            self.server.headers_seen[self.path] = dict(self.headers.items())
        route = ROUTES.get(path)
        if route is not None:
            route(self)
        elif path == "/api/posts":
            page = parse_qs(urlsplit(self.path).query).get("page", ["1"])[0]
            file = SITE / "api" / f"posts-{page}.json"
            if file.exists():
                self._send(200, file.read_bytes(), "application/json")
            else:
                self._send(404, b"{}", "application/json")
        elif path == "/search":
            word = parse_qs(urlsplit(self.path).query).get("q", [""])[0]
            body = f'<html><body><ul class="news-list"><li><a href="/news/a2.html">搜索结果：{word} 相关新闻</a></li></ul></body></html>'
            self._send(200, body.encode("utf-8"))
        elif path in WRONG_CHARSET:
            self._send(200, (SITE / path.lstrip("/")).read_bytes(), WRONG_CHARSET[path])
        else:
            super().do_GET()

    def guess_type(self, path: Any) -> str:
        ctype = super().guess_type(path)
        return "text/html" if ctype == "text/html" else ctype  # no charset: the page decides

    def flaky(self) -> None:
        with self.server.lock:
            self.server.flaky_calls += 1
            first = self.server.flaky_calls == 1
        if first:
            self._send(500, b"<h1>Internal Server Error</h1>")
        else:
            self._send(200, FLAKY_ARTICLE.encode("utf-8"))

    def slow(self) -> None:
        time.sleep(self.server.slow_seconds)
        self._send(200, b"<html><body><h1>too late</h1></body></html>")

    def loop(self) -> None:
        self._send(302, b"", Location="/err/loop.html")

    def image(self) -> None:
        self._send(200, PNG, "image/png")

    def big(self) -> None:
        filler = ("<p>" + "很长的页面内容。" * 100 + "</p>\n").encode("utf-8")
        body = b"<html><body>" + filler * (self.server.big_bytes // len(filler) + 1) + b"</body></html>"
        self._send(200, body)


ROUTES = {"/err/flaky.html": Handler.flaky, "/err/slow.html": Handler.slow, "/err/loop.html": Handler.loop,
          "/err/image.png": Handler.image, "/err/big.html": Handler.big}


def start_server(slow_seconds: float = 3.0) -> FixtureServer:
    """A fixture server on a free port, serving in a daemon thread."""
    server = FixtureServer(slow_seconds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
