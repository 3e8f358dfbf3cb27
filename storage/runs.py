"""Every query on ``crawl_runs``, in one place: a crawl opens and finishes its run, the crawl
supervisor closes what a dead or killed process left open, and the daemon's health check, ``yuqing
status`` and the digest read a source's recent runs and health from here, in one order (newest
first by id: ids grow with inserts, start times can tie).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from storage.health import FAILED, HealthStatus, source_health
from storage.models import CrawlRunRow

COUNTERS = ("pages", "items", "new", "duplicate", "dropped", "errors")
STATUSES = ("running", "ok", "partial", "failed", "timeout")
HEALTH_RUNS = 40  # runs read per source to judge its health (streaks of failures or empty runs)
LAUNCH_SLACK = timedelta(seconds=2)
ABANDONED = "abandoned: the crawl process ended without finishing its run"
WARNING_STAT = "yuqing/warning/"  # crawl stats under this prefix are warnings (a selector that matched nothing)


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
    warnings: tuple[str, ...] = ()
    """what went unnoticed otherwise, e.g. ``selectors.links 'ul a' matched nothing on URL``"""


@dataclass(frozen=True)
class SourceRuns:
    """The crawl runs of one source that started in a window."""

    source_id: str
    runs: int
    ok: int
    failed: int
    items: int
    new: int
    last_status: str
    last_error: str


def _to_run(row: CrawlRunRow) -> CrawlRun:
    return CrawlRun(
        id=row.id,
        source_id=row.source_id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        pages=row.pages,
        items=row.items,
        new=row.new,
        duplicate=row.duplicate,
        dropped=row.dropped,
        errors=row.errors,
        error_summary=row.error_summary,
        warnings=tuple(
            str(value) for key, value in sorted((row.stats or {}).items()) if key.startswith(WARNING_STAT) and value
        ),
    )


def start_run(session: Session, source_id: str, now: datetime) -> int:
    """Insert a ``running`` row; returns its id. The caller commits."""
    row = CrawlRunRow(
        source_id=source_id, started_at=now, status="running", error_summary="", stats={}, **dict.fromkeys(COUNTERS, 0)
    )
    session.add(row)
    session.flush()
    return row.id


def finish_run(
    session: Session,
    run_id: int,
    status: str,
    now: datetime,
    counts: dict[str, int],
    error_summary: str = "",
    stats: dict[str, Any] | None = None,
) -> None:
    """Record the outcome of a run (status one of ``STATUSES``)."""
    if status not in STATUSES:
        raise ValueError(f"unknown crawl run status {status!r}; use one of {', '.join(STATUSES)}")
    values = {name: int(counts.get(name, 0)) for name in COUNTERS}
    session.execute(
        update(CrawlRunRow)
        .where(CrawlRunRow.id == run_id)
        .values(status=status, finished_at=now, error_summary=error_summary[:4000], stats=stats or {}, **values)
    )


def get_run(session: Session, run_id: int) -> CrawlRun | None:
    row = session.get(CrawlRunRow, run_id)
    return _to_run(row) if row else None


def last_runs(session: Session) -> dict[str, CrawlRun]:
    """The latest run of every source that has one."""
    latest = (
        select(CrawlRunRow.source_id, func.max(CrawlRunRow.id).label("id")).group_by(CrawlRunRow.source_id).subquery()
    )
    rows = session.scalars(select(CrawlRunRow).join(latest, CrawlRunRow.id == latest.c.id))
    return {row.source_id: _to_run(row) for row in rows}


def recent_runs(session: Session, source_id: str, limit: int = 10, before: datetime | None = None) -> list[CrawlRun]:
    """This source's latest runs (started before ``before`` when given), newest first."""
    stmt = select(CrawlRunRow).where(CrawlRunRow.source_id == source_id)
    if before is not None:
        stmt = stmt.where(CrawlRunRow.started_at < before)
    rows = session.scalars(stmt.order_by(CrawlRunRow.id.desc()).limit(limit))
    return [_to_run(row) for row in rows]


def health_of(
    session: Session, source_id: str, fail_runs: int, empty_runs: int, before: datetime | None = None
) -> tuple[HealthStatus, list[CrawlRun]]:
    """A source's health (see ``storage.health``) and the runs it was judged on, newest first."""
    runs = recent_runs(session, source_id, HEALTH_RUNS, before)
    return source_health(runs, fail_runs, empty_runs), runs


def run_of_launch(session: Session, source_id: str, launched: datetime) -> CrawlRun | None:
    """The run written by the crawl process launched at ``launched``: the newest run of the source
    started since then (less a little slack for clock rounding)."""
    row = session.scalars(
        select(CrawlRunRow)
        .where(CrawlRunRow.source_id == source_id, CrawlRunRow.started_at >= launched - LAUNCH_SLACK)
        .order_by(CrawlRunRow.id.desc())
        .limit(1)
    ).first()
    return _to_run(row) if row else None


def close_after_process(
    session: Session, source_id: str, run: CrawlRun | None, launched: datetime, status: str, summary: str, now: datetime
) -> CrawlRun | None:
    """Make ``run`` (the run of a crawl process launched at ``launched``) end as ``status``
    (``timeout`` or ``failed``) with ``summary`` appended; a process that died before writing any
    row (``run`` is None) gets one."""
    values = {"status": status, "finished_at": now}
    if run is None:
        row = CrawlRunRow(source_id=source_id, started_at=launched, error_summary=summary, errors=1, **values)
        session.add(row)
        session.flush()
        return get_run(session, row.id)
    joined = "; ".join(filter(None, [run.error_summary, summary]))
    session.execute(update(CrawlRunRow).where(CrawlRunRow.id == run.id).values(error_summary=joined, **values))
    session.flush()
    return get_run(session, run.id)


def mark_abandoned(session: Session, older_than: datetime, now: datetime, source_id: str | None = None) -> int:
    """Runs still ``running`` that started before ``older_than`` (their process is gone) → failed.
    With ``source_id``: that source's runs only (called before its next crawl starts, when no
    other crawl of it can be running)."""
    where = [CrawlRunRow.status == "running", CrawlRunRow.started_at < older_than]
    if source_id is not None:
        where.append(CrawlRunRow.source_id == source_id)
    stmt = update(CrawlRunRow).where(*where).values(status="failed", finished_at=now, error_summary=ABANDONED)
    return int(cast(CursorResult[Any], session.execute(stmt)).rowcount or 0)


def window_runs(session: Session, start: datetime, end: datetime) -> dict[str, SourceRuns]:
    """Per source: its crawl runs that started in [start, end), with the last status and error."""
    stmt = (
        select(CrawlRunRow.source_id, CrawlRunRow.status, CrawlRunRow.items, CrawlRunRow.new, CrawlRunRow.error_summary)
        .where(CrawlRunRow.started_at >= start, CrawlRunRow.started_at < end)
        .order_by(CrawlRunRow.source_id, CrawlRunRow.id)
    )
    acc: dict[str, list[Any]] = {}
    for source, status, items, new, error in session.execute(stmt):
        runs = acc.setdefault(source, [0, 0, 0, 0, 0, "", ""])
        runs[0] += 1
        runs[1] += status in ("ok", "partial")
        runs[2] += status in FAILED
        runs[3] += items or 0
        runs[4] += new or 0
        runs[5] = status
        runs[6] = error or runs[6]
    return {source: SourceRuns(source, *values) for source, values in acc.items()}
