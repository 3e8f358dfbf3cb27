"""The one HTTP server of the test suite and the benchmarks, in the manner of Scrapy's
``tests/mockserver``: a threaded server on 127.0.0.1, port 0, serving the files of a directory
(``root``) and, per path, the answers a test sets (status codes, redirects, pages in other
encodings, slow answers, generated pages); it records every request it receives, bodies included.

    with MockServer(root=SITE) as server:
        server.route("/gone.html", status(410))                    # a fixed answer
        server.route("/api/posts", lambda request: json_response({"page": request.query["page"]}))
        server.route(re.compile(r"/news/(\\d+)\\.html"), article)    # the match is request.match
        server.delays["/slow.html"] = 3.0                           # answer after 3 s
        crawl(server.url("/index.html"))
        assert server.hits.count("/index.html") == 1

Tests take a started server, no root, from the ``mockserver`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socket import socket
from types import TracebackType
from typing import Any, BinaryIO, Self
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]
    body: bytes = b""
    match: re.Match[str] | None = None  # of the pattern route that answered it

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        """The first value of each query parameter, decoded."""
        return {k: v[0] for k, v in parse_qs(urlsplit(self.target).query, keep_blank_values=True).items()}

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # a body written as it goes, without Content-Length (the connection's end ends it): called with the
    # socket's file and an event set when the server stops
    stream: Callable[[BinaryIO, threading.Event], None] | None = None


Handler = Callable[[Request], Response]
Answer = Handler | Response


def html(text: str, charset: str = "utf-8", code: int = 200) -> Response:
    """``text`` encoded in ``charset`` (``gbk``, ``gb18030`` …), which Content-Type names."""
    return Response(code, text.encode(charset), f"text/html; charset={charset}")


def json_response(data: Any, code: int = 200) -> Response:
    return Response(code, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json")


def status(code: int) -> Response:
    """An error page with ``code``."""
    phrase = HTTPStatus(code).phrase
    return html(f"<html><body><h1>{code} {phrase}</h1></body></html>", code=code)


def redirect(location: str, code: int = 302) -> Response:
    return Response(code, b"", headers={"Location": location})


def file(path: Path, content_type: str) -> Response:
    """The bytes of ``path`` under a Content-Type of our choosing (e.g. GBK bytes labelled UTF-8)."""
    return Response(200, path.read_bytes(), content_type)


def sequence(*responses: Response) -> Handler:
    """Answers ``responses`` in turn, then the last one for ever: a page that fails, then recovers."""
    lock = threading.Lock()
    served = [0]

    def answer(request: Request) -> Response:
        with lock:  # concurrent requests must each take their own turn
            turn = served[0]
            served[0] += 1
        return responses[min(turn, len(responses) - 1)]

    return answer


class MockServer:
    """A threaded HTTP server on 127.0.0.1 and a port the OS picks (or ``bind``: another loopback
    address and a given port); a context manager."""

    def __init__(self, root: Path | None = None, bind: tuple[str, int] = (HOST, 0)) -> None:
        self.root = root  # unrouted GET and HEAD requests are served from here; 404 without it
        self.bind = bind
        self.delays: dict[str, float] = {}  # path → seconds to wait before answering
        self.requests: list[Request] = []
        self._exact: dict[str, Answer] = {}
        self._patterns: list[tuple[re.Pattern[str], Answer]] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()  # set by stop(): streaming answers end
        self._httpd: _HTTPServer | None = None
        self._port: int | None = None  # kept after stop(): a handler still asleep on a delay may build URLs

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> Self:
        self._httpd = _HTTPServer(self)
        self._port = int(self._httpd.server_address[1])
        # a short poll: stop() waits up to one interval, once per test
        threading.Thread(target=self._httpd.serve_forever, args=(0.1,), name="mockserver", daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        assert self._port is not None, "the mock server was never started"
        return self._port

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self, target: str, host: str = HOST) -> str:
        """``target`` on this server; ``host`` names it otherwise (``localhost``: another host name for
        the same address)."""
        return f"http://{host}:{self.port}{target}"

    def route(self, path: str | re.Pattern[str], answer: Answer) -> None:
        """Answer requests for ``path`` (exact, query aside; or a pattern the whole path matches),
        whatever their method, with a fixed response or a handler's. Exact paths win; then the first
        matching pattern."""
        if isinstance(path, str):
            self._exact[path] = answer
        else:
            self._patterns.append((path, answer))

    @property
    def hits(self) -> list[str]:
        """The target (path and query) of every request so far, in order."""
        return [r.target for r in self.requests]

    def last_request(self, target: str) -> Request:
        """The latest request for ``target`` (path and query)."""
        found = [r for r in self.requests if r.target == target]
        assert found, f"no request for {target}; got {self.hits}"
        return found[-1]

    def find(self, path: str) -> tuple[Answer, re.Match[str] | None] | None:
        if path in self._exact:
            return self._exact[path], None
        for pattern, answer in self._patterns:
            match = pattern.fullmatch(path)
            if match:
                return answer, match
        return None

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping on a delay must not hold up stop()

    def __init__(self, mock: MockServer) -> None:
        super().__init__(mock.bind, _Handler)
        self.mock = mock

    def finish_request(self, request: socket | tuple[bytes, socket], client_address: Any) -> None:
        # the root is read per request, so a test may set it after start()
        root = str(self.mock.root) if self.mock.root is not None else None
        _Handler(request, client_address, self, directory=root)


class _Handler(SimpleHTTPRequestHandler):
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def _dispatch(self) -> None:
        mock = self.server.mock
        path = urlsplit(self.path).path
        found = mock.find(path)
        request = Request(
            self.command, self.path, dict(self.headers.items()), self._body(), found[1] if found else None
        )
        mock.record(request)  # before any delay: a test may wait for the request to arrive
        time.sleep(mock.delays.get(path, 0))
        if not mock.running:
            return  # stopped during the delay: the test is over, no one waits for the answer
        if found is not None:
            self._send(self._answer(found[0], request))
        elif self.command in ("GET", "HEAD") and mock.root is not None:
            self._static()
        else:
            self._send(status(404))

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, answer: Answer, request: Request) -> Response:
        if isinstance(answer, Response):
            return answer
        try:
            return answer(request)
        except Exception:
            traceback.print_exc(file=sys.stderr)  # pytest shows it with the failing test
            return status(500)

    def _static(self) -> None:
        try:
            if self.command == "GET":
                super().do_GET()
            else:
                super().do_HEAD()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up (a page over its size limit): expected

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            if response.stream is None:
                self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command == "HEAD":
                return
            if response.stream is not None:
                response.stream(self.wfile, self.server.mock.stopping)
            else:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up (a page over its size limit, a killed crawl): expected
