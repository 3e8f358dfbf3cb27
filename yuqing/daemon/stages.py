"""The stage functions the daemon runs, imported by name. A missing one is an ImportError when the
daemon starts (``yuqing run`` says so and exits), never a job that silently stops running.

- ``run_analysis(app, now)``                        analyse new and recent posts
- ``send_immediate_alerts(app, now)``               immediate alerts after an analysis run
- ``send_digests(app, now, group_id)``              the digest of one recipient group
- ``send_reports(app, kind, now, group_id)``        a group's weekly or monthly report
- ``retry_pending(app, now)``                       retry deliveries that failed
- ``send_admin_alert(app, subject, body, key, now)`` one message to the admins, once per ``key``

The crawl is not called in-process (Twisted's reactor cannot restart): ``crawlers.launch`` runs it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from alerts.reports import KINDS, send_reports
from alerts.service import retry_pending, send_digests, send_immediate_alerts
from alerts.service import send_admin_alert as deliver_admin_alert
from nlp.job import run_analysis
from storage.context import AppContext
from yuqing.base.clock import utcnow
from yuqing.base.errors import DigestError

__all__ = [
    "STAGE_JOBS",
    "JobResult",
    "as_counts",
    "prefixed",
    "retry_pending",
    "run_analysis",
    "send_admin_alert",
    "send_digests",
    "send_immediate_alerts",
    "send_reports",
]

log = logging.getLogger(__name__)

JobResult = tuple[str, dict[str, Any]]


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
        statuses = [st for st in (getattr(item, "status", None) for item in result) if isinstance(st, str)]
        if result and len(statuses) == len(result):
            return {st: statuses.count(st) for st in sorted(set(statuses))}  # e.g. deliveries
        return {"count": len(result)}
    if isinstance(result, (int, float)):
        return {"count": result}
    return {"result": str(result)[:200]}


def prefixed(prefix: str, result: Any) -> dict[str, Any]:
    """``as_counts(result)`` with each name prefixed, e.g. ``run_analysis.analyzed``."""
    return {f"{prefix}.{k}": v for k, v in as_counts(result).items()}


def send_admin_alert(app: AppContext, subject: str, body: str, key: str, now: datetime) -> dict[str, Any]:
    """Alert the admins once per ``key``; returns the delivery counts (empty when the key was sent
    already). Never raises: an alert about a problem must never become a second problem."""
    try:
        counts = as_counts(deliver_admin_alert(app, subject, body, key, now))
    except Exception as exc:  # noqa: BLE001 — see the docstring
        log.error("admin alert %s could not be sent: %s", key, exc)
        return {"error": str(exc)[:200]}
    if counts:
        log.warning("admin alert %s: %s (%s)", key, subject, ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def analyze_stages(app: AppContext, now: datetime) -> JobResult:
    """Analyse new posts, then send immediate alerts for what the analysis found."""
    counts = prefixed("run_analysis", run_analysis(app, now))
    counts.update(prefixed("immediate", send_immediate_alerts(app, utcnow())))
    return "ok", counts


def delivery_outcome(prefix: str, results: list[Any]) -> JobResult:
    """``ok`` when every delivery was sent; ``failed`` (a warning, kept for ``yuqing status``) when
    some failed, with how many and the first error (they are retried with backoff)."""
    counts = prefixed(prefix, results)
    failed = [r for r in results if getattr(r, "status", "") == "failed"]
    if not failed:
        return "ok", counts
    first = getattr(failed[0], "error", "") or "-"
    counts["error"] = (
        f"{len(failed)} of {len(results)} deliveries failed (retried with backoff, see "
        f"`yuqing deliveries list --failed`): {first}"
    )[:300]
    return "failed", counts


def digest_stages(app: AppContext, now: datetime, group_id: str) -> JobResult:
    """Send one recipient group's digest (exactly once per group and day: the delivery key)."""
    group = next((g for g in app.config.alerts.groups if g.id == group_id), None)
    if group is None or not group.enabled:
        return "skipped", {"reason": "group removed or disabled"}
    try:
        return delivery_outcome("digests", send_digests(app, now, group_id))
    except DigestError as exc:
        counts = prefixed("digests", exc.results)
        return "failed", {**counts, "error": "; ".join(exc.failed.values())[:300]}


def report_stages(app: AppContext, now: datetime, kind: str, group_id: str) -> JobResult:
    """Send one group's weekly or monthly report for the period that just ended (once: the key)."""
    group = next((g for g in app.config.alerts.groups if g.id == group_id), None)
    if group is None or not group.enabled or kind not in KINDS:
        return "skipped", {"reason": "group removed or disabled"}
    sent = send_reports(app, "week" if kind == "week" else "month", now, group_id)
    if sent.prior:
        return "ok", {"already_sent": len(sent.prior[group_id])}
    return delivery_outcome("reports", sent.results)


def retry_stages(app: AppContext, now: datetime) -> JobResult:
    """Retry deliveries that failed and are due again."""
    return delivery_outcome("retry_pending", retry_pending(app, now))


STAGE_JOBS: dict[str, Callable[..., JobResult]] = {
    "analyze": analyze_stages,
    "digest": digest_stages,
    "report": report_stages,
    "retry": retry_stages,
}
