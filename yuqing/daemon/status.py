"""What ``yuqing status`` reports, read from the database only (works with or without a daemon):
the lease holder, the persisted jobs with next run times, each source's last runs and health,
pending and failed deliveries."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, inspect, select
from sqlalchemy.orm import Session

from alerts.deliveries import status_counts
from config import Config
from storage import leases as lease
from storage.jobruns import job_runs
from storage.models import DeliveryRow
from storage.runs import health_of
from yuqing.base.text import redact
from yuqing.daemon.faults import daemon_state
from yuqing.daemon.plan import plan_jobs

RUNS_SHOWN = 3
DELIVERIES_SHOWN = 10


@dataclass
class Status:
    """Everything ``yuqing status`` prints; ``--json`` prints it as is."""

    lease: dict[str, Any] | None
    jobs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    deliveries: dict[str, Any] = field(default_factory=dict)
    daemon: dict[str, Any] = field(default_factory=dict)
    """``state`` (running, degraded, not running), ``since``, ``kind``, ``free_bytes``, ``data_dir``"""
    timezone: str = "UTC"
    """the configured timezone: how the human-readable status shows times"""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else None


def scheduled_jobs(engine: Engine, table: str = "apscheduler_jobs") -> dict[str, float | None]:
    """Job id → next run time (a UNIX timestamp, ``None`` when paused) from APScheduler's table."""
    if not inspect(engine).has_table(table):
        return {}
    jobs_t = Table(table, MetaData(), Column("id", String), Column("next_run_time", Float))
    with engine.connect() as conn:
        return {row.id: row.next_run_time for row in conn.execute(select(jobs_t.c.id, jobs_t.c.next_run_time))}


def read_jobs(engine: Engine, config: Config, now: datetime, table: str = "apscheduler_jobs") -> list[dict[str, Any]]:
    """The jobs, soonest first: those persisted in APScheduler's table (ids and next run times only:
    the pickled job state is never unpickled here) and those of the current plan that have run, named
    from the plan, each with how it last ended."""
    scheduled = scheduled_jobs(engine, table)
    names = {spec.id: spec.name for spec in plan_jobs(config, str(config.dir), now)}
    last = job_runs(engine)
    jobs = []
    for job_id in sorted(set(scheduled) | (set(last) & set(names))):
        stamp = scheduled.get(job_id)
        next_run = datetime.fromtimestamp(stamp, timezone.utc) if stamp else None
        ran = last.get(job_id)
        jobs.append(
            {
                "id": job_id,
                "name": names.get(job_id, ""),
                "next_run": iso(next_run),
                "paused": job_id in scheduled and next_run is None,
                "scheduled": job_id in scheduled,
                "last_outcome": ran.outcome if ran else None,
                "last_run": iso(ran.finished_at) if ran else None,
                "failed": bool(ran and ran.failed),
                "error": ran.error[:300] if ran else "",
                "last_ok": iso(ran.last_ok_at) if ran and ran.last_ok_at else None,
            }
        )
    return sorted(jobs, key=lambda j: (j["next_run"] is None, j["next_run"] or "", j["id"]))


def source_rows(engine: Engine, config: Config) -> list[dict[str, Any]]:
    """Each configured source with its newest runs and health."""
    daemon = config.settings.daemon
    out = []
    with Session(engine) as session:
        for source in config.sources.sources:
            health, runs = health_of(session, source.id, daemon.fail_runs_alert, daemon.empty_runs_alert)
            out.append(
                {
                    "id": source.id,
                    "name": source.name,
                    "enabled": source.enabled,
                    "health": health.state,
                    "runs": [
                        {
                            "started_at": iso(r.started_at),
                            "status": r.status,
                            "items": r.items,
                            "new": r.new,
                            "errors": r.errors,
                            "error": r.error_summary[:160],
                            "warnings": list(r.warnings),
                        }
                        for r in runs[:RUNS_SHOWN]
                    ],
                }
            )
    return out


def delivery_summary(engine: Engine) -> dict[str, Any]:
    """Counts by status, the newest pending and failed deliveries, and the newest sent ones that
    carry a note (sent without an attachment that could not be built)."""
    with Session(engine) as session:
        counts = status_counts(session)
    with engine.connect() as conn:
        rows = list(
            conn.execute(
                select(DeliveryRow)
                .where(DeliveryRow.status.in_(["pending", "failed"]))
                .order_by(DeliveryRow.updated_at.desc())
                .limit(DELIVERIES_SHOWN)
            )
        )
        noted = list(
            conn.execute(
                select(DeliveryRow)
                .where(DeliveryRow.status == "sent", DeliveryRow.last_error != "")
                .order_by(DeliveryRow.updated_at.desc())
                .limit(DELIVERIES_SHOWN)
            )
        )
        cancelled = list(
            conn.execute(
                select(DeliveryRow)
                .where(DeliveryRow.status == "cancelled")
                .order_by(DeliveryRow.updated_at.desc())
                .limit(DELIVERIES_SHOWN)
            )
        )
    return {
        "counts": counts,
        "cancelled": [
            {"key": r.key, "recipient": r.recipient, "reason": redact(r.last_error)[:160], "at": iso(r.updated_at)}
            for r in cancelled
        ],
        "open": [
            {
                "key": r.key,
                "channel": r.channel,
                "recipient": r.recipient,
                "status": r.status,
                "attempts": r.attempts,
                "error": redact(r.last_error)[:160],
                "next_attempt_at": iso(r.next_attempt_at),
            }
            for r in rows
        ],
        "sent_with_problems": [
            {
                "key": r.key,
                "channel": r.channel,
                "recipient": r.recipient,
                "sent_at": iso(r.sent_at),
                "problem": redact(r.last_error)[:160],
            }
            for r in noted
        ],
    }


def collect_status(engine: Engine, config: Config, now: datetime) -> Status:
    """Gather the status at ``now`` (an expired lease shows as such; one that lapsed while its
    holder runs is a degraded daemon). Reads only: it works while the disk is full."""
    held = lease.holder(engine, "daemon")
    lease_info = None
    if held is not None:
        lease_info = {"owner": held.owner, "expires_at": iso(held.expires_at), "alive": held.expires_at > now}
    state = daemon_state(held.owner if held else None, held.expires_at if held else None, now, config.data_dir)
    state = {
        **state,
        "since": iso(state["since"]) if isinstance(state["since"], datetime) else None,
        "data_dir": str(config.data_dir),
    }
    return Status(
        lease_info,
        read_jobs(engine, config, now),
        source_rows(engine, config),
        delivery_summary(engine),
        state,
        config.settings.timezone,
    )
