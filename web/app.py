"""The console's Starlette application: routes of each page module, static files (htmx, ECharts,
the stylesheet, shipped in the package: no CDN), security headers on every answer, error pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storage.context import AppContext
from web import auth, dashboard, events, keywords, review, sources, users
from web.console import HERE, Console

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


FAILED = (
    "<!doctype html><html lang=zh-CN><meta charset=utf-8><title>服务器内部错误</title>"
    "<h1>服务器内部错误</h1><p>出错的请求已记入日志，请稍后重试或联系管理员。<p><a href=/>返回首页</a></html>"
)


class SecurityHeaders:
    """Adds the CSP and friends to every answer: even a crawled string that escaped the templates'
    autoescape could not run a script (inline scripts are refused) or leak the console's URLs.
    It sits inside Starlette's outermost error middleware, so it answers an unexpected error itself
    (a plain page, with the headers) and lets the error go on to the server's log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                static = scope.get("path", "").startswith("/static/")
                message["headers"] = [
                    *message.get("headers", []),
                    *(h for h in HEADERS if not (static and h[0] == b"cache-control")),
                ]
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            if not started:
                htmx = any(k == b"hx-request" for k, _ in scope.get("headers", []))
                body, kind = ("服务器内部错误".encode(), b"text/plain") if htmx else (FAILED.encode(), b"text/html")
                headers = [(b"content-type", kind + b"; charset=utf-8"), (b"content-length", str(len(body)).encode())]
                await with_headers({"type": "http.response.start", "status": 500, "headers": headers})
                await send({"type": "http.response.body", "body": body})
            raise


# Starlette's own refusals carry the English status phrase ("Not Found"): said in Chinese instead
DEFAULT_DETAILS = {
    400: "请求有误",
    403: "无权访问该页面",
    404: "页面不存在，或不在本单位的范围内",
    405: "该页面不支持这种请求方式",
    409: "操作与当前状态冲突",
    413: "提交的内容过大",
}


def _error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "服务器内部错误"
    if detail == HTTPStatus(status).phrase:
        detail = DEFAULT_DETAILS.get(status, "请求无法处理")
    con: Console = request.app.state.console
    if request.headers.get("hx-request"):
        return Response(str(detail), status_code=status, media_type="text/plain; charset=utf-8")
    return con.render(request, "error.html", {"status": status, "detail": detail}, status)


def create_app(app: AppContext, clock: Callable[[], datetime] | None = None) -> Starlette:
    """The console on this application context (``clock``: the time, for tests)."""
    con = Console(app, clock) if clock else Console(app)
    routes = [
        *auth.routes,
        *review.routes,
        *events.routes,
        *dashboard.routes,
        *sources.routes,
        *keywords.routes,
        *users.routes,
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    web = Starlette(
        routes=routes,
        exception_handlers={auth.LoginNeeded: auth.login_redirect, HTTPException: _error},
    )
    web.state.console = con
    web.add_middleware(SecurityHeaders)
    return web
