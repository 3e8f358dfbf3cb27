"""The sources admin over HTTP: runs and failure causes as the crawler records them, and the
selector tester on pasted HTML and on URLs fetched under the crawl's policy; admins only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from webtestlib import NOW, Site, csrf_of

from storage.audit import history
from storage.runs import finish_run, start_run
from tests.alerts.alerts_testlib import SOURCES_YAML
from tests.mockserver import MockServer, html, redirect

# Two html sources whose start URLs are on a public address (an IP literal: no DNS lookup in tests):
# "board" may fetch only public hosts, "intranet" may fetch private ones (allow_private).
EXTRA_SOURCES = """
  - id: board
    name: 市长信箱留言板
    kind: html
    media_type: 政务
    start_urls: ["http://1.2.3.4/board/index.html"]
    selectors: {item: "div.msg", title: "h3", body: "p.content", time: "span.time", links: "a.more"}
  - id: intranet
    name: 内网新闻
    kind: html
    start_urls: ["http://1.2.3.4/news/list.html"]
    allow_private: true
    selectors: {links: "ul.list a", title: "h1", time: "span.time"}
"""
BOARD_PAGE = """<html><head><meta charset="utf-8"></head><body>
<div class="msg"><h3>反映派出所不作为</h3><p class="content">报警三次无人出警，联系电话13812345678。</p>
  <span class="time">2026-11-26 09:30</span><a class="more" href="/board/1.html">详情</a></div>
<div class="msg"><h3><script>alert(1)</script>执法记录仪去哪了</h3><p class="content">民警称执法记录仪没电。</p>
  <span class="time">昨天 14:20</span><a class="more" href="/board/2.html">详情</a></div>
