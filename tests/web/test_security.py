"""The console's defences, over every route the app has (enumerated from ``app.routes``, so pages added
later are covered): CSRF on every POST, roles, unit scope by URL, login limits, cookie flags, security
headers, and the hostile post inert on every GET page (over HTTP, and in the system Chromium)."""

from __future__ import annotations

import http.client
import string
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from browserlib import Served, logged_in, serve, watch
from sqlalchemy import func, select, text, update
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient
from webtestlib import NOW, PASSWORD, Site, csrf_of

from storage.models import AnalysisRow, AuditRow, LabelRow, PostRow
from storage.users import REFUSED
from web.app import CSP, create_app

# Extra GET URLs beyond one per GET route: the list with filters, search, and malformed values.
INERT_PATHS = ["/?q=民警殴打群众", "/?negative=1&sort=risk&days=30&min_risk=1", "/?days=abc&offset=-3&topic=<x>"]
HOSTILE_RAW = ["<script>alert(1)", 'onerror="alert(2)"', 'href="javascript:', "href='javascript:"]
HOSTILE_SHOWN = "&lt;script&gt;alert(1)&lt;/script&gt;"  # the title, escaped: shown as text


def samples(site: Site, key: str) -> dict[str, str]:
    """Sample values of path parameters, by name, for seeded post ``key``: a route added with a new
    parameter name adds its sample here."""
    with site.app.session() as session:
        event = session.scalar(select(AnalysisRow.event_id).where(AnalysisRow.post_id == site.ids[key]))
    return {
        "post_id": str(site.ids[key]),
        "event_id": str(event),
        "source_id": "city",
        "topic": "police",
        "topic_id": "police",
        "name": "viewer",
        "entry": "1",
    }


