"""Logins, sessions, roles and CSRF.

A session cookie (HttpOnly, SameSite=Lax, Secure over https) names a server-side session
(``storage.users``); every POST carries the session's CSRF token (form field ``csrf`` or header
``X-CSRF-Token``, which htmx sends). The login form has its own token in a cookie of its own. Wrong
passwords lock the user for a while, and too many from one address refuse that address for a while.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from storage.audit import record
from storage.users import LoginRefused, User, authenticate, end_session, session_user, start_session
from web.console import Console

COOKIE = "yuqing_session"
LOGIN_COOKIE = "yuqing_login"
ADDRESS_FAILURES = 20
ADDRESS_WINDOW = 15 * 60.0
RANK = {"viewer": 0, "analyst": 1, "admin": 2}


class LoginNeeded(Exception):
    """No live session: pages redirect to the login form, htmx requests are told to."""


@dataclass(frozen=True)
class Visitor:
    user: User
    csrf: str


def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def _token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


def visitor(request: Request) -> Visitor | None:
    token = _token(request)
    if not token:
        return None
    con = console(request)
    with con.app.session() as session:
        found = session_user(session, token, con.clock())
    return Visitor(*found) if found else None


async def _check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, expected):
        raise HTTPException(403, "表单已失效或缺少校验码（CSRF），请刷新页面后重试")


async def guard(request: Request, role: str = "viewer") -> Visitor:
    """The signed-in visitor, with at least ``role``; POSTs must carry the CSRF token."""
    found = visitor(request)
    if found is None:
        raise LoginNeeded()
    if request.method not in ("GET", "HEAD"):
        await _check_csrf(request, found.csrf)
    if RANK.get(found.user.role, -1) < RANK[role]:
        raise HTTPException(
            403, "权限不足：该操作需要" + {"analyst": "分析员", "admin": "管理员"}.get(role, role) + "权限"
        )
    return found


def secure(request: Request) -> bool:
    return console(request).config.settings.web.secure_cookies == "always" or request.url.scheme == "https"


def _safe_next(value: str | None) -> str:
    """Only a path of this site (never ``//host`` or ``https://…``) is followed after login."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"


def _address_refused(con: Console, address: str) -> bool:
    failures: deque[float] = con.login_failures.setdefault(address, deque())
    now = time.monotonic()
    while failures and now - failures[0] > ADDRESS_WINDOW:
        failures.popleft()
    return len(failures) >= ADDRESS_FAILURES


async def login_form(request: Request) -> Response:
    token = secrets.token_urlsafe(24)
    page = console(request).render(
        request, "login.html", {"csrf": token, "next": _safe_next(request.query_params.get("next")), "error": None}
    )
    page.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure(request), path="/login")
    return page


async def login(request: Request) -> Response:
    con = console(request)
    form = await request.form()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/")))
    sent, expected = str(form.get("csrf", "")), request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(sent, expected):
        raise HTTPException(403, "登录表单已失效，请刷新页面后重试")
    address = _address(request)
    error = None
    if _address_refused(con, address):
        error = "登录失败次数过多，请稍后再试"
    else:
        with con.app.session() as session:
            try:
                user = authenticate(session, name, password, con.clock())
                token, _ = start_session(session, user, con.clock())
                record(session, actor=name, action="user.login", target=f"user:{name}", detail={}, now=con.clock())
            except LoginRefused as exc:  # inside the session: the failure count is committed
                error = exc.message
    if error is not None:
        con.login_failures.setdefault(address, deque()).append(time.monotonic())
        page = con.render(request, "login.html", {"csrf": expected, "next": target, "error": error}, 401)
        return page
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure(request), path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    await guard(request)
    con = console(request)
    token = _token(request)
    if token:
        with con.app.session() as session:
            end_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def login_redirect(request: Request, _exc: Any) -> Response:
    """Where a request without a session goes: the login form, then back (htmx: a full redirect)."""
    target = "/login?next=" + quote(
        _safe_next(request.url.path + ("?" + request.url.query if request.url.query else ""))
    )
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