</body></html>"""
LIST_PAGE = """<html><body><h1>警务动态</h1><span class="time">2026-11-27</span>
<ul class="list"><li><a href="/news/1.html">市公安局召开警务工作会议</a></li><li><a href="2.html">反诈宣传进社区</a></li></ul>
</body></html>"""


def with_html_sources(site: Site) -> Site:
    (site.app.config_dir / "sources.yaml").write_text(SOURCES_YAML + EXTRA_SOURCES, encoding="utf-8")
    site.app.reload()
    return site


@pytest.fixture
def admin_site(sqlite_site: Site) -> Site:
    return with_html_sources(sqlite_site)


def probe(site: Site, source: str, **form: str) -> str:
    client = site.client("admin")
    page = client.get(f"/admin/sources/{source}")
    assert page.status_code == 200, page.text
    answer = client.post(f"/admin/sources/{source}/test", data={**form, "csrf": csrf_of(page.text)})
    assert answer.status_code == 200, answer.text
    return answer.text


def row(page: str, key: str) -> str:
    found = re.search(rf'<tr data-key="{key}">(.*?)</tr>', page, re.S)
    assert found, page
    return found.group(1)


def test_the_sources_page_shows_a_failed_runs_cause(site: Site) -> None:
    with_html_sources(site)
    with site.app.session() as session:
        ok = start_run(session, "board", NOW - timedelta(hours=2))
        finish_run(
            session,
            ok,
            "ok",
            NOW - timedelta(hours=2),
            {"pages": 1, "items": 0},
            "",
            {
                "yuqing/warning/selectors.item": "selectors.item 'div.msg' matched nothing on http://1.2.3.4/board/index.html"
            },
        )
        failed = start_run(session, "board", NOW - timedelta(hours=1))
        finish_run(
            session,
            failed,
            "failed",
            NOW - timedelta(hours=1),
            {"errors": 2},
            "2 page(s) failed: DNS lookup failed (2): http://1.2.3.4/board/index.html <script>alert(1)</script>",
        )
    client = site.client("admin")
    page = client.get("/admin/sources")
    assert page.status_code == 200
    assert "DNS lookup failed (2)" in page.text and "失败" in page.text
    assert "selectors.item &#39;div.msg&#39; matched nothing" in page.text
    assert "<script>alert(1)" not in page.text
    detail = client.get("/admin/sources/board")
    assert "DNS lookup failed (2)" in detail.text and "尚无采集记录" not in detail.text
    assert client.get("/admin/sources/nosuch").status_code == 404
    index = client.get("/admin")
    assert all(f'href="{href}"' in index.text for href in ("/admin/keywords", "/admin/sources", "/admin/users"))


def test_only_admins_open_the_sources_pages(site: Site) -> None:
    with_html_sources(site)
    for name in ("analyst", "viewer", "sz"):
        client = site.client(name)
        page = client.get("/")
        for path in ("/admin", "/admin/sources", "/admin/sources/board"):
            assert client.get(path).status_code == 403, (name, path)
        answer = client.post("/admin/sources/board/test", data={"html": BOARD_PAGE, "csrf": csrf_of(page.text)})
        assert answer.status_code == 403
    admin = site.client("admin")
    assert admin.post("/admin/sources/board/test", data={"html": BOARD_PAGE}).status_code == 403  # no CSRF token


def test_pasted_html_shows_what_each_selector_yields(admin_site: Site) -> None:
    page = probe(admin_site, "board", html=BOARD_PAGE, url="http://1.2.3.4/board/index.html")
    assert re.search(r"<td>item</td><td><code>div.msg</code></td><td>2</td>", row(page, "item"))
    assert "反映派出所不作为" in row(page, "title") and "执法记录仪去哪了" in row(page, "title")
    links = row(page, "links")
    assert "http://1.2.3.4/board/1.html" in links and "http://1.2.3.4/board/2.html" in links
    without_url = row(probe(admin_site, "board", html=BOARD_PAGE), "links")  # the source's start page is the base
    assert "http://1.2.3.4/board/1.html" in without_url and "http://1.2.3.4/board/2.html" in without_url
    first = re.search(r'<table class="item" data-item="1">(.*?)</table>', page, re.S)
    assert first and "2026-11-26 09:30" in first.group(1) and "执法记录仪" not in first.group(1)
    assert "<script>" not in page
    results = page[page.index('<div id="probe">') :]  # the pasted page itself is echoed, escaped, in its box
    assert "&lt;script&gt;" not in results  # the crawled text, cleaned as the spiders clean it
    assert "13812345678" not in results and "138****5678" in results  # personal data masked as everywhere


def test_a_source_without_selectors_shows_the_automatic_extraction(admin_site: Site) -> None:
    article = (
        "<html><head><title>民警回应网友质疑_新闻</title></head><body><nav>首页 新闻</nav><h1>民警回应网友质疑</h1>"
        "<div><p>11月26日，有网友发帖称某派出所民警执法不规范。对此，市公安局高度重视，已成立调查组。</p>"
        "<p>调查组表示将依法依规处理，并及时向社会公布调查结果，欢迎群众监督。</p></div></body></html>"
    )
    page = probe(admin_site, "central", html=article)  # an rss source: its articles are extracted
    assert "该信息源未配置选择器" in page
    assert "民警回应网友质疑" in row(page, "auto-title") and "已成立调查组" in row(page, "auto-text")


def test_a_url_is_fetched_under_the_crawl_policy(admin_site: Site, mockserver: MockServer) -> None:
    mockserver.route("/news/list.html", html(LIST_PAGE))
    mockserver.route("/go", redirect("/news/list.html"))
    page = probe(admin_site, "intranet", url=mockserver.url("/go"))
    assert "市公安局召开警务工作会议" not in row(page, "links")  # links show URLs, not anchors
    assert mockserver.url("/news/1.html") in row(page, "links") and mockserver.url("/news/2.html") in row(page, "links")
    assert "警务动态" in row(page, "title") and "2026-11-27" in row(page, "time")
    assert mockserver.hits == ["/go", "/news/list.html"]
    with admin_site.app.session() as session:
        entries = history(session, "source:intranet")
    assert entries and entries[0].actor == "admin" and entries[0].detail["url"] == mockserver.url("/go")


def test_private_addresses_and_other_schemes_are_refused(admin_site: Site, mockserver: MockServer) -> None:
    mockserver.route("/news/list.html", html(LIST_PAGE))
    page = probe(admin_site, "board", url=mockserver.url("/news/list.html"))
    assert "拒绝访问内网或本机地址" in page and "127.0.0.1" in page and "loopback" in page
    assert mockserver.hits == []
    # a source may fetch its own start host even on a private address, but a redirect elsewhere is
    # checked again: "localhost" is another name, on a loopback address
    local = f"""
  - {{id: local, name: 本机站点, kind: html, start_urls: ["{mockserver.url("/news/list.html")}"], selectors: {{title: h1}}}}
"""
    (admin_site.app.config_dir / "sources.yaml").write_text(SOURCES_YAML + EXTRA_SOURCES + local, encoding="utf-8")
    admin_site.app.reload()
    assert "警务动态" in row(probe(admin_site, "local", url=mockserver.url("/news/list.html")), "title")
    mockserver.route("/away", redirect(mockserver.url("/news/list.html", host="localhost")))
    page = probe(admin_site, "local", url=mockserver.url("/away"))
    assert "拒绝访问内网或本机地址" in page and "localhost" in page
    assert mockserver.hits == ["/news/list.html", "/away"]
    for url in ("file:///etc/passwd", "ftp://1.2.3.4/x", "gopher://127.0.0.1:70/"):
        page = probe(admin_site, "intranet", url=url)  # even where private addresses are allowed
        assert "只能抓取 http 或 https 网址" in page, url
    assert "root:" not in page
