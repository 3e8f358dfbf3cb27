"""Fixtures of the alert tests (helpers live in ``alerts_testlib``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alerts_testlib import SmtpServer, WebhookServer, make_app, start_smtp  # noqa: E402

from storage.context import AppContext  # noqa: E402
from tests.mockserver import MockServer  # noqa: E402


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a port chosen by the OS."""
    server = start_smtp()
    yield server
    if server.controller._thread is not None:  # a test may have stopped it
        server.controller.stop()


@pytest.fixture
def webhook_server(mockserver: MockServer) -> WebhookServer:
    return WebhookServer(mockserver)


@pytest.fixture
def app(config_dir: Path, db_url: str) -> Iterator[AppContext]:
    """An app on a migrated database (SQLite and PostgreSQL) with the outbox transport."""
    context = make_app(config_dir, db_url)
    yield context
    context.close()


@pytest.fixture
def sqlite_app(config_dir: Path, tmp_path: Path) -> Iterator[AppContext]:
    """The same app on SQLite only (for tests where the database makes no difference)."""
    context = make_app(config_dir, f"sqlite:///{tmp_path / 'alerts.db'}")
    yield context
    context.close()
