"""The selector tester's fetch (``crawlers.probe``): the crawl's bounds without Scrapy, against the
suite's mock server; and what a json source's paths yield."""

from __future__ import annotations

import socket
import threading
import time
from typing import BinaryIO

import pytest
from hostile import gzip_bomb

import crawlers.policy
from config import Source
from config.settings_model import CrawlSettings
from crawlers.probe import MAX_REDIRECTS, ProbeRefused, fetch, probe_page
from tests.mockserver import MockServer, Response, html, json_response, redirect, status

ALLOWED = CrawlSettings(max_page_bytes=4096, allow_private_addresses=True, timeout=5)
GBK_PAGE = "<html><head><meta charset='gbk'></head><body><h1>派出所民警回应网友质疑</h1></body></html>"


def source(**kw: object) -> Source:
    return Source.model_validate({"id": "s", "name": "测试", "kind": "html", "start_urls": ["http://1.2.3.4/"], **kw})


def refusal(url: str, settings: CrawlSettings = ALLOWED, **kw: object) -> ProbeRefused:
    with pytest.raises(ProbeRefused) as caught:
        fetch(url, source(**kw), settings)
    return caught.value


def test_a_gbk_page_is_decoded_as_the_spider_decodes_it(mockserver: MockServer) -> None:
    mockserver.route("/gbk.html", html(GBK_PAGE, charset="gbk"))
    page = fetch(mockserver.url("/gbk.html"), source(), ALLOWED)
    probe = probe_page(page.body, source(selectors={"title": "h1"}), page.url, page.charset)
    assert probe.encoding == "gb18030" and probe.matches[0].values == ["派出所民警回应网友质疑"]


def test_size_time_and_redirects_are_bounded(mockserver: MockServer) -> None:
    mockserver.route("/big.html", html("<p>" + "很长" * 4000 + "</p>"))
    mockserver.route("/bomb.html", Response(200, gzip_bomb(10_000_000), headers={"Content-Encoding": "gzip"}))
    mockserver.route("/loop", redirect("/loop"))
    mockserver.route("/gone.html", status(410))
    assert refusal(mockserver.url("/big.html")).kind == "too_large"
    assert refusal(mockserver.url("/bomb.html")).kind == "too_large"
    assert refusal(mockserver.url("/loop")).kind == "redirects"
    assert mockserver.hits.count("/loop") == MAX_REDIRECTS + 1
    assert refusal(mockserver.url("/gone.html")).message == "HTTP 410"


def test_private_addresses_need_the_setting_or_the_sources_own_host(mockserver: MockServer) -> None:
    mockserver.route("/a.html", html("<h1>x</h1>"))
    strict = CrawlSettings(max_page_bytes=4096)
    assert refusal(mockserver.url("/a.html"), strict).kind == "private"
    assert refusal("http://169.254.169.254/latest/meta-data/", strict).kind == "private"
    assert refusal("http://[::ffff:127.0.0.1]/", strict).kind == "private"
    assert fetch(mockserver.url("/a.html"), source(allow_private=True), strict).body.startswith(b"<h1>")
    own = source(start_urls=[mockserver.url("/")])
    assert fetch(mockserver.url("/a.html"), own, strict).body.startswith(b"<h1>")
    assert mockserver.hits == ["/a.html", "/a.html"]


def test_credentials_go_to_the_sources_own_origin_only(mockserver: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_TOKEN", "secret-token")
    mockserver.route("/own", redirect(mockserver.url("/other", host="localhost")))
    mockserver.route("/other", html("<h1>x</h1>"))
    creds = source(start_urls=[mockserver.url("/")], headers_env={"X-Token": "PROBE_TOKEN"})
    fetch(mockserver.url("/own"), creds, ALLOWED)
    assert mockserver.last_request("/own").headers.get("X-Token") == "secret-token"
    assert "X-Token" not in mockserver.last_request("/other").headers


def test_a_json_sources_paths(mockserver: MockServer) -> None:
    api = source(
        kind="json",
        json_paths={"items": "data.list", "url": "link", "title": "subject", "time": "created"},
    )
    mockserver.route(
        "/api", json_response({"data": {"list": [{"link": "/p/1", "subject": "民警执法", "created": 1764200000}]}})
    )
    page = fetch(mockserver.url("/api"), api, ALLOWED)
    probe = probe_page(page.body, api, page.url, page.charset)
    assert probe.item_count == 1
    assert [(m.key, m.values) for m in probe.items[0]] == [
        ("url", ["/p/1"]),
        ("title", ["民警执法"]),
        ("time", ["1764200000"]),
    ]
    assert probe_page(b"not json", api).error.startswith("not JSON")


def test_the_connection_goes_to_the_checked_address(mockserver: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name resolves to an allowed address for the check and to another one a
    moment later. The fetch connects to the address that was checked and looks the name up once.
    (The suite's server stands in for a public address: the check is told 127.0.0.1 is public.)"""
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: str, *args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
        if host != "rebind.test":
            return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]
        lookups.append(host)
        answer = "127.0.0.1" if len(lookups) == 1 else "10.255.255.1"
        return real_getaddrinfo(answer, *args, **kwargs)  # type: ignore[arg-type]

    real_refusal = crawlers.policy.address_refusal
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(crawlers.policy, "address_refusal", lambda a: None if a == "127.0.0.1" else real_refusal(a))
    mockserver.route("/a.html", html("<h1>x</h1>"))
    strict = CrawlSettings(max_page_bytes=4096, timeout=3)
    assert fetch(mockserver.url("/a.html", host="rebind.test"), source(), strict).body.startswith(b"<h1>")
    assert lookups == ["rebind.test"]
    assert mockserver.last_request("/a.html").headers.get("Host", "").startswith("rebind.test")


def test_a_name_that_does_not_resolve_is_not_looked_up_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(*args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fails)
    caught = refusal("http://nowhere.test/", CrawlSettings(max_page_bytes=4096))
    assert (caught.kind, caught.message) == ("network", "DNS lookup failed for nowhere.test")


def test_a_dripping_page_stops_at_the_timeout_and_a_broken_answer_is_a_refusal(mockserver: MockServer) -> None:
    """A byte every 0.3 s passes every socket timeout of 1 s: the fetch as a whole is bounded. A server
    that does not speak HTTP is a network refusal (the console's tester shows it), not an error."""

    def drip(out: BinaryIO, stopping: threading.Event) -> None:
        out.write(b"<html><body>")
        while not stopping.wait(0.3):
            out.write(b"x")
            out.flush()

    mockserver.route("/drip.html", Response(stream=drip))
    started = time.monotonic()
    slow = refusal(
        mockserver.url("/drip.html"), CrawlSettings(max_page_bytes=4096, allow_private_addresses=True, timeout=1)
    )
    assert slow.kind == "network" and "timeout" in slow.message
    assert time.monotonic() - started < 5

    with socket.create_server(("127.0.0.1", 0)) as server:

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(b"HELLO\r\n\r\n")

        threading.Thread(target=answer, daemon=True).start()
        broken = refusal(f"http://127.0.0.1:{server.getsockname()[1]}/")
    assert broken.kind == "network" and "BadStatusLine" in broken.message
