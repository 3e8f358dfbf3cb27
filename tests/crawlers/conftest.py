"""Fixtures of the Collect tests: the fixture site on the mock server and a config that points at it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from storage.db import make_engine, upgrade  # noqa: E402
from tests.mockserver import MockServer, Request, Response, file, html, redirect, sequence, status  # noqa: E402

YUQING = str(Path(sys.executable).with_name("yuqing"))
NOW = "2023-03-10T12:00:00+08:00"  # relative dates on the fixture site count back from here
FAST = ("AUTOTHROTTLE_ENABLED=False", "YUQING_RETRY_BACKOFF=0.05")

SOURCES = """
sources:
  - {{id: rss-test, name: 测试RSS, kind: rss, start_urls: ["{base}/feeds/rss.xml"], delay: 0, timeout: 2}}
  - {{id: atom-test, name: 测试Atom, kind: rss, start_urls: ["{base}/feeds/atom.xml"], delay: 0, timeout: 2}}
  - id: news-test
    name: 测试新闻
    kind: html
    start_urls: ["{base}/news/list-1.html"]
    delay: 0
    timeout: 2
    selectors: {{links: "ul.news-list a", next_page: "a.next", title: "h1.title", body: "div.content",
                time: "span.time", author: "xpath://span[@class='author']/text()"}}
  - id: forum-test
    name: 测试论坛
    kind: html
    media_type: 论坛
    media_level: 市级
    start_urls: ["{base}/forum/list.html"]
    delay: 0
    timeout: 2
    selectors: {{item: "div.thread", links: "a.t", title: "a.t", time: "span.time", author: "span.user",
                comments: "span.reply", }}
  - id: board-test
    name: 测试留言板
    kind: html
    media_type: 政务
    start_urls: ["{base}/board/index.html"]
    delay: 0
    timeout: 2
    selectors: {{item: "div.msg", links: "h3 a", title: "h3", body: "p.content", time: "span.date",
                author: "span.user", likes: "span.likes"}}
  - id: api-test
    name: 测试API
    kind: json
    media_type: 社交
    start_urls: ["{base}/api/posts?page=1"]
    delay: 0
    timeout: 2
    json_paths: {{items: "data.list", page_param: page, url: link, title: title, text: content,
                 time: ctime, author: user.name, views: stat.read, likes: stat.like}}
  - id: api-next-test
    name: 测试API（next链接）
    kind: json
    start_urls: ["{base}/api/feed-1.json"]
    delay: 0
    json_paths: {{items: result.items, next_url: result.next, url: u, title: t, text: body, time: ts}}
  - {{id: rdf-test, name: 测试RSS1.0, kind: rss, start_urls: ["{base}/feeds/rdf.xml"], delay: 0}}
  - {{id: sitemap-test, name: 测试Sitemap, kind: sitemap, start_urls: ["{base}/sitemap.xml"], delay: 0, timeout: 2}}
  - id: errors-test
    name: 故障站点
    kind: html
    start_urls: ["{base}/errors/list.html"]
    delay: 0
    timeout: 1
    selectors: {{links: "ul.l a", title: "h1.title", body: "div.content", time: "span.time"}}
  - {{id: dead-test, name: 不存在的站点, kind: html, start_urls: ["{base}/gone/index.html"], delay: 0, timeout: 1}}
  - id: search-test
    name: 站内搜索
    kind: html
    enabled: false
    search_url: "{base}/search?q={{keyword}}"
    delay: 0
    timeout: 2
    max_items: 3
    selectors: {{links: "ul.news-list a", title: "h1.title", body: "div.content", time: "span.time"}}
