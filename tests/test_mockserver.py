"""The suite's mock server answers as the tests that rely on it expect."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.mockserver import MockServer, Request, Response, file, html, json_response, redirect, sequence, status


def fetch(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (names title-cased) and body; error statuses too. Redirects are not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object) -> None:
            return None

    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, {k.title(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.title(): v for k, v in error.headers.items()}, error.read()


def test_static_files_from_root_and_404_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "a.html").write_bytes("<p>新闻</p>".encode())
    with MockServer(root=tmp_path) as server:
        code, headers, body = fetch(server.url("/news/a.html"))
        assert (code, body.decode()) == (200, "<p>新闻</p>")
        assert headers["Content-Type"] == "text/html"  # no charset: the page decides, as real sites do
        assert fetch(server.url("/news/missing.html"))[0] == 404
        assert fetch(server.url("/news/a.html"), method="HEAD")[2] == b""
        assert server.hits == ["/news/a.html", "/news/missing.html", "/news/a.html"]
    with pytest.raises(urllib.error.URLError):  # stopped: the port is closed
        urllib.request.urlopen(server.url("/news/a.html"), timeout=5)


def test_without_root_unrouted_paths_are_404(mockserver: MockServer) -> None:
    assert fetch(mockserver.url("/anything"))[0] == 404
    assert fetch(mockserver.url("/anything"), data=b"{}")[0] == 404


def test_routes_exact_before_patterns_with_the_match(mockserver: MockServer) -> None:
    mockserver.route(re.compile(r"/news/(\d+)\.html"), lambda r: html(f"第{r.match.group(1)}条" if r.match else ""))
    mockserver.route("/news/7.html", status(410))
    assert fetch(mockserver.url("/news/12.html?x=1"))[2].decode() == "第12条"
    assert fetch(mockserver.url("/news/7.html"))[0] == 410
    assert fetch(mockserver.url("/news/12.htmlx"))[0] == 404  # the whole path must match


def test_encodings_redirects_and_files(mockserver: MockServer, tmp_path: Path) -> None:
    (tmp_path / "gbk.html").write_bytes("论坛".encode("gbk"))
    mockserver.route("/gbk", html("论坛", charset="gbk"))
    mockserver.route("/mislabelled", file(tmp_path / "gbk.html", "text/html; charset=utf-8"))
    mockserver.route("/loop", redirect("/loop"))
    code, headers, body = fetch(mockserver.url("/gbk"))
    assert headers["Content-Type"] == "text/html; charset=gbk" and body.decode("gbk") == "论坛"
    code, headers, body = fetch(mockserver.url("/mislabelled"))
    assert headers["Content-Type"] == "text/html; charset=utf-8" and body == "论坛".encode("gbk")
    code, headers, _ = fetch(mockserver.url("/loop"))
    assert (code, headers["Location"]) == (302, "/loop")


def test_sequence_fails_then_recovers(mockserver: MockServer) -> None:
    mockserver.route("/flaky", sequence(status(500), html("ok")))
    assert [fetch(mockserver.url("/flaky"))[0] for _ in range(3)] == [500, 200, 200]


def test_delays_hold_the_answer_back_but_record_the_request_at_once(mockserver: MockServer) -> None:
    mockserver.route("/slow", html("late"))
    mockserver.delays["/slow"] = 1.0
    started = time.monotonic()
    thread = threading.Thread(target=fetch, args=(mockserver.url("/slow"),))
    thread.start()
    while "/slow" not in mockserver.hits:
        time.sleep(0.01)
    assert time.monotonic() - started < 0.9
    thread.join()
    assert time.monotonic() - started >= 1.0


def test_a_request_still_delayed_at_stop_gets_no_answer() -> None:
    outcomes: list[object] = []

    def ask(url: str) -> None:
        try:
            outcomes.append(fetch(url)[0])
        except OSError as error:  # the connection closed without an answer
            outcomes.append(type(error))

    with MockServer() as server:
        server.route("/slow", lambda request: html(server.url("/next")))  # URLs still build after stop()
        server.delays["/slow"] = 0.5
        thread = threading.Thread(target=ask, args=(server.url("/slow"),))
        thread.start()
        while not server.hits:
            time.sleep(0.01)
    thread.join()
    assert len(outcomes) == 1 and outcomes[0] not in (200, 500), outcomes


def test_posted_bodies_and_headers_are_recorded(mockserver: MockServer) -> None:
    mockserver.route(re.compile(r"/.*"), lambda r: json_response({"errcode": 0, "got": r.json()["msg"]}))
    code, headers, body = fetch(
        mockserver.url("/hook?key=k"),
        data='{"msg": "你好"}'.encode(),
        headers={"Content-Type": "application/json", "X-Token": "t"},
    )
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert body.decode() == '{"errcode": 0, "got": "你好"}'
    request = mockserver.last_request("/hook?key=k")
    assert (request.method, request.path, request.query) == ("POST", "/hook", {"key": "k"})
    assert request.headers["X-Token"] == "t" and request.json() == {"msg": "你好"}


def test_a_failing_handler_answers_500(mockserver: MockServer, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(request: Request) -> Response:
        raise ValueError("bug in a test handler")

    mockserver.route("/broken", broken)
    assert fetch(mockserver.url("/broken"))[0] == 500
    assert "bug in a test handler" in capsys.readouterr().err  # shown with the failing test