def routes(items: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    for item in items:
        if isinstance(item, Route):
            yield prefix + item.path_format, item
        elif isinstance(item, Mount):
            yield from routes(item.routes, prefix + item.path)


def urls(site: Site, method: str, key: str = "hostile") -> list[str]:
    """One URL for every route answering ``method``, its parameters filled from ``samples``."""
    values = samples(site, key)
    found = []
    for path, route in routes(site.web.routes):  # type: ignore[attr-defined]
        if method not in (route.methods or ()):
            continue
        names = [n for _, n, _, _ in string.Formatter().parse(path) if n]
        missing = [n for n in names if n not in values]
        assert not missing, f"{path}: add a sample for {missing} to samples() in tests/web/test_security.py"
        found.append(path.format(**values))
    return found


def counts(site: Site) -> tuple[int, int]:
    with site.app.session() as session:
        return session.scalar(select(func.count()).select_from(AuditRow)) or 0, session.scalar(
            select(func.count()).select_from(LabelRow)
        ) or 0


def test_every_post_route_refuses_a_request_without_the_csrf_token(site: Site) -> None:
    posts = urls(site, "POST")
    assert {"/login", "/logout", f"/posts/{site.ids['hostile']}/label"} <= set(posts)
    admin, stranger = site.client("admin"), site.client()
    other_token = csrf_of(site.client("viewer").get("/").text)  # another session's token
    before = counts(site)
    for url in posts:
        data = {"verdict": "irrelevant", "name": "x", "password": PASSWORD}
        assert admin.post(url, data=data).status_code == 403, url
        assert admin.post(url, data={**data, "csrf": other_token}).status_code == 403, url
        assert admin.post(url, data=data, headers={"X-CSRF-Token": other_token}).status_code == 403, url
        assert stranger.post(url, data=data, follow_redirects=False).status_code in (303, 403), url
    assert counts(site) == before  # nothing was recorded or audited
    assert admin.get("/").status_code == 200  # the admin is still signed in: /logout refused too


def test_a_viewer_changes_nothing_and_an_analyst_opens_no_admin_page(site: Site) -> None:
    viewer = site.client("viewer")
    token = csrf_of(viewer.get("/").text)
    for url in urls(site, "POST"):
        if url not in ("/login", "/logout"):
            assert viewer.post(url, data={"verdict": "irrelevant"}, headers={"X-CSRF-Token": token}).status_code == 403
    analyst = site.client("analyst")
    token = csrf_of(analyst.get("/").text)
    for method in ("GET", "POST"):
        for url in urls(site, method):
            if url.startswith("/admin"):
                answer = analyst.request(method, url, headers={"X-CSRF-Token": token})
                assert answer.status_code == 403, (method, url)


def test_a_units_user_cannot_reach_another_units_post_by_url(site: Site) -> None:
    sz = site.client("sz")
    page = sz.get("/")
    token = csrf_of(page.text)
    assert f"#{site.ids['beating']}" in page.text and f"#{site.ids['court']}" not in page.text
    assert f"#{site.ids['court']}" not in sz.get("/", params={"q": "执行局"}).text
    outside = samples(site, "court")  # 广东省's court post: not 深圳's police posts
    for method in ("GET", "POST"):
        for url in urls(site, method, "court"):
            names_it = f"/{outside['post_id']}" in url or f"/{outside['event_id']}" in url
            if url.startswith("/admin") or not names_it:
                continue
            answer = sz.request(method, url, data={"verdict": "irrelevant"}, headers={"X-CSRF-Token": token})
            assert answer.status_code == 404, (method, url)
            assert "执行局" not in answer.text
    assert sz.get(f"/posts/{site.ids['beating']}").status_code == 200


def test_a_units_analyst_labels_nothing(site: Site) -> None:
    """A label changes what the press office sees too: the unit the post complains about cannot
    take it out of the office's list. The unit's analyst sees no label buttons and is refused."""
    sz = site.client("sz")
    page = sz.get("/")
    assert f"#{site.ids['beating']}" in page.text and 'hx-post="/posts/' not in page.text
    for verdict in ("not-negative", "irrelevant"):
        answer = sz.post(
            f"/posts/{site.ids['beating']}/label",
            data={"verdict": verdict},
            headers={"X-CSRF-Token": csrf_of(page.text)},
        )
        assert answer.status_code == 403 and "宣传处" in answer.text
    assert f"#{site.ids['beating']}" in site.client("analyst").get("/", params={"negative": "1"}).text


def attempt(client: TestClient, name: str, password: str) -> Any:
    page = client.get("/login")
    return client.post("/login", data={"name": name, "password": password, "csrf": csrf_of(page.text), "next": "/"})


def test_login_attempts_are_limited(site: Site) -> None:
    client = site.client()
    for _ in range(5):
        assert attempt(client, "analyst", "wrong password").status_code == 401
    locked = attempt(client, "analyst", PASSWORD)  # the right password, too late
    unknown = attempt(client, "nobody", "wrong password")
    assert locked.status_code == unknown.status_code == 401
    assert REFUSED in locked.text and REFUSED in unknown.text  # no telling a locked name from an unknown one
    with site.app.session() as session:
        assert session.scalar(select(AuditRow.id).where(AuditRow.action == "user.locked")) is not None
    assert attempt(client, "viewer", PASSWORD).status_code == 200  # another user is not locked
    later = TestClient(create_app(site.app, clock=lambda: NOW + timedelta(minutes=16)), base_url="http://127.0.0.1")
    assert attempt(later, "analyst", PASSWORD).status_code == 200  # the lockout ends
    for n in range(20):  # one address trying many names
        attempt(client, f"guess{n}", "wrong password")
    refused = attempt(client, "admin", PASSWORD)
    assert refused.status_code == 401 and "登录失败次数过多" in refused.text


def session_cookie(answer: Any) -> str:
    cookies = [v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith("yuqing_session=")]
    assert len(cookies) == 1, answer.headers
    return cookies[0].lower()


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(site: Site) -> None:
    for base, secure in (("http://127.0.0.1", False), ("https://127.0.0.1", True)):
        client = TestClient(site.web, base_url=base)  # type: ignore[arg-type]
        page = client.get("/login")
        login_cookie = page.headers["set-cookie"].lower()
        assert "httponly" in login_cookie and "samesite=strict" in login_cookie
        answer = client.post(
            "/login",
            data={"name": "analyst", "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"},
            follow_redirects=False,
        )
        cookie = session_cookie(answer)
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        assert ("; secure" in cookie) is secure, cookie
    running, thread = serve(site)  # behind a reverse proxy on this host: X-Forwarded-Proto
    try:
        port = int(running.url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/login", headers={"X-Forwarded-Proto": "https"})
        page = conn.getresponse()
        body, login_cookie = page.read().decode(), page.getheader("set-cookie", "")
        form = f"name=analyst&password={PASSWORD.replace(' ', '+')}&next=/&csrf={csrf_of(body)}"
        conn.request(
            "POST",
            "/login",
            body=form,
            headers={
                "X-Forwarded-Proto": "https",
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": login_cookie.split(";")[0],
            },
        )
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 303
        cookie = [v for k, v in answer.getheaders() if k.lower() == "set-cookie" and "yuqing_session=" in v][0]
        assert "secure" in cookie.lower() and "httponly" in cookie.lower()
    finally:
        running.server.should_exit = True
        thread.join(timeout=10)


def get_urls(site: Site) -> list[str]:
    return [*urls(site, "GET"), *INERT_PATHS]


def test_every_page_has_the_security_headers_and_shows_the_hostile_post_inert(site: Site) -> None:
    with site.app.session() as session:  # a crawled link that is a script: never an href
        session.execute(update(PostRow).where(PostRow.id == site.ids["hostile"]).values(url="JavaScript:alert(5)"))
    admin = site.client("admin")
    pages = [(url, admin.get(url)) for url in get_urls(site)]
    pages.append(("rows", admin.get("/", headers={"HX-Request": "true", "HX-Target": "rows"})))
    for url, answer in pages:
        assert answer.status_code == 200, (url, answer.status_code)
        for raw in HOSTILE_RAW:
            assert raw.lower() not in answer.text.lower(), (url, raw)
    shown = dict(pages)
    assert HOSTILE_SHOWN in shown["/"].text and HOSTILE_SHOWN in shown[f"/posts/{site.ids['hostile']}"].text
    assert HOSTILE_SHOWN in shown["rows"].text
    others = [site.client().get("/login"), admin.get("/no-such-page"), admin.get("/static/console.js")]
    for answer in [*(a for _, a in pages), *others]:
        assert answer.headers["content-security-policy"] == CSP, answer.url
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
    assert "script-src 'self';" in CSP and "unsafe-inline" not in CSP


def test_the_hostile_post_is_inert_in_the_browser(browser: Any, served: Served) -> None:
    page, seen = logged_in(browser, served, "admin")
    control = page.context.new_page()  # about:blank, no CSP: the watch must see what this markup does
    control_seen = watch(control, served.url)
    control.set_content('<img src="http://foreign.invalid/x.png" onerror="alert(2)">')
    control.wait_for_timeout(500)
    assert control_seen.foreign and control_seen.dialogs, control_seen
    for url in get_urls(served.site):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        seen.assert_inert(url)
    page.goto(f"/posts/{served.site.ids['hostile']}")
    assert "<script>alert(1)</script>" in page.locator("h1").inner_text()  # shown as text, not run


@pytest.mark.parametrize("bad", ["²", "99999999999999999999999", "-1", "%00", "<x>"])
def test_malformed_query_values_are_not_server_errors(sqlite_site: Site, bad: str) -> None:
    admin = sqlite_site.client("admin")
    for url in urls(sqlite_site, "GET"):
        params = {k: bad for k in ("days", "offset", "min_risk", "page", "negative", "topic", "q", "sort", "limit")}
        assert admin.get(url, params=params).status_code < 500, url


def test_extreme_ids_dates_and_offsets_are_not_server_errors(site: Site) -> None:
    """On SQLite and PostgreSQL (which refuses a negative OFFSET): ids past the database's integers
    are 404, dates the window's arithmetic cannot reach are ignored, a negative offset is 0."""
    admin = site.client("admin")
    huge = "9" * 20
    for url in ("/?from=0001-01-01", "/?to=9999-12-31", "/?from=0001-01-01&to=9999-12-31", "/events?offset=-1"):
        assert admin.get(url).status_code == 200, url
    for url in (f"/posts/{huge}", f"/events/{huge}"):
        assert admin.get(url).status_code == 404, url
    csrf = csrf_of(admin.get("/").text)
    for url in (f"/posts/{huge}/label", f"/events/{huge}/assess", f"/admin/keywords/police/undo/{huge}"):
        assert admin.post(url, data={"csrf": csrf, "verdict": "irrelevant"}).status_code == 404, url
    missing = admin.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.text and "Not Found" not in missing.text
    wrong = admin.get(f"/posts/{site.ids['beating']}/label")
    assert wrong.status_code == 405 and "Method Not Allowed" not in wrong.text


def test_an_unexpected_error_is_a_plain_page_with_the_security_headers(sqlite_site: Site) -> None:
    admin = sqlite_site.client("admin")
    failing = TestClient(sqlite_site.web, base_url="http://127.0.0.1", raise_server_exceptions=False)  # type: ignore[arg-type]
    failing.cookies = admin.cookies
    with sqlite_site.app.session() as session:  # a damaged database: the review list's query fails
        session.execute(text("ALTER TABLE posts RENAME TO posts_gone"))
    for headers in ({}, {"HX-Request": "true", "HX-Target": "rows"}):
        answer = failing.get("/", headers=headers)
        assert answer.status_code == 500, answer.text
        assert "服务器内部错误" in answer.text and "posts" not in answer.text  # no internals shown
        assert answer.headers["content-security-policy"] == CSP
        assert answer.headers["x-frame-options"] == "DENY"
