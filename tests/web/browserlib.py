"""Helpers of the console's browser tests: the real console served by uvicorn on a free 127.0.0.1 port
in a thread, the system Chromium driven by Playwright (never a downloaded browser), a logged-in page,
and ``watch(page)``, which records every dialog, every request to another origin (aborted, so no test
touches the network), script errors and CSP violations.

``conftest.py`` registers the fixtures ``browser`` (one Chromium for the session: a second Playwright
instance would clash with the first's event loop) and ``served``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import expect, sync_playwright
from webtestlib import PASSWORD, Site

expect.set_options(timeout=20_000)  # the first label builds the analyser: seconds on a loaded CI machine
CHROMIUM = Path("/usr/bin/chromium")  # Debian's chromium (.ci/run installs it with fonts-wqy-microhei)
VIEWPORT = {"width": 1366, "height": 820}


@dataclass
class Served:
    """The console of a seeded site served over real HTTP at ``url`` (``http://127.0.0.1:PORT``)."""

    site: Site
    url: str
    server: uvicorn.Server


def serve(site: Site) -> tuple[Served, threading.Thread]:
    """Start uvicorn over ``site.web`` in a thread, with the proxy settings of ``yuqing web``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        site.web,  # type: ignore[arg-type]
        log_level="warning",
        lifespan="off",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the console server did not start")
        threading.Event().wait(0.02)
    return Served(site, f"http://127.0.0.1:{sock.getsockname()[1]}", server), thread


@pytest.fixture(name="served")
def served_fixture(sqlite_site: Site) -> Iterator[Served]:
    """The seeded console (SQLite) served over HTTP for the browser."""
    running, thread = serve(sqlite_site)
    yield running
    running.server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(name="browser", scope="session")
def browser_fixture() -> Iterator[Any]:
    """The system Chromium, headless (skipped only where /usr/bin/chromium is absent)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no system Chromium at {CHROMIUM} (apt-get install chromium fonts-wqy-microhei)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@dataclass
class Watch:
    """What a page did that a console page must never do (see ``watch``)."""

    origin: str
    dialogs: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def clear(self) -> None:
        for found in (self.dialogs, self.foreign, self.csp, self.errors):
            found.clear()

    def assert_inert(self, where: str) -> None:
        assert not self.dialogs, f"{where}: a dialog opened: {self.dialogs}"
        assert not self.foreign, f"{where}: requests to another origin: {self.foreign}"
        assert not self.csp, f"{where}: the CSP refused something the page holds: {self.csp}"
        assert not self.errors, f"{where}: script errors: {self.errors}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def watch(page: Any, origin: str) -> Watch:
    """Record dialogs (dismissed), requests leaving ``origin`` (aborted), CSP violations and script errors."""
    seen = Watch(origin)

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_route(route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or _origin(url) == origin:
            route.continue_()
        else:
            seen.foreign.append(url)
            route.abort()

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            seen.csp.append(message.text)

    page.on("dialog", on_dialog)
    page.route("**/*", on_route)
    page.on("websocket", lambda ws: seen.foreign.append(ws.url))
    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    return seen


def open_page(browser: Any, served: Served) -> tuple[Any, Watch]:
    """A new page in a fresh context (no cookies) on the served console, watched."""
    context = browser.new_context(base_url=served.url, locale="zh-CN", viewport=VIEWPORT)
    context.set_default_timeout(20_000)
    page = context.new_page()
    return page, watch(page, served.url)


def log_in(page: Any, name: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person would; lands on the review list."""
    page.goto("/login")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")


def logged_in(browser: Any, served: Served, name: str) -> tuple[Any, Watch]:
    """A watched page signed in as ``name`` (admin, analyst, viewer or sz)."""
    page, seen = open_page(browser, served)
    log_in(page, name)
    return page, seen
