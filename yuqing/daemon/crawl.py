"""Crawls as subprocesses: launch ``yuqing crawl SOURCE`` in its own process group, kill it (the
whole group) when it overruns, and make sure ``crawl_runs`` says how it ended.

The collect stage records its own run in ``crawl_runs``; the daemon only fills the gaps: a run it
killed becomes ``timeout``, a run whose process died without finishing its row becomes ``failed``,
and a process that died before writing any row gets one.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from storage.models import CrawlRunRow

log = logging.getLogger(__name__)

def guarded(argv: list[str]) -> list[str]:
    """``argv`` wrapped so that it dies with this process (see ``child.py``)."""
    return [sys.executable, "-m", "yuqing.daemon.child", str(os.getpid()), "--", *argv]


@dataclass
class ProcessResult:
    """How a subprocess ended."""

    returncode: int | None
    timed_out: bool
    interrupted: bool
    duration: float
    output_tail: str = ""


@dataclass
class Children:
    """The subprocesses a daemon is running, so shutdown can terminate them all."""

    procs: set[subprocess.Popen[bytes]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self.lock:
            self.procs.add(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self.lock:
            self.procs.discard(proc)

    def terminate_all(self, grace: float) -> int:
        """SIGTERM every process group, SIGKILL what is left after ``grace`` seconds."""
        self.stopping.set()
        with self.lock:
            procs = list(self.procs)
        for proc in procs:
            kill_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                kill_group(proc, signal.SIGKILL)
        return len(procs)


def kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to the process group of ``proc`` (its own session)."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def tail(path: Path, limit: int = 600) -> str:
    """The last ``limit`` characters of a log file."""
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - limit * 4))
            return fh.read().decode("utf-8", "replace")[-limit:].strip()
    except OSError:
        return ""


def run_process(argv: list[str], timeout: float, grace: float, log_path: Path, children: Children,
                env: dict[str, str] | None = None) -> ProcessResult:
    """Run ``argv`` in a new session with output to ``log_path``; kill its group on timeout."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if children.stopping.is_set():
        return ProcessResult(None, False, True, 0.0, "not started: the daemon is shutting down")
    with log_path.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)
    children.add(proc)
    timed_out = False
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            kill_group(proc, signal.SIGKILL)
            proc.wait()
    finally:
        children.discard(proc)
    return ProcessResult(proc.returncode, timed_out, children.stopping.is_set() and not timed_out,
                         time.monotonic() - started, tail(log_path))


def run_row(engine: Engine, source_id: str, since: datetime) -> Any:
    """The newest crawl_runs row of ``source_id`` started at or after ``since``."""
    stmt = (select(CrawlRunRow).where(CrawlRunRow.source_id == source_id, CrawlRunRow.started_at >= since)
            .order_by(CrawlRunRow.id.desc()).limit(1))
    with engine.connect() as conn:
        return conn.execute(stmt).first()


def record_outcome(engine: Engine, source_id: str, launched: datetime, result: ProcessResult,
                   timeout: float, now: datetime) -> Any:
    """Make crawl_runs reflect how the subprocess ended; returns the (updated) row."""
    row = run_row(engine, source_id, launched - timedelta(seconds=2))
    status, summary = _verdict(result, timeout)
    if row is not None and row.status != "running" and not result.timed_out:
        return row
    if status is None:
        return row
    values = {"status": status, "finished_at": now}
    with engine.begin() as conn:
        if row is None:
            conn.execute(insert(CrawlRunRow).values(source_id=source_id, started_at=launched,
                                                    error_summary=summary, errors=1, **values))
        else:
            joined = "; ".join(filter(None, [row.error_summary, summary]))
            conn.execute(update(CrawlRunRow).where(CrawlRunRow.id == row.id)
                         .values(error_summary=joined, **values))
    return run_row(engine, source_id, launched - timedelta(seconds=2))


def _verdict(result: ProcessResult, timeout: float) -> tuple[str | None, str]:
    if result.timed_out:
        return "timeout", f"killed after {timeout:g} s (crawl.subprocess_timeout)"
    if result.returncode == 0:
        return None, ""
    if result.interrupted:
        return "failed", "interrupted: the daemon was shutting down"
    last = result.output_tail.splitlines()[-1] if result.output_tail else ""
    return "failed", f"crawl process exited with {result.returncode}: {last}"[:500]


def mark_abandoned(engine: Engine, older_than: datetime, now: datetime, source_id: str | None = None) -> int:
    """Runs still ``running`` that started before ``older_than`` (their process is gone) → failed.
    With ``source_id``: that source's runs only (called before its next crawl starts, when no
    other crawl of it can be running)."""
    where = [CrawlRunRow.status == "running", CrawlRunRow.started_at < older_than]
    if source_id is not None:
        where.append(CrawlRunRow.source_id == source_id)
    stmt = (update(CrawlRunRow).where(*where)
            .values(status="failed", finished_at=now,
                    error_summary="abandoned: the crawl process ended without finishing its run"))
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount


def utcnow() -> datetime:
    """The clock, read at job entry points only."""
    return datetime.now(timezone.utc)
