"""User admin over HTTP: add (password shown once), change role and unit, disable and enable, reset a
password; every change audited by the admin's name; admins only; an admin cannot disable themself."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient
from webtestlib import NOW, PASSWORD, Site, csrf_of, login

from storage.audit import history
from storage.users import REFUSED, LoginRefused, authenticate, list_users


def _admin(site: Site) -> tuple[TestClient, str]:
    client = site.client("admin")
    page = client.get("/admin/users")
    assert page.status_code == 200, page.text
    return client, csrf_of(page.text)


def _login_status(site: Site, name: str, password: str) -> int:
    client = site.client()
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    data = {"name": name, "password": password, "csrf": token.group(1), "next": "/"}
    return client.post("/login", data=data, follow_redirects=False).status_code


def _user(site: Site, name: str) -> object:
    with site.app.session() as session:
        return next(u for u in list_users(session) if u.name == name)


def test_the_list_shows_every_user_with_role_unit_and_last_login(site: Site) -> None:
    client, _ = _admin(site)
    page = client.get("/admin/users").text
    for name in ("admin", "analyst", "viewer", "sz"):
        assert f"<td>{name}</td>" in page
    assert '<option value="shenzhen" selected>' in page
    assert "从未登录" in page  # the viewer has never logged in; the admin has


def test_add_a_user_with_a_password_shown_once_then_log_in(site: Site) -> None:
    client, csrf = _admin(site)
    page = client.post("/admin/users", data={"csrf": csrf, "name": "wangmin", "role": "analyst", "unit": "shenzhen"})
    assert page.status_code == 200, page.text
    shown = re.search(r"用户 wangmin 的初始密码：<code>([^<]+)</code>", page.text)
    assert shown, page.text
    assert _login_status(site, "wangmin", shown.group(1)) == 303
    assert shown.group(1) not in client.get("/admin/users").text  # shown once
    user = _user(site, "wangmin")
    assert (user.role, user.unit) == ("analyst", "shenzhen")  # type: ignore[attr-defined]
    with site.app.session() as session:
        entry = history(session, "user:wangmin", 5)[-1]
    assert (entry.actor, entry.action) == ("admin", "user.add")


def test_a_bad_unit_or_a_taken_name_is_refused(site: Site) -> None:
    client, csrf = _admin(site)
    bad = client.post("/admin/users", data={"csrf": csrf, "name": "lisi", "role": "viewer", "unit": "nowhere"})
    assert bad.status_code == 400 and "未知单位“nowhere”" in bad.text
    taken = client.post("/admin/users", data={"csrf": csrf, "name": "viewer", "role": "viewer", "password": "x" * 10})
    assert taken.status_code == 400 and "用户“viewer”已存在" in taken.text
    assert "lisi" not in client.get("/admin/users").text


def test_change_role_and_unit(site: Site) -> None:
    client, csrf = _admin(site)
    answer = client.post("/admin/users/analyst/update", data={"csrf": csrf, "role": "viewer", "unit": "shenzhen"})
    assert answer.status_code == 200, answer.text
    user = _user(site, "analyst")
    assert (user.role, user.unit) == ("viewer", "shenzhen")  # type: ignore[attr-defined]
    with site.app.session() as session:
        entry = history(session, "user:analyst", 1)[0]
    assert (entry.actor, entry.action, entry.detail) == ("admin", "user.update", {"role": "viewer", "unit": "shenzhen"})


def test_a_disabled_user_cannot_log_in_until_enabled(site: Site) -> None:
    viewer = site.client("viewer")
    client, csrf = _admin(site)
    assert client.post("/admin/users/viewer/disable", data={"csrf": csrf}).status_code == 200
    assert _login_status(site, "viewer", PASSWORD) == 401
    refusals = []
    with site.app.session() as session:  # the right password is refused as a wrong one would be
        for password in (PASSWORD, "wrong-password"):
            with pytest.raises(LoginRefused) as refused:
                authenticate(session, "viewer", password, NOW)
            refusals.append(refused.value.message)
    assert refusals == [REFUSED, REFUSED]
    assert viewer.get("/", follow_redirects=False).status_code == 303  # the open session ended too
    assert client.post("/admin/users/viewer/enable", data={"csrf": csrf}).status_code == 200
    assert _login_status(site, "viewer", PASSWORD) == 303
    with site.app.session() as session:
        actions = [(e.actor, e.detail) for e in history(session, "user:viewer", 10) if e.action == "user.update"]
    assert actions == [("admin", {"disabled": False}), ("admin", {"disabled": True})]


def test_reset_a_password_typed_or_random(site: Site) -> None:
    client, csrf = _admin(site)
    typed = client.post("/admin/users/analyst/passwd", data={"csrf": csrf, "password": "a new secret 42"})
    assert typed.status_code == 200 and "的新密码" not in typed.text
    assert _login_status(site, "analyst", PASSWORD) == 401
    assert _login_status(site, "analyst", "a new secret 42") == 303
    short = client.post("/admin/users/analyst/passwd", data={"csrf": csrf, "password": "short"})
    assert short.status_code == 400 and "密码太短" in short.text
    random = client.post("/admin/users/analyst/passwd", data={"csrf": csrf, "password": ""})
    shown = re.search(r"用户 analyst 的新密码：<code>([^<]+)</code>", random.text)
    assert shown, random.text
    login(site.client(), "analyst", shown.group(1))


def test_an_admin_cannot_disable_or_demote_themself(site: Site) -> None:
    client, csrf = _admin(site)
    assert client.post("/admin/users/admin/disable", data={"csrf": csrf}).status_code == 400
    assert client.post("/admin/users/admin/update", data={"csrf": csrf, "role": "viewer"}).status_code == 400
    user = _user(site, "admin")
    assert (user.role, user.disabled) == ("admin", False)  # type: ignore[attr-defined]


def test_only_admins_and_only_with_the_csrf_token(site: Site) -> None:
    for name in ("analyst", "viewer"):
        client = site.client(name)
        assert client.get("/admin/users").status_code == 403
        csrf = csrf_of(client.get("/").text)
        answer = client.post("/admin/users/viewer/disable", data={"csrf": csrf})
        assert answer.status_code == 403
    admin = site.client("admin")
    assert admin.post("/admin/users/viewer/disable", data={}).status_code == 403
    assert _user(site, "viewer").disabled is False  # type: ignore[attr-defined]
