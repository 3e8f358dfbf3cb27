"""The one adapter between the daemon and the stages it runs.

The collect, analyse and alert stages are separate packages; the daemon calls them only through this
module, which imports each stage function by name when first called. A stage that is not installed
yet gives a ``StageOutcome`` with ``installed=False`` instead of an ImportError, so the daemon runs
(and says what is missing) whatever subset of stages is present.

Entry points called in-process (all take the AppContext and ``now``, a tz-aware UTC datetime):

- ``run_analysis(app, now)``                       analyse new and recent posts
- ``send_immediate_alerts(app, now)``              immediate alerts after an analysis run
- ``send_digests(app, now, group_id)``             the digest of one recipient group
- ``retry_pending(app, now)``                      retry deliveries that failed
- ``send_admin_alert(app, subject, body, key, now)`` one message to the admins, once per ``key``

The crawl is not called in-process (Twisted's reactor cannot restart): ``crawl_argv`` gives the
command of one crawl subprocess, ``python -m crawlers.run SOURCE --config DIR`` (the process that
crawls, so a kill reaches it directly), else ``yuqing crawl SOURCE``; ``crawl.py`` runs it.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# function name → modules that may define it, tried in order (the first one found wins).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "run_analysis": ("nlp.job", "nlp.jobs", "nlp.pipeline", "nlp.analyze", "nlp"),
    "send_immediate_alerts": ("alerts.jobs", "alerts.immediate", "alerts.service", "alerts"),
    "send_digests": ("alerts.jobs", "alerts.digest", "alerts.service", "alerts"),
    "retry_pending": ("alerts.jobs", "alerts.deliveries", "alerts.outbox", "alerts.service", "alerts"),
    "send_admin_alert": ("alerts.jobs", "alerts.admin", "alerts.service", "alerts"),
}


@dataclass(frozen=True)
class StageOutcome:
    """What a stage call did: ``counts`` for the log line, or why it did not run."""

    name: str
    installed: bool = True
    counts: dict[str, Any] = field(default_factory=dict)
    detail: str = ""

    @property
    def outcome(self) -> str:
        return "ok" if self.installed else "not-installed"


def find_stage(name: str) -> Callable[..., Any] | None:
    """The stage function ``name``, or ``None`` when no candidate module defines it."""
    for module_name in CANDIDATES[name]:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                continue  # the module itself is absent; an import error inside it is a real bug
            raise
        func = getattr(module, name, None)
        if callable(func):
            return func  # type: ignore[no-any-return]
    return None


def call_stage(name: str, *args: Any) -> StageOutcome:
    """Call stage function ``name`` with ``args``; errors inside the stage propagate."""
    func = find_stage(name)
    if func is None:
        return StageOutcome(name, installed=False,
                            detail=f"stage not installed yet: no {name}() in {', '.join(CANDIDATES[name])}")
    return StageOutcome(name, counts=as_counts(func(*args)))


def as_counts(result: Any) -> dict[str, Any]:
    """A stage's return value as flat ``{name: number-or-text}`` for the log line and metrics."""
    if result is None:
        return {}
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    elif hasattr(result, "_asdict"):
        result = result._asdict()
    if isinstance(result, dict):
        return {str(k): v for k, v in result.items() if isinstance(v, (int, float, str, bool))}
    if isinstance(result, (list, tuple, set)):
        statuses = [getattr(item, "status", None) for item in result]
        if result and all(isinstance(st, str) for st in statuses):
            return {st: statuses.count(st) for st in sorted(set(statuses))}  # e.g. deliveries
        return {"count": len(result)}
    if isinstance(result, (int, float)):
        return {"count": result}
    return {"result": str(result)[:200]}


CRAWL_MODULE = "crawlers.run"
CLI_BOOT = "from yuqing.cli import main; main()"


def crawl_argv(config_dir: Path, source_id: str) -> list[str] | None:
    """The command that crawls one source, run by this interpreter; ``None`` before collect lands."""
    try:
        found = importlib.util.find_spec(CRAWL_MODULE) is not None
    except ModuleNotFoundError:
        found = False
    if found:
        return [sys.executable, "-m", CRAWL_MODULE, source_id, "--config", str(config_dir)]
    from yuqing.cli import LAZY_COMMANDS

    if "crawl" in LAZY_COMMANDS:
        return [sys.executable, "-c", CLI_BOOT, "--config", str(config_dir), "crawl", source_id]
    return None


def send_admin_alert(app: Any, subject: str, body: str, key: str, now: Any) -> StageOutcome:
    """Alert the admins once per ``key`` (the alert stage skips a key already recorded: empty counts)."""
    try:
        outcome = call_stage("send_admin_alert", app, subject, body, key, now)
    except Exception as exc:  # an alert about a problem must never become a second problem
        log.error("admin alert %s could not be sent: %s", key, exc)
        return StageOutcome("send_admin_alert", counts={"error": str(exc)[:200]})
    if not outcome.installed:
        log.warning("admin alert %s not sent (%s): %s", key, outcome.detail, subject)
    elif outcome.counts:
        log.warning("admin alert %s: %s (%s)", key, subject, ", ".join(f"{k}={v}" for k, v in outcome.counts.items()))
    return outcome
