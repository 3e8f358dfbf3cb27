"""Real crawls (``yuqing crawl`` in a subprocess) of a hostile site: every byte a source serves is
written by strangers. Each crawl runs under a 1 GiB data limit, so a defence that fails shows up as
a failed assertion, not as a machine out of memory."""

from __future__ import annotations

import json
import os
import resource
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST, NOW, YUQING, write_config
from hostile import HostileServer, gzip_bomb, rss
from sqlalchemy import select

from config import load_config
from crawlers.policy import TooLarge, address_refusal, gunzip_bounded, host_refusal
from storage.db import make_engine, session_factory, upgrade
from storage.models import CrawlRunRow, PostRow
from tests.mockserver import MockServer, Response, html
from yuqing.base.errors import ConfigError

MEMORY_LIMIT = 1024**3  # bytes of data segment per crawl process
LONG = "。这是一段足够长的正文内容，用来确认条目本身携带全文，因此不会被当作摘要去抓取原文页面。" * 2
ARTICLE = (
    "<html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>"
    "<div class='content'><p>{title}。正文第一段，讲述事情的经过和有关部门的回应，内容足够长。</p>"
    "<p>正文第二段，继续介绍后续处理情况以及网民的主要观点和评论。</p></div></body></html>"
)


def configure(config_dir: Path, hostile: HostileServer, sources: str, settings: dict[str, str] | None = None) -> Path:
    """The shipped config with test-sized crawl settings, these sources, a migrated database."""
    write_config(config_dir, hostile.url(""))
    (config_dir / "sources.yaml").write_text("sources:\n" + sources, encoding="utf-8")
    text = (config_dir / "settings.yaml").read_text(encoding="utf-8")
    for old, new in (settings or {}).items():
        assert old in text
        text = text.replace(old, new)
    (config_dir / "settings.yaml").write_text(text, encoding="utf-8")
    engine = make_engine(load_config(config_dir).database_url)
    upgrade(engine)
    engine.dispose()
    return config_dir


def source(sid: str, url: str, kind: str = "rss", **extra: Any) -> str:
    fields = {"id": sid, "name": sid, "kind": kind, "start_urls": [url], "delay": 0, "timeout": 2, **extra}
    return "  - " + json.dumps(fields, ensure_ascii=False) + "\n"


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY_LIMIT, MEMORY_LIMIT))


