"""Fixtures of the console tests (helpers live in ``webtestlib``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browserlib import browser_fixture, served_fixture  # noqa: E402, F401
from webtestlib import Site, make_site  # noqa: E402


@pytest.fixture
def site(config_dir: Path, db_url: str) -> Iterator[Site]:
    """A seeded console on SQLite and on PostgreSQL."""
    made = make_site(config_dir, db_url)
    yield made
    made.app.close()


@pytest.fixture
def sqlite_site(config_dir: Path, tmp_path: Path) -> Iterator[Site]:
    """The same console on SQLite only (for tests where the database makes no difference)."""
    made = make_site(config_dir, f"sqlite:///{tmp_path / 'web.db'}")
    yield made
    made.app.close()
