"""APScheduler's machinery made to survive faults: the scheduler loop and the job store report
what fails (a full disk, a lost database) to the daemon instead of dying silently."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING

FaultHandler = Callable[[str, BaseException], None]


def _ignore_fault(_where: str, _exc: BaseException) -> None:
    return None


class DaemonScheduler(BackgroundScheduler):
    """APScheduler's background scheduler, except that it submits nothing once shutting down (its
    own loop may otherwise wake during ``shutdown()`` and submit to the closed executor), and that
    no exception of its own machinery (the job store on a full disk, a lost database) ever ends its
    thread: it is reported to ``on_fault`` and the loop tries again after ``retry_seconds``."""

    on_fault: FaultHandler = staticmethod(_ignore_fault)
    retry_seconds: float = 5.0

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        try:
            return super()._process_jobs()
        except Exception as exc:  # noqa: BLE001 - see the class docstring
            self.on_fault("scheduler", exc)
            return self.retry_seconds


class GuardedJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store, reporting every failure to ``on_fault`` (then raising
    as before): APScheduler itself only logs some of them and dies of others."""

    on_fault: FaultHandler = staticmethod(_ignore_fault)

    def _guard(self, name: str, *args: Any) -> Any:
        try:
            return getattr(super(), name)(*args)
        except (JobLookupError, ConflictingIdError):
            raise  # answers, not faults (reconcile replaces a conflicting job)
        except Exception as exc:
            self.on_fault("jobstore", exc)
            raise

    def get_due_jobs(self, now: datetime) -> Any:
        return self._guard("get_due_jobs", now)

    def get_next_run_time(self) -> Any:
        return self._guard("get_next_run_time")

    def get_all_jobs(self) -> Any:
        return self._guard("get_all_jobs")

    def lookup_job(self, job_id: str) -> Any:
        return self._guard("lookup_job", job_id)

    def add_job(self, job: Any) -> None:
        self._guard("add_job", job)

    def update_job(self, job: Any) -> None:
        self._guard("update_job", job)

    def remove_job(self, job_id: str) -> None:
        self._guard("remove_job", job_id)
