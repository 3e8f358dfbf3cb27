"""Serving the console with uvicorn: in the foreground (``yuqing web``), or in a thread beside other
work (``yuqing run`` with ``web.enabled``, ``yuqing demo --serve``) and stopped with it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from storage.context import AppContext
from storage.db import require_current
from web.app import create_app
from yuqing.base.errors import YuqingError

STOP_SECONDS = 10.0


def make_server(app: AppContext, host: str | None = None, port: int | None = None) -> uvicorn.Server:
    """A uvicorn server of the console on ``app`` (host and port default to settings ``web``)."""
    settings = app.config.settings.web
    require_current(app.engine)
    config = uvicorn.Config(
        create_app(app),
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level="warning",
        proxy_headers=True,  # X-Forwarded-Proto from a reverse proxy on this host: Secure cookies over https
        forwarded_allow_ips="127.0.0.1",
    )
    return uvicorn.Server(config)


def serve(app: AppContext, host: str | None = None, port: int | None = None) -> None:
    """Serve the console until interrupted (uvicorn handles SIGINT and SIGTERM)."""
    make_server(app, host, port).run()


class Background:
    """The console served from a thread of this process; ``stop`` ends it and frees the port. Signals
    stay with the main thread (uvicorn installs none outside it)."""

    def __init__(self, app: AppContext, host: str | None = None, port: int | None = None) -> None:
        self.server = make_server(app, host, port)
        self.thread = threading.Thread(target=self.server.run, name="console", daemon=True)

    def start(self) -> None:
        """Start serving; returns once the port is bound (raises YuqingError when it cannot be)."""
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            self.thread.join(0.05)
        if not self.server.started:
            config = self.server.config
            raise YuqingError(
                f"the console could not listen on {config.host}:{config.port}",
                "another program (another `yuqing web` or daemon?) may use that port: stop it, or choose "
                "another port (settings web.port), or set web.enabled: false and serve it with `yuqing web`",
            )

    @property
    def url(self) -> str:
        """``http://host:port`` as bound (the real port when 0 was asked for)."""
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    def stop(self) -> None:
        """Stop accepting, finish or close open requests, and wait for the thread (bounded)."""
        self.server.should_exit = True
        self.thread.join(STOP_SECONDS)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(STOP_SECONDS)


@contextmanager
def serving(app: AppContext, host: str | None = None, port: int | None = None) -> Iterator[Background]:
    """The console served in a thread for the duration of the ``with`` block."""
    console = Background(app, host, port)
    console.start()
    try:
        yield console
    finally:
        console.stop()
