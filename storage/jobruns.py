"""The last outcome of each daemon job, kept so that ``yuqing status`` shows a failed job (and
since when it has failed) without anyone reading the logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from storage.models import JobRunRow

OK_OUTCOMES = frozenset({"ok", "skipped"})


@dataclass(frozen=True)
class JobRun:
    """How a job last ended."""

    job_id: str
    kind: str
    outcome: str
    finished_at: datetime
    duration: float
    error: str
    last_ok_at: datetime | None

    @property
    def failed(self) -> bool:
        return self.outcome not in OK_OUTCOMES


def record_job_run(
    engine: Engine, job_id: str, kind: str, outcome: str, finished_at: datetime, duration: float, error: str = ""
) -> None:
    """Remember how ``job_id`` ended (one row per job, replaced on each run)."""
    ok = outcome in OK_OUTCOMES
    with Session(engine) as session, session.begin():
        row = session.get(JobRunRow, job_id)
        if row is None:
            row = JobRunRow(job_id=job_id, last_ok_at=None)
            session.add(row)
        row.kind, row.outcome, row.finished_at = kind, outcome, finished_at
        row.duration, row.error = round(duration, 3), ("" if ok else error[:1000])
        if ok:
            row.last_ok_at = finished_at


def job_runs(engine: Engine) -> dict[str, JobRun]:
    """Every job's last run, by job id."""
    with Session(engine) as session:
        rows = session.scalars(select(JobRunRow))
        return {
            r.job_id: JobRun(r.job_id, r.kind, r.outcome, r.finished_at, r.duration, r.error, r.last_ok_at)
            for r in rows
        }
