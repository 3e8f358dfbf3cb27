"""What a running daemon shares with its job functions.

APScheduler's persistent job store keeps references to module-level functions and simple
arguments (the config directory, a source id), never live objects. A job function therefore finds
the daemon it runs in by its config directory in ``RUNTIMES``: the one deliberate piece of
process-wide state, registered by ``scheduler.Daemon`` and removed when it stops. Called outside a
daemon (tests, a manual run), a job builds a standalone runtime from the config directory.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from storage.context import AppContext
from yuqing.base.process import Children
from yuqing.daemon.metrics import Metrics


@dataclass
class Runtime:
    """The daemon's live context: the accepted config, database, children, metrics."""

    app: AppContext
    snapshot_dir: Path
    children: Children = field(default_factory=Children)
    metrics: Metrics = field(default_factory=Metrics)
    request_analysis: Callable[[], None] = lambda: None
    standalone: bool = False
    on_fault: Callable[[str, BaseException], None] = lambda where, exc: None
    """a failure of the daemon's machinery (e.g. a job outcome that could not be recorded)"""
    owe: Callable[[str, bool], None] = lambda job_id, owed: None
    """a digest job ended without its digest sent (True), or sent it (False)"""

    @classmethod
    def for_dir(cls, config_dir: str) -> Runtime:
        """A runtime of its own (no daemon): the caller closes it."""
        app = AppContext.create(config_dir)
        return cls(app=app, snapshot_dir=app.config_dir, standalone=True)

    def child_env(self) -> dict[str, str]:
        """The environment of a crawl: pins the data dir, which a snapshot could resolve elsewhere."""
        env = dict(os.environ)
        env["YUQING_DATA_DIR"] = str(self.app.config.data_dir)
        env.pop("YUQING_CONFIG_DIR", None)
        return env


RUNTIMES: dict[str, Runtime] = {}
_LOCK = threading.Lock()


def key(config_dir: str | os.PathLike[str]) -> str:
    return str(Path(config_dir).resolve())


def register(config_dir: str | os.PathLike[str], runtime: Runtime) -> None:
    with _LOCK:
        RUNTIMES[key(config_dir)] = runtime


def unregister(config_dir: str | os.PathLike[str]) -> None:
    with _LOCK:
        RUNTIMES.pop(key(config_dir), None)


@contextmanager
def runtime_for(config_dir: str) -> Iterator[Runtime]:
    """The registered daemon runtime for ``config_dir``, else a standalone one closed afterwards."""
    with _LOCK:
        found = RUNTIMES.get(key(config_dir))
    if found is not None:
        yield found
        return
    runtime = Runtime.for_dir(config_dir)
    try:
        yield runtime
    finally:
        runtime.app.close()
