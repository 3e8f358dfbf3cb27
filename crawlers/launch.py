"""The one crawl supervisor: a crawl runs as ``python -P -m crawlers.run SOURCE`` (Twisted's reactor
cannot restart, so one process per crawl) in a session of its own, is killed with its process group
when it overruns, dies with the process that started it, and leaves ``crawl_runs`` saying how it
ended. ``yuqing crawl``, the demo and the daemon all crawl through :func:`crawl_source`.

The crawl records its own run; the supervisor only fills the gaps: a run it killed becomes
``timeout``, a run whose process died without finishing its row becomes ``failed``, and a process
that died before writing any row gets one.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from config import Config
from storage.db import make_engine, session_factory
from storage.runs import CrawlRun, close_after_process, get_run, run_of_launch
from yuqing.base.clock import utcnow
from yuqing.base.process import Children, ProcessResult, guarded, python_module, run_process, tail

logger = logging.getLogger(__name__)
SUMMARY_PREFIX = "YUQING-CRAWL "  # the last stdout line of ``python -m crawlers.run``
ALREADY_RUNNING = 3  # exit status of ``python -m crawlers.run`` when the source is being crawled already
COUNTS = ("pages", "items", "new", "duplicate", "dropped", "errors")


@dataclass(frozen=True)
class CrawlOutcome:
    """How one crawl ended: the process, and its ``crawl_runs`` row (``None`` only when the crawl
    was never started, e.g. during shutdown)."""

    source_id: str
    process: ProcessResult
    run: CrawlRun | None

    @property
    def status(self) -> str:
        if self.run is not None:
            return self.run.status
        return "already-running" if self.process.returncode == ALREADY_RUNNING else "skipped"

    def summary(self) -> dict[str, Any]:
        """The run as ``yuqing crawl`` prints it: status, counts and the error summary."""
        run = self.run
        counts = {name: getattr(run, name) if run else 0 for name in COUNTS}
        out: dict[str, Any] = {
            "source": self.source_id,
            "run_id": run.id if run else None,
            "status": self.status,
            **counts,
        }
        if run is None:
            out["error"] = self.process.output_tail or "not started"
        elif run.status != "ok" and run.error_summary:
            out["error"] = run.error_summary
        if run is not None and run.warnings:
            out["warnings"] = list(run.warnings)
        return out


def crawl_command(
    config_dir: Path, source_id: str, max_pages: int | None = None, now: str | None = None, extra: Sequence[str] = ()
) -> list[str]:
    """The command line of one crawl subprocess (``-P``: the working directory cannot shadow yuqing)."""
    cmd = python_module("crawlers.run", source_id, "--config", str(config_dir))
    if max_pages:
        cmd += ["--max-pages", str(max_pages)]
    if now:
        cmd += ["--now", now]
    for setting in extra:
        cmd += ["--set", setting]
    return cmd


def verdict(result: ProcessResult, timeout: float) -> tuple[str | None, str]:
    """What the supervisor must record of a finished process: (status, reason), or (None, "")."""
    if result.timed_out:
        return "timeout", f"killed after {timeout:g} s (crawl.subprocess_timeout)"
    if result.returncode in (0, ALREADY_RUNNING):  # done, or never started: the other crawl owns the rows
        return None, ""
    if result.interrupted:
        return "failed", "interrupted: the daemon was shutting down"
    lines = [line for line in result.output_tail.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return "failed", f"crawl process exited with {result.returncode}: {last}"[:500]


def crawl_source(
    config: Config,
    source_id: str,
    *,
    config_dir: Path | None = None,
    max_pages: int | None = None,
    now: str | None = None,
    timeout: float | None = None,
    extra: Sequence[str] = (),
    children: Children | None = None,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
) -> CrawlOutcome:
    """Crawl one source in a supervised subprocess and return how it ended. A crash or timeout is
    recorded in crawl_runs (failed / timeout); it never raises for that."""
    timeout = float(timeout or config.settings.crawl.subprocess_timeout)
    grace = float(config.settings.daemon.seconds("crawl_kill_grace"))
    command = crawl_command(config_dir or config.dir, source_id, max_pages, now, extra)
    with ExitStack() as stack:
        if log_path is None:  # a log of its own: crawls of one source may run side by side
            log_path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="yuqing-crawl-"))) / "crawl.log"
        launched = utcnow()
        result = run_process(
            guarded(command), timeout, grace, log_path, children or Children(), dict(env) if env is not None else None
        )
        run_id = summary_run_id(tail(log_path, 8000))
    if result.returncode is None:
        return CrawlOutcome(source_id, result, None)
    engine = make_engine(config.database_url)
    try:
        with session_factory(engine).begin() as session:
            run = record_end(session, source_id, launched, result, timeout, utcnow(), run_id)
    finally:
        engine.dispose()
    return CrawlOutcome(source_id, result, run)


def summary_run_id(output: str) -> int | None:
    """The run id in the crawl's summary line (its last stdout line), if it got that far."""
    for line in reversed(output.splitlines()):
        if line.startswith(SUMMARY_PREFIX):
            run_id = json.loads(line[len(SUMMARY_PREFIX) :]).get("run_id")
            return int(run_id) if run_id is not None else None
    return None


def record_end(
    session: Session,
    source_id: str,
    launched: datetime,
    result: ProcessResult,
    timeout: float,
    now: datetime,
    run_id: int | None = None,
) -> CrawlRun | None:
    """Make crawl_runs reflect how the process launched at ``launched`` ended; returns its run (the
    one its summary named, else the newest since the launch). A run the crawl finished itself is
    left alone, unless the process was killed for overrunning."""
    if result.returncode == ALREADY_RUNNING:
        return None
    run = get_run(session, run_id) if run_id is not None else run_of_launch(session, source_id, launched)
    status, reason = verdict(result, timeout)
    if status is None or (run is not None and run.status != "running" and not result.timed_out):
        return run
    logger.warning("crawl of %s: %s", source_id, reason)
    return close_after_process(session, source_id, run, launched, status, reason, now)