def crawl(config_dir: Path, source_id: str, env: dict[str, str] | None = None) -> tuple[dict[str, Any], CrawlRunRow]:
    """``yuqing crawl SOURCE --json`` under the memory limit: its summary and its crawl_runs row."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_") or k.startswith("YUQING_TEST")}
    cmd = [
        YUQING,
        "--config",
        str(config_dir),
        "crawl",
        source_id,
        "--json",
        "--now",
        NOW,
        *[arg for setting in FAST for arg in ("--set", setting)],
    ]
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**environ, **(env or {})},
        preexec_fn=limit_memory,
        check=False,
    )
    summaries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert summaries, f"no summary:\nstdout:{done.stdout}\nstderr:{done.stderr[-3000:]}"
    engine = make_engine(load_config(config_dir).database_url)
    with session_factory(engine)() as session:
        run = session.scalars(
            select(CrawlRunRow).where(CrawlRunRow.source_id == source_id).order_by(CrawlRunRow.id.desc())
        ).first()
    engine.dispose()
    assert run is not None
    return summaries[0], run


def stored(config_dir: Path) -> dict[str, str]:
    """URL → title of every stored post."""
    engine = make_engine(load_config(config_dir).database_url)
    with session_factory(engine)() as session:
        found = {row.url: row.title for row in session.scalars(select(PostRow))}
    engine.dispose()
    return found


# -- 1. feeds are parsed from their bytes -----------------------------------------------------------


def test_a_feed_body_naming_a_local_file_is_not_read_as_that_file(
    config_dir: Path, hostile: HostileServer, tmp_path: Path
) -> None:
    local = tmp_path / "local-feed.xml"
    local.write_bytes(rss([("本地文件里的秘密条目", "http://example.invalid/secret", "秘密" + LONG)]))
    hostile.route("/feed.xml", str(local).encode(), "application/rss+xml")
    configure(config_dir, hostile, source("path-feed", hostile.url("/feed.xml"), follow_articles=False))
    summary, run = crawl(config_dir, "path-feed")
    assert stored(config_dir) == {}
    assert summary["status"] == "failed" and "not a feed" in run.error_summary


def test_a_feed_body_naming_dev_zero_is_not_read(config_dir: Path, hostile: HostileServer) -> None:
    hostile.route("/feed.xml", b"/dev/zero", "application/rss+xml")
    configure(config_dir, hostile, source("zero-feed", hostile.url("/feed.xml"), follow_articles=False))
    summary, run = crawl(config_dir, "zero-feed")
    assert summary["status"] == "failed"
    assert "not a feed" in run.error_summary and "MemoryError" not in run.error_summary


def test_a_gbk_feed_labelled_utf8_is_stored_as_chinese(config_dir: Path, hostile: HostileServer) -> None:
    items = [
        ("城管执法冲突引发围观", hostile.url("/a1.html"), "城管" + LONG),
        ("小区停车难问题调查", hostile.url("/a2.html"), "停车" + LONG),
    ]
    hostile.route("/feed.xml", rss(items, encoding="gbk", declared="utf-8"), "application/rss+xml; charset=utf-8")
    configure(config_dir, hostile, source("gbk-feed", hostile.url("/feed.xml"), follow_articles=False))
    summary, _ = crawl(config_dir, "gbk-feed")
    assert summary["new"] == 2
    assert sorted(stored(config_dir).values()) == ["城管执法冲突引发围观", "小区停车难问题调查"]


def test_a_utf8_feed_with_one_bad_byte_keeps_its_text(config_dir: Path, hostile: HostileServer) -> None:
    items = [
        ("城管执法冲突引发围观", hostile.url("/a1.html"), "城管" + LONG),
        ("小区停车难问题调查", hostile.url("/a2.html"), "停车BADBYTE" + LONG),
    ]
    body = rss(items).replace(b"BADBYTE", b"\xff")
    hostile.route("/feed.xml", body, "application/rss+xml; charset=utf-8")
    configure(config_dir, hostile, source("bad-byte-feed", hostile.url("/feed.xml"), follow_articles=False))
    summary, _ = crawl(config_dir, "bad-byte-feed")
    assert summary["new"] == 2
    assert sorted(stored(config_dir).values()) == ["城管执法冲突引发围观", "小区停车难问题调查"]


def test_a_feed_that_does_not_decode_is_a_failed_run_with_its_reason(config_dir: Path, hostile: HostileServer) -> None:
    garbage = bytes(range(0x80, 0x100)) * 4
    body = rss([("TITLE", hostile.url("/a1.html"), "TEXT" + "x" * 80)])
    hostile.route(
        "/feed.xml", body.replace(b"TITLE", garbage).replace(b"TEXT", garbage), "application/rss+xml; charset=utf-8"
    )
    configure(config_dir, hostile, source("garbage-feed", hostile.url("/feed.xml"), follow_articles=False))
    summary, run = crawl(config_dir, "garbage-feed")
    assert (summary["status"], summary["items"], stored(config_dir)) == ("failed", 0, {})
    assert "feed does not decode as text" in run.error_summary


# -- 2. only http and https --------------------------------------------------------------------------


def test_only_http_and_https_links_are_followed(config_dir: Path, hostile: HostileServer, tmp_path: Path) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text(ARTICLE.format(title="本机文件里的秘密"), encoding="utf-8")
    hostile.route("/good.html", ARTICLE.format(title="正常的新闻文章").encode())
    items = [
        ("零设备", "file:/dev/zero", "…"),
        ("本机文件", secret.as_uri(), "…"),
        ("数据链接", "data:text/html,<h1>inline</h1>", "…"),
        ("正常文章", hostile.url("/good.html"), "…"),
    ]
    hostile.route("/feed.xml", rss(items), "application/rss+xml")
    configure(config_dir, hostile, source("scheme-feed", hostile.url("/feed.xml")))
    summary, run = crawl(config_dir, "scheme-feed")
    assert list(stored(config_dir).values()) == ["正常文章"]
    assert summary["errors"] == 3 and run.stats.get("yuqing/refused/scheme") == 3
    assert "2× refused non-http(s) URL (file:)" in run.error_summary
    assert "1× refused non-http(s) URL (data:)" in run.error_summary


# -- 3. credentials stay with their origin -----------------------------------------------------------

CREDENTIALS = {"headers_env": {"X-Api-Token": "HOSTILE_TOKEN"}, "cookies_env": {"session": "HOSTILE_SESSION"}}
SECRETS = {"HOSTILE_TOKEN": "s3cret-token", "HOSTILE_SESSION": "abc123"}


def leaked(headers: dict[str, str]) -> bool:
    return "s3cret-token" in str(headers) or "abc123" in str(headers)


def test_credentials_go_to_the_source_origin_only(
    config_dir: Path, hostile: HostileServer, other: HostileServer
) -> None:
    other.route("/article.html", ARTICLE.format(title="别的网站的文章").encode())
    other.route("/landing.html", ARTICLE.format(title="跳转到的别的网站").encode())
    hostile.route("/own.html", ARTICLE.format(title="本站的文章").encode())
    hostile.redirect("/moved.html", other.url("/landing.html"))
    items = [
        ("外站", other.url("/article.html"), "…"),
        ("本站", hostile.url("/own.html"), "…"),
        ("跳转", hostile.url("/moved.html"), "…"),
    ]
    hostile.route("/feed.xml", rss(items), "application/rss+xml")
    configure(config_dir, hostile, source("cred-feed", hostile.url("/feed.xml"), **CREDENTIALS))
    summary, _ = crawl(config_dir, "cred-feed", env=SECRETS)
    assert summary["new"] == 3
    for path in ("/feed.xml", "/own.html", "/moved.html"):
        seen = hostile.headers_seen[path]
        assert seen["X-Api-Token"] == "s3cret-token" and "session=abc123" in seen["Cookie"], path
    assert set(other.headers_seen) - {"/robots.txt"} == {"/article.html", "/landing.html"}
    assert not any(leaked(h) for h in other.headers_seen.values()), other.headers_seen


def test_credential_hosts_name_the_origins_that_get_them(
    config_dir: Path, hostile: HostileServer, other: HostileServer
) -> None:
    other.route("/article.html", ARTICLE.format(title="接口所在网站的文章").encode())
    hostile.route("/feed.xml", rss([("外站", other.url("/article.html"), "…")]), "application/rss+xml")
    configure(
        config_dir,
        hostile,
        source("api-feed", hostile.url("/feed.xml"), **CREDENTIALS, credential_hosts=[other.url("")]),
    )
    crawl(config_dir, "api-feed", env=SECRETS)
    assert other.headers_seen["/article.html"]["X-Api-Token"] == "s3cret-token"
    assert not leaked(hostile.headers_seen["/feed.xml"])


@pytest.mark.parametrize(
    "entry",
    ["ftp://example.cn", "https://example.cn/api", "example.cn", "https://example.cn:99999", "https://user@example.cn"],
)
def test_credential_hosts_must_be_origins(config_dir: Path, entry: str) -> None:
    (config_dir / "sources.yaml").write_text(
        "sources:\n" + source("x", "https://example.cn/feed.xml", credential_hosts=[entry]), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="is not an origin"):
        load_config(config_dir)


# -- 4. decompression is bounded ---------------------------------------------------------------------

SITEMAP_HEAD = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>'


def test_a_gzipped_sitemap_bomb_stops_at_the_page_limit(config_dir: Path, hostile: HostileServer) -> None:
    hostile.route("/a1.html", ARTICLE.format(title="不应被抓取的文章").encode())
    bomb = gzip_bomb(64 * 1024 * 1024, SITEMAP_HEAD + hostile.url("/a1.html").encode() + b"</loc></url><!--")
    assert len(bomb) < 200_000  # page limit in the tests: 1 MiB
    hostile.route("/sitemap.xml.gz", bomb, "application/x-gzip")
    configure(config_dir, hostile, source("bomb-map", hostile.url("/sitemap.xml.gz"), kind="sitemap"))
    summary, run = crawl(config_dir, "bomb-map")
    assert summary["status"] == "failed" and stored(config_dir) == {}
    assert "/a1.html" not in hostile.hits
    assert "sitemap too large once decompressed (over 1048576 bytes)" in run.error_summary


def test_a_gzip_encoded_page_bomb_stops_at_the_page_limit(config_dir: Path, hostile: HostileServer) -> None:
    hostile.route(
        "/feed.xml",
        gzip_bomb(64 * 1024 * 1024, b"<rss><channel>"),
        "application/rss+xml",
        **{"Content-Encoding": "gzip"},
    )
    configure(config_dir, hostile, source("bomb-feed", hostile.url("/feed.xml")))
    summary, run = crawl(config_dir, "bomb-feed")
    assert summary["status"] == "failed"
    assert "page too large once decompressed (over max_page_bytes)" in run.error_summary


def test_gunzip_bounded() -> None:
    bomb = gzip_bomb(10_000_000)
    with pytest.raises(TooLarge):
        gunzip_bounded(bomb, 1_000_000)
    assert gunzip_bounded(gzip_bomb(1000, b"abc"), 1000)[:3] == b"abc"
    with pytest.raises(OSError):
        gunzip_bounded(b"\x1f\x8bnot gzip", 1000)


# -- 5. private addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fc00::1", "unique-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not globally routable"),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("223.5.5.5", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_refusal(address) == kind


def test_host_refusal_without_dns() -> None:
    assert (
        host_refusal("metadata.google.internal", 80)
        == "refused private address metadata.google.internal (cloud metadata)"
    )
    assert host_refusal("169.254.169.254", 80) == "refused private address 169.254.169.254 (cloud metadata)"
    assert host_refusal("2130706433", 80) == "refused private address 127.0.0.1 of 2130706433 (loopback)"
    assert host_refusal("localhost", 80) is not None
    assert host_refusal("8.8.8.8", 80) is None


def private_site(hostile: HostileServer) -> None:
    """A feed on http://localhost:PORT whose entries point at 127.0.0.1, another host name."""
    hostile.route("/internal-admin", ARTICLE.format(title="内部管理后台的机密页面").encode())
    hostile.route("/good.html", ARTICLE.format(title="正常的新闻文章").encode())
    hostile.redirect("/go.html", hostile.url("/internal-admin?via=redirect"))
    items = [
        ("后台", hostile.url("/internal-admin"), "…"),
        ("跳转", hostile.url("/go.html", host="localhost"), "…"),
        ("正常", hostile.url("/good.html", host="localhost"), "…"),
    ]
    hostile.route("/feed.xml", rss(items), "application/rss+xml")