"""


SITE = Path(__file__).resolve().parent / "site"
FLAKY_ARTICLE = (
    "<html><head><meta charset='utf-8'><title>故障恢复后的文章</title></head><body>"
    "<h1 class='title'>故障恢复后的文章</h1><span class='time'>2023-03-10 11:00</span>"
    "<div class='content'><p>服务器第一次返回错误，重试之后正常返回了这篇文章的正文内容。</p></div></body></html>"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BIG_PAGE_BYTES = 5 * 1024 * 1024  # over the 1 MiB max_page_bytes of the test config


def api_posts(request: Request) -> Response:
    """The paged JSON API: ``/api/posts?page=N`` is ``site/api/posts-N.json``, past the last page 404."""
    page = SITE / "api" / f"posts-{request.query.get('page', '1')}.json"
    if page.exists():
        return Response(200, page.read_bytes(), "application/json")
    return Response(404, b"{}", "application/json")


def search(request: Request) -> Response:
    """Site search: one result whose title repeats the keyword."""
    word = request.query.get("q", "")
    return html(
        f'<html><body><ul class="news-list"><li><a href="/news/a2.html">搜索结果：{word} 相关新闻</a></li>'
        "</ul></body></html>"
    )


def big_page() -> Response:
    filler = "<p>" + "很长的页面内容。" * 100 + "</p>\n"
    return html("<html><body>" + filler * (BIG_PAGE_BYTES // len(filler.encode()) + 1) + "</body></html>")


def serve_fixture_site(server: MockServer) -> None:
    """The files under ``site/`` plus the routes that misbehave on purpose (``/err/…``)."""
    server.root = SITE
    server.route("/api/posts", api_posts)
    server.route("/search", search)
    server.route("/forum/list.html", file(SITE / "forum" / "list.html", "text/html; charset=utf-8"))  # GBK bytes
    server.route("/err/flaky.html", sequence(status(500), html(FLAKY_ARTICLE)))  # fails once, then recovers
    server.route("/err/slow.html", html("<html><body><h1>too late</h1></body></html>"))
    server.delays["/err/slow.html"] = 3.0  # past the source's 1 s timeout
    server.route("/err/loop.html", redirect("/err/loop.html"))
    server.route("/err/image.png", Response(200, PNG, "image/png"))
    server.route("/err/big.html", big_page())


@pytest.fixture
def site(mockserver: MockServer) -> MockServer:
    serve_fixture_site(mockserver)
    return mockserver


def write_config(config_dir: Path, base: str, database_url: str | None = None) -> Path:
    """Point the copied config at the fixture site; fast, test-sized crawl settings."""
    (config_dir / "sources.yaml").write_text(SOURCES.format(base=base), encoding="utf-8")
    settings = (config_dir / "settings.yaml").read_text(encoding="utf-8")
    settings = settings.replace("  timeout: 30 ", "  timeout: 2 ").replace("  retries: 3 ", "  retries: 1 ")
    settings = settings.replace("  delay: 0.5 ", "  delay: 0 ").replace(
        "max_page_bytes: 10485760", "max_page_bytes: 1048576"
    )
    if database_url:
        settings = settings.replace("\ndatabase_url:\n", f"\ndatabase_url: {database_url}\n", 1)
    (config_dir / "settings.yaml").write_text(settings, encoding="utf-8")
    return config_dir


@pytest.fixture
def crawl_config(config_dir: Path, site: MockServer) -> Path:
    """The test config on SQLite, database migrated."""
    write_config(config_dir, site.base)
    from config import load_config

    engine = make_engine(load_config(config_dir).database_url)
    upgrade(engine)
    engine.dispose()
    return config_dir


def run_yuqing(config_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_") or k.startswith("YUQING_TEST")}
    return subprocess.run(
        [YUQING, "--config", str(config_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def crawl(config_dir: Path, *args: str) -> list[dict[str, Any]]:
    """``yuqing crawl … --json`` with fast settings; the JSON summaries it printed."""
    extra = [arg for setting in FAST for arg in ("--set", setting)]
    done = run_yuqing(config_dir, "crawl", *args, "--json", "--now", NOW, *extra)
    summaries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert summaries, f"no summary printed:\nstdout:{done.stdout}\nstderr:{done.stderr[-3000:]}"
    return summaries
