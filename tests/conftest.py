"""Fixtures shared by every stage's tests.

Services: PostgreSQL tests read ``YUQING_TEST_POSTGRES_URL`` (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), Redis tests ``YUQING_TEST_REDIS_URL``; both
skip with a clear reason where the variable is absent. ``.ci/run`` sets both.
Real data from ``../shared/data`` is found through ``SHARED_DATA`` and skipped where absent.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from config import copy_shipped
from storage.db import make_engine, upgrade
from tests.crawlers.hostile import HostileServer, start_hostile
from tests.mockserver import MockServer

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("YUQING_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_data(*parts: str) -> Path:
    """A path below ../shared/data, or skip the test where it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} (../shared/data is absent on this machine)")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's environment or writes into the repository or $HOME."""
    for var in list(os.environ):
        if var.startswith("YUQING_") and not var.startswith("YUQING_TEST_") and var != "YUQING_SHARED_DATA":
            monkeypatch.delenv(var)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def mockserver() -> Iterator[MockServer]:
    """The suite's HTTP server (``tests/mockserver.py``), started, with no routes and no root."""
    with MockServer() as server:
        yield server


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = start_hostile()
    yield server
    server.close()


@pytest.fixture
def other() -> Iterator[HostileServer]:
    """Another origin (same address, another port): another site as far as credentials go."""
    server = start_hostile()
    yield server
    server.close()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A writable copy of the shipped config whose data dir is inside tmp_path."""
    return copy_shipped(tmp_path / "config", tmp_path / "data")


def _service_url(var: str, what: str) -> str:
    """The service URL from the environment; skip where absent, fail in CI where it must run."""
    url = os.environ.get(var)
    if not url:
        if os.environ.get("YUQING_TEST_REQUIRE_SERVICES"):
            pytest.fail(f"{what} tests must run here but {var} is not set")
        pytest.skip(f"{what} not configured: set {var} (CI sets it)")
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return _service_url("YUQING_TEST_POSTGRES_URL", "PostgreSQL")


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh schema of their own, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def redis_url() -> str:
    return _service_url("YUQING_TEST_REDIS_URL", "Redis")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs on SQLite and on PostgreSQL (skipped where not configured)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database on SQLite and on PostgreSQL."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()