def test_links_to_private_addresses_are_refused(config_dir: Path, hostile: HostileServer) -> None:
    private_site(hostile)
    configure(config_dir, hostile, source("private-feed", hostile.url("/feed.xml", host="localhost")))
    summary, run = crawl(config_dir, "private-feed")
    assert not [hit for hit in hostile.hits if hit.startswith("/internal-admin")], hostile.hits
    assert list(stored(config_dir).values()) == ["正常"]
    assert (summary["errors"], run.stats.get("yuqing/refused/private_address")) == (2, 2)
    assert "2× refused private address 127.0.0.1 (loopback)" in run.error_summary


@pytest.mark.parametrize("allowance", ["source", "settings"])
def test_private_addresses_can_be_allowed(config_dir: Path, hostile: HostileServer, allowance: str) -> None:
    private_site(hostile)
    extra = {"allow_private": True} if allowance == "source" else {}
    settings = {"allow_private_addresses: false": "allow_private_addresses: true"} if allowance == "settings" else {}
    configure(
        config_dir, hostile, source("private-feed", hostile.url("/feed.xml", host="localhost"), **extra), settings
    )
    summary, _ = crawl(config_dir, "private-feed")
    assert summary["errors"] == 0
    posts = stored(config_dir)
    assert sorted(posts.values()) == ["后台", "正常", "跳转"]
    assert len([url for url in posts if "/internal-admin" in url]) == 2


