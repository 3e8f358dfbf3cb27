"""The audit trail of configuration changes: who, when, what."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditRow


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    id: int = 0


def current_user() -> str:
    """The OS user running the command (for ``--by`` left empty)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def record(session: Session, *, actor: str, action: str, target: str, detail: dict[str, Any], now: datetime) -> None:
    """Add one audit entry (the caller commits)."""
    session.add(AuditRow(at=now, actor=actor, action=action, target=target, detail=detail))


def history(
    session: Session, target: str | None = None, limit: int | None = 50, action: str | None = None
) -> list[AuditEntry]:
    """Newest entries first, optionally for one target (a topic id) and one action."""
    query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
    if target:
        query = query.where(AuditRow.target == target)
    if action:
        query = query.where(AuditRow.action == action)
    return [_entry(r) for r in session.scalars(query)]


def entry(session: Session, entry_id: int) -> AuditEntry | None:
    """One entry by its id, or None."""
    row = session.get(AuditRow, entry_id)
    return _entry(row) if row is not None else None


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(row.at, row.actor, row.action, row.target, row.detail, row.id)
