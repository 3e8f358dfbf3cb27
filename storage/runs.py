"""Crawl runs in terms of plain values: start one, finish it with its counts, read the latest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import CrawlRunRow

COUNTERS = ("pages", "items", "new", "duplicate", "dropped", "errors")
STATUSES = ("running", "ok", "partial", "failed", "timeout")


@dataclass(frozen=True)
class CrawlRun:
    """One crawl of one source as recorded in ``crawl_runs``."""

    id: int
    source_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    pages: int
    items: int
    new: int
    duplicate: int
    dropped: int
    errors: int
    error_summary: str


def _to_run(row: CrawlRunRow) -> CrawlRun:
    return CrawlRun(id=row.id, source_id=row.source_id, started_at=row.started_at, finished_at=row.finished_at,
                    status=row.status, pages=row.pages, items=row.items, new=row.new, duplicate=row.duplicate,
                    dropped=row.dropped, errors=row.errors, error_summary=row.error_summary)


def start_run(session: Session, source_id: str, now: datetime) -> int:
    """Insert a ``running`` row; returns its id. The caller commits."""
    row = CrawlRunRow(source_id=source_id, started_at=now, status="running", error_summary="", stats={},
                      **dict.fromkeys(COUNTERS, 0))
    session.add(row)
    session.flush()
    return row.id


def finish_run(session: Session, run_id: int, status: str, now: datetime, counts: dict[str, int],
               error_summary: str = "", stats: dict[str, Any] | None = None) -> None:
    """Record the outcome of a run (status one of ``STATUSES``)."""
    if status not in STATUSES:
        raise ValueError(f"unknown crawl run status {status!r}; use one of {', '.join(STATUSES)}")
    values = {name: int(counts.get(name, 0)) for name in COUNTERS}
    session.execute(update(CrawlRunRow).where(CrawlRunRow.id == run_id).values(
        status=status, finished_at=now, error_summary=error_summary[:4000], stats=stats or {}, **values))


def close_stale_runs(session: Session, source_id: str, status: str, now: datetime, reason: str) -> int:
    """Mark this source's runs still ``running`` (a killed crawl) as ``status``; returns how many."""
    result = session.execute(update(CrawlRunRow)
                             .where(CrawlRunRow.source_id == source_id, CrawlRunRow.status == "running")
                             .values(status=status, finished_at=now, error_summary=reason))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def get_run(session: Session, run_id: int) -> CrawlRun | None:
    row = session.get(CrawlRunRow, run_id)
    return _to_run(row) if row else None


def last_runs(session: Session) -> dict[str, CrawlRun]:
    """The latest run of every source that has one."""
    latest = (select(CrawlRunRow.source_id, func.max(CrawlRunRow.id).label("id"))
              .group_by(CrawlRunRow.source_id).subquery())
    rows = session.scalars(select(CrawlRunRow).join(latest, CrawlRunRow.id == latest.c.id))
    return {row.source_id: _to_run(row) for row in rows}


def recent_runs(session: Session, source_id: str, limit: int = 10, before: datetime | None = None) -> list[CrawlRun]:
    """This source's latest runs (started before ``before`` when given), newest first."""
    stmt = select(CrawlRunRow).where(CrawlRunRow.source_id == source_id)
    if before is not None:
        stmt = stmt.where(CrawlRunRow.started_at < before)
    rows = session.scalars(stmt.order_by(CrawlRunRow.id.desc()).limit(limit))
    return [_to_run(row) for row in rows]