REBINDING = """
# Loaded at start-up by the crawl's Python processes (PYTHONPATH): rebind.test is a name whose first
# answer is a public address (127.0.0.2 stands in for one: the policy is told it is public) and whose
# every later answer is 127.0.0.1, a private one (DNS rebinding).
import socket

import crawlers.policy

_getaddrinfo, _gethostbyname, _refusal = socket.getaddrinfo, socket.gethostbyname, crawlers.policy.address_refusal


def getaddrinfo(host, *args, **kwargs):
    if host == "late.test":  # a name with no answer for the check, and a private one later
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _getaddrinfo("127.0.0.2" if host == "rebind.test" else host, *args, **kwargs)


def gethostbyname(host):
    return "127.0.0.1" if host in ("rebind.test", "late.test") else _gethostbyname(host)


socket.getaddrinfo, socket.gethostbyname = getaddrinfo, gethostbyname
crawlers.policy.address_refusal = lambda address: None if address == "127.0.0.2" else _refusal(address)
"""


def test_a_rebinding_name_is_fetched_from_the_address_that_was_checked(
    config_dir: Path, hostile: HostileServer, tmp_path: Path
) -> None:
    """The policy looks rebind.test up once and the download connects to that address; Scrapy's own
    resolver would look it up again and reach the private site on the same port. A name that did
    not resolve for the check is a DNS failure, not a second lookup."""
    hostile.route("/feed.xml", rss([("内部", hostile.url("/internal.html", host="rebind.test"), "…")]))
    hostile.route("/internal.html", ARTICLE.format(title="内部管理后台的机密页面").encode())
    public = MockServer(bind=("127.0.0.2", hostile.port)).start()
    try:
        news = public.url("/news.html", host="rebind.test")
        public.route("/feed.xml", Response(200, rss([("公开", news, "…")]), "application/rss+xml"))
        public.route("/news.html", html(ARTICLE.format(title="公开发布的新闻稿件")))
        site = tmp_path / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(REBINDING, encoding="utf-8")
        configure(config_dir, hostile, source("rebind", public.url("/feed.xml", host="rebind.test")))
        summary, run = crawl(config_dir, "rebind", env={"PYTHONPATH": str(site)})
        assert hostile.hits == []
        assert list(stored(config_dir).values()) == ["公开"], (summary, run.error_summary)
        assert "/feed.xml" in public.hits and "/news.html" in public.hits
        configure(config_dir, hostile, source("late", hostile.url("/feed.xml", host="late.test")))
        summary, run = crawl(config_dir, "late", env={"PYTHONPATH": str(site)})
        assert hostile.hits == []
        assert summary["status"] == "failed" and "DNS lookup failed" in run.error_summary, run.error_summary
    finally:
        public.stop()
