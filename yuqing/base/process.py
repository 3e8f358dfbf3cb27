"""Supervised subprocesses: each runs in a session of its own with its output in a log file, is
killed with its whole process group when it overruns, and dies with the process that started it
(``guarded``). The crawl supervisor (``crawlers.launch``) and the daemon's stage jobs both use it.

Every Python child is started with ``-P`` (no current directory on ``sys.path``), so a ``config/``
or ``storage/`` folder in the directory the service was started from can never shadow yuqing's own
packages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def python_module(module: str, *args: str) -> list[str]:
    """The command that runs ``python -m module args…`` in this interpreter, safe from the cwd."""
    return [sys.executable, "-P", "-m", module, *args]


def guarded(argv: list[str]) -> list[str]:
    """``argv`` wrapped so that it dies with this process (see ``yuqing.base.child``)."""
    return python_module("yuqing.base.child", str(os.getpid()), "--", *argv)


@dataclass
class ProcessResult:
    """How a subprocess ended: ``returncode`` is ``None`` when it was never started."""

    returncode: int | None
    timed_out: bool
    interrupted: bool
    duration: float
    output_tail: str = ""


@dataclass
class Children:
    """The subprocesses a process is running, so shutdown can terminate them all."""

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


def run_process(
    argv: list[str], timeout: float, grace: float, log_path: Path, children: Children, env: dict[str, str] | None = None
) -> ProcessResult:
    """Run ``argv`` in a new session with output to ``log_path``; kill its group on timeout."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if children.stopping.is_set():
        return ProcessResult(None, False, True, 0.0, "not started: shutting down")
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=env
        )
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
    return ProcessResult(
        proc.returncode,
        timed_out,
        children.stopping.is_set() and not timed_out,
        time.monotonic() - started,
        tail(log_path),
    )
