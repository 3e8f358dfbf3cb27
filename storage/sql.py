"""SQL that differs by database: the one insert-or-ignore used for every unique key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def insert_ignore(dialect: str, table: Any, index_elements: Sequence[str]) -> Insert:
    """``INSERT … ON CONFLICT (index_elements) DO NOTHING`` for SQLite or PostgreSQL: the row
    already there wins, also when two writers race."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))
    raise NotImplementedError(f"database {dialect!r} is not supported; use SQLite or PostgreSQL")
