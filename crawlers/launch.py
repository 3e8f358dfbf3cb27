"""Start crawls as subprocesses (one per source: Twisted's reactor cannot restart) and collect
their summaries. The daemon calls :func:`crawl_source` too."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from config import Config
from storage.db import make_engine, session_factory
from storage.runs import close_stale_runs

logger = logging.getLogger(__name__)
SUMMARY_PREFIX = "YUQING-CRAWL "  # the last stdout line of ``python -m crawlers.run``


def crawl_command(config: Config, source_id: str, max_pages: int | None = None,
                  now: str | None = None, extra: Sequence[str] = ()) -> list[str]:
    """The command line of one crawl subprocess."""
    cmd = [sys.executable, "-m", "crawlers.run", source_id, "--config", str(config.dir)]
    if max_pages:
        cmd += ["--max-pages", str(max_pages)]
    if now:
        cmd += ["--now", now]
    for setting in extra:
        cmd += ["--set", setting]
    return cmd


def _failed(source_id: str, message: str) -> dict[str, Any]:
    return {"source": source_id, "run_id": None, "status": "failed", "pages": 0, "items": 0, "new": 0,
            "duplicate": 0, "dropped": 0, "errors": 1, "error": message}


def _close_stale(config: Config, source_id: str, status: str, reason: str) -> None:
    engine = make_engine(config.database_url)
    try:
        with session_factory(engine).begin() as session:
            close_stale_runs(session, source_id, status, datetime.now(timezone.utc), reason)
    finally:
        engine.dispose()


def crawl_source(config: Config, source_id: str, max_pages: int | None = None, now: str | None = None,
                 timeout: float | None = None, extra: Sequence[str] = ()) -> dict[str, Any]:
    """Crawl one source in a subprocess and return its summary (status, counts, ``error``).
    A crash or timeout is recorded in crawl_runs (failed / timeout); it never raises for that."""
    timeout = timeout or config.settings.crawl.subprocess_timeout
    cmd = crawl_command(config, source_id, max_pages, now, extra)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        _close_stale(config, source_id, "timeout", f"crawl killed after {timeout:.0f} s")
        return {**_failed(source_id, f"timed out after {timeout:.0f} s"), "status": "timeout"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(SUMMARY_PREFIX):
            summary: dict[str, Any] = json.loads(line[len(SUMMARY_PREFIX):])
            return summary
    tail = [line for line in done.stderr.splitlines() if line.strip()][-3:]
    message = " | ".join(tail) or f"exit status {done.returncode}"
    if done.returncode != 2:  # 2: refused before starting, nothing to close
        _close_stale(config, source_id, "failed", f"crawl process died: {message}")
    logger.warning("crawl of %s failed: %s", source_id, message)
    return _failed(source_id, message)
