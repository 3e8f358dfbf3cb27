"""系统管理: the admin index, the sources with their runs and failure causes (what ``yuqing status``
reads: ``storage.runs.health_of``), one source's details, and its selector tester
(``crawlers.probe``: a URL fetched under the crawl's policy, or pasted HTML). Admins only."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config import Source
from crawlers.probe import Probe, ProbeRefused, fetch, probe_page
from storage.audit import record
from storage.runs import CrawlRun, health_of
from web.auth import Visitor, console, guard
from web.console import RUN_STATUS_ZH, Console

RUNS_LISTED = 3
RUNS_DETAILED = 20
MAX_PASTE = 2 * 1024 * 1024
REFUSED_ZH = {
    "scheme": "只能抓取 http 或 https 网址",
    "private": "拒绝访问内网或本机地址（信息源未设置 allow_private，且不是其起始网址的主机）",
    "too_large": "页面超过大小上限（crawl.max_page_bytes）",
    "http": "网站返回错误",
    "redirects": "重定向次数过多",
    "network": "无法连接或读取页面",
}
ADMIN_PAGES = [
    ("/admin/keywords", "关键词", "专题与关键词、规则测试与回测"),
    ("/admin/sources", "信息源", "采集状态、失败原因与选择器测试"),
    ("/admin/users", "用户", "账号、角色与所属单位"),
]


def _source(con: Console, source_id: str) -> Source:
    found = con.config.sources.get(source_id)
    if found is None:
        raise HTTPException(404, f"没有编号为 {source_id} 的信息源")
    return found


def _runs(con: Console, source: Source, limit: int) -> dict[str, Any]:
    """The source's health and newest runs, as ``yuqing status`` reads them."""
    daemon = con.config.settings.daemon
    with con.app.session() as session:
        health, runs = health_of(session, source.id, daemon.fail_runs_alert, daemon.empty_runs_alert)
    return {"source": source, "health": health, "runs": [_run_view(con, r) for r in runs[:limit]]}


def _run_view(con: Console, run: CrawlRun) -> dict[str, Any]:
    """A run with its status in Chinese and its error and warnings as shown (they quote crawled URLs)."""
    return {
        "run": run,
        "status": RUN_STATUS_ZH.get(run.status, run.status),
        "failed": run.status in ("failed", "timeout"),
        "error": con.text(run.error_summary),
        "warnings": [con.text(w) for w in run.warnings],
    }


async def admin_index(request: Request) -> Response:
    who = await guard(request, "admin")
    return console(request).render(request, "admin.html", {"who": who, "pages": ADMIN_PAGES})


async def sources_page(request: Request) -> Response:
    who = await guard(request, "admin")
    con = console(request)
    rows = [_runs(con, s, RUNS_LISTED) for s in con.config.sources.sources]
    return con.render(request, "sources.html", {"who": who, "rows": rows, "shown_runs": RUNS_LISTED})


def _page(con: Console, request: Request, who: Visitor, source: Source, **extra: Any) -> Response:
    context = {"who": who, **_runs(con, source, RUNS_DETAILED), "probe": None, "refused": None, "form": {}}
    context.update(extra)
    name = "_probe.html" if request.headers.get("hx-request") else "source.html"
    return con.render(request, name, context)


async def source_page(request: Request) -> Response:
    who = await guard(request, "admin")
    con = console(request)
    return _page(con, request, who, _source(con, request.path_params["source_id"]))


async def _probe(con: Console, source: Source, url: str, html: str) -> Probe:
    if html:  # relative links resolve against the URL given, else the source's first start page
        return probe_page(html, source, url or next(iter(source.start_urls), None))
    page = await asyncio.to_thread(fetch, url, source, con.config.settings.crawl)
    return probe_page(page.body, source, page.url, page.charset)


async def probe_source(request: Request) -> Response:
    """Test the source's selectors on a fetched URL or pasted HTML (the page is hostile: escaped)."""
    who = await guard(request, "admin")
    con = console(request)
    source = _source(con, request.path_params["source_id"])
    form = await request.form()
    url, html = str(form.get("url", "")).strip(), str(form.get("html", ""))
    if not url and not html.strip():
        raise HTTPException(400, "请填写网址或粘贴网页 HTML")
    if len(html) > MAX_PASTE:
        raise HTTPException(400, f"粘贴的 HTML 超过 {MAX_PASTE // 1024 // 1024} MB")
    if url and not html:
        with con.app.session() as session:
            record(
                session,
                actor=who.user.name,
                action="source.probe",
                target=f"source:{source.id}",
                detail={"url": url[:500]},
                now=con.clock(),
            )
    probe, refused = None, None
    try:
        probe = await _probe(con, source, url, html)
    except ProbeRefused as exc:
        refused = {"reason": REFUSED_ZH.get(exc.kind, "无法抓取"), "detail": con.text(exc.message)}
    return _page(con, request, who, source, probe=probe, refused=refused, form={"url": url, "html": html})


routes = [
    Route("/admin", admin_index, methods=["GET"]),
    Route("/admin/sources", sources_page, methods=["GET"]),
    Route("/admin/sources/{source_id}", source_page, methods=["GET"]),
    Route("/admin/sources/{source_id}/test", probe_source, methods=["POST"]),
]
