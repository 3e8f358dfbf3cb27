"""A failing crawl says why: the causes of failed downloads, counted, in the crawl's summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FAST, NOW, run_yuqing

from crawlers.failures import download_cause
from tests.mockserver import MockServer, status

BROKEN = """
  - {{id: nowhere-test, name: 无法解析, kind: html, start_urls: ["http://nonexistent.invalid/"], delay: 0, timeout: 2}}
  - {{id: down-test, name: 服务不可用, kind: html, start_urls: ["{base}/down/a.html", "{base}/down/b.html"],
      delay: 0, timeout: 2}}
"""


@pytest.fixture
def broken_config(crawl_config: Path, site: MockServer) -> Path:
    site.route("/down/a.html", status(503))
    site.route("/down/b.html", status(503))
    sources = crawl_config / "sources.yaml"
    sources.write_text(sources.read_text(encoding="utf-8") + BROKEN.format(base=site.base), encoding="utf-8")
    return crawl_config


def crawl_text(config_dir: Path, source_id: str) -> tuple[int, str]:
    done = run_yuqing(config_dir, "crawl", source_id, "--now", NOW, *[a for s in FAST for a in ("--set", s)])
    return done.returncode, done.stdout


def test_an_unresolvable_host_is_reported_as_a_dns_failure(broken_config: Path) -> None:
    code, out = crawl_text(broken_config, "nowhere-test")
    assert code == 1
    assert "nowhere-test: failed" in out
    assert "  cause: 1× DNS lookup failed (e.g. http://nonexistent.invalid/)" in out, out


def test_http_503_is_counted_by_status(broken_config: Path) -> None:
    code, out = crawl_text(broken_config, "down-test")
    assert code == 1
    assert "  cause: 2× HTTP 503 (e.g. " in out, out


def test_unknown_exceptions_keep_their_class_name() -> None:
    from twisted.internet import error

    assert download_cause(error.DNSLookupError("x")) == "DNS lookup failed"
    assert download_cause(error.TCPTimedOutError()) == "timeout"
    assert download_cause(error.ConnectionRefusedError()) == "connection refused"
    assert download_cause(KeyError("x")) == "KeyError"


UNMATCHED = """
  - {{id: renamed-test, name: 改版后的列表, kind: html, start_urls: ["{base}/news/list-1.html"], delay: 0,
      selectors: {{links: "ul.renamed a", title: "h1.title", body: "div.content"}}}}
  - {{id: board-renamed-test, name: 改版后的留言板, kind: html, start_urls: ["{base}/board/index.html"], delay: 0,
      follow_articles: false, selectors: {{item: "div.message", title: "h3", body: "p.content"}}}}
"""


def test_a_selector_that_matches_nothing_is_a_warning_not_a_quiet_ok(crawl_config: Path, site: MockServer) -> None:
    """A site's redesign leaves `ok items=0`: the summary, the JSON and `yuqing status` say which selector."""
    sources = crawl_config / "sources.yaml"
    sources.write_text(sources.read_text(encoding="utf-8") + UNMATCHED.format(base=site.base), encoding="utf-8")
    code, out = crawl_text(crawl_config, "renamed-test")
    assert code == 0 and "renamed-test: ok  pages=1  items=0" in out, out
    assert f"  warning: selectors.links 'ul.renamed a' matched nothing on {site.base}/news/list-1.html\n" in out, out
    code, out = crawl_text(crawl_config, "board-renamed-test")
    assert code == 0, out
    assert f"  warning: selectors.item 'div.message' matched nothing on {site.base}/board/index.html\n" in out, out
    code, out = crawl_text(crawl_config, "board-test")  # the same board with its real selectors: no warning
    assert code == 0 and "board-test: ok" in out and "warning" not in out, out
    status = run_yuqing(crawl_config, "status", "--json")
    rows = {s["id"]: s for s in json.loads(status.stdout)["sources"]}
    assert rows["renamed-test"]["runs"][0]["warnings"] == [
        f"selectors.links 'ul.renamed a' matched nothing on {site.base}/news/list-1.html"
    ]
    assert rows["board-test"]["runs"][0]["warnings"] == []
