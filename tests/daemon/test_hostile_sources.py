"""The real daemon crawling hostile sources next to a good one: the good source is unaffected, each
hostile one is recorded with its reason, no file outside the data dir is read, no private address is
fetched, and no secret reaches another origin, the log or ``yuqing status``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import CrawlRunRow, PostRow
from tests.crawlers.hostile import HostileServer, gzip_bomb, rss
from tests.daemon.conftest import CLI_BOOT, DaemonProcess, Site, db_engine, source_yaml, start, write_sources

pytestmark = pytest.mark.slow

MARKER = "LOCALFILE-7f3a9c"  # in a feed stored outside the data dir: it must never be stored
TOKEN = "s3cret-token-4b1d"
ARTICLE = "<html><head><title>{0}</title></head><body><article><h1>{0}</h1><p>{1}</p></article></body></html>"
SITEMAP_HEAD = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>'


def hostile_sources(hostile: HostileServer, other: HostileServer, local_feed: Path) -> list[str]:
    text = "这是一篇文章的正文，用来检验采集。" * 10
    hostile.route("/path.xml", str(local_feed).encode(), "application/rss+xml")  # a body naming a local file
    hostile.route(
        "/schemes.xml",
        rss([("本地文件", f"file://{local_feed}", "…"), ("数据", "data:text/html,x", "…")]),
        "application/rss+xml",
    )
    hostile.route("/internal-admin", ARTICLE.format("后台", text).encode())
    hostile.route("/private.xml", rss([("内网", hostile.url("/internal-admin"), "…")]), "application/rss+xml")
    hostile.route(
        "/sitemap.xml.gz",
        gzip_bomb(64 * 1024 * 1024, SITEMAP_HEAD + hostile.url("/a.html").encode() + b"</loc></url><!--"),
        "application/x-gzip",
    )
    other.route("/elsewhere.html", ARTICLE.format("别的网站", text).encode())
    hostile.route("/cred.xml", rss([("外站", other.url("/elsewhere.html"), "…")]), "application/rss+xml")
    return [
        source_yaml("path-feed", hostile.url("/path.xml"), every="1h"),
        source_yaml("scheme-feed", hostile.url("/schemes.xml"), every="1h"),
        source_yaml("private-feed", hostile.url("/private.xml", host="localhost"), every="1h"),
        source_yaml("bomb-map", hostile.url("/sitemap.xml.gz"), every="1h").replace("kind: rss", "kind: sitemap"),
        source_yaml(
            "cred-feed", hostile.url("/cred.xml"), every="1h", extra="    headers_env: {X-Api-Token: API_TOKEN}\n"
        ),
    ]


def test_hostile_sources_next_to_a_good_one(
    daemon_config: Path,
    tmp_path: Path,
    site: Site,
    hostile: HostileServer,
    other: HostileServer,
    daemons: list[DaemonProcess],
) -> None:
    local_feed = tmp_path / "outside" / "feed.xml"  # outside the data dir
    local_feed.parent.mkdir()
    local_feed.write_bytes(rss([(MARKER, "http://example.invalid/1", MARKER)]))
    settings = daemon_config / "settings.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("max_page_bytes: 10485760", "max_page_bytes: 1048576"),
        encoding="utf-8",
    )
    write_sources(
        daemon_config,
        source_yaml("local-news", site.url("/feed.xml"), every="1h"),
        *hostile_sources(hostile, other, local_feed),
    )
    daemon = start(daemons, daemon_config, tmp_path, env={"API_TOKEN": TOKEN})
    for source_id in ("local-news", "path-feed", "scheme-feed", "private-feed", "bomb-map", "cred-feed"):
        daemon.wait_for(rf"job=crawl target={source_id} outcome=", timeout=180)
    status = subprocess.run(
        [sys.executable, "-c", CLI_BOOT, "--config", str(daemon_config), "status", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert daemon.stop() == 0

    engine = db_engine(daemon_config)
    with engine.connect() as conn:
        runs = {r.source_id: r for r in conn.execute(select(CrawlRunRow).order_by(CrawlRunRow.id))}
        posts = list(conn.execute(select(PostRow.source_id, PostRow.url, PostRow.title, PostRow.text)))
    engine.dispose()
    by_source = {sid: [p for p in posts if p.source_id == sid] for sid in runs}
    assert runs["local-news"].status == "ok" and len(by_source["local-news"]) == 3  # the good source is unaffected
    assert runs["path-feed"].status == "failed" and not by_source["path-feed"]
    assert "refused non-http(s) URL" in runs["scheme-feed"].error_summary and not by_source["scheme-feed"]
    assert "refused private address 127.0.0.1" in runs["private-feed"].error_summary
    assert not [hit for hit in hostile.hits if hit.startswith("/internal-admin")]
    assert runs["bomb-map"].status == "failed" and "too large once decompressed" in runs["bomb-map"].error_summary
    assert "/a.html" not in hostile.hits
    assert len(by_source["cred-feed"]) == 1 and "/elsewhere.html" in other.hits  # fetched, without the token
    assert TOKEN not in json.dumps(other.headers_seen) and hostile.headers_seen["/cred.xml"]["X-Api-Token"] == TOKEN
    assert not [p for p in posts if MARKER in p.title + p.text]  # no local file was read
    assert status.returncode == 0, status.stderr
    for output in (daemon.log, status.stdout):
        assert TOKEN not in output and MARKER not in output
