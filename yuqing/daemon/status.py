"""What ``yuqing status`` reports, read from the database only (works with or without a daemon):
the lease holder, the persisted jobs with next run times, each source's last runs and health,
pending and failed deliveries."""

from __future__ import annotations

import pickle
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, func, inspect, select

from config import Config
from storage.models import CrawlRunRow, DeliveryRow
from yuqing.daemon import lease
from yuqing.daemon.health import source_health

RUNS_SHOWN = 3
DELIVERIES_SHOWN = 10


@dataclass
class Status:
    """Everything ``yuqing status`` prints; ``--json`` prints it as is."""

    lease: dict[str, Any] | None
    jobs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    deliveries: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else None


def read_jobs(engine: Engine, table: str = "apscheduler_jobs") -> list[dict[str, Any]]:
    """The persisted jobs, soonest first, read straight from APScheduler's table."""
    if not inspect(engine).has_table(table):
        return []
    from sqlalchemy import Table, MetaData

    jobs_t = Table(table, MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        rows = list(conn.execute(select(jobs_t.c.id, jobs_t.c.next_run_time, jobs_t.c.job_state)))
    jobs = []
    for row in rows:
        state = pickle.loads(row.job_state)  # our own rows, written by our daemon
        next_run = datetime.fromtimestamp(row.next_run_time, timezone.utc) if row.next_run_time else None
        jobs.append({"id": row.id, "name": state.get("name", ""), "next_run": iso(next_run),
                     "paused": next_run is None})
    return sorted(jobs, key=lambda j: (j["next_run"] is None, j["next_run"] or ""))


def source_rows(engine: Engine, config: Config) -> list[dict[str, Any]]:
    """Each configured source with its newest runs and health."""
    daemon = config.settings.daemon
    out = []
    with engine.connect() as conn:
        for source in config.sources.sources:
            runs = list(conn.execute(select(CrawlRunRow).where(CrawlRunRow.source_id == source.id)
                                     .order_by(CrawlRunRow.started_at.desc(), CrawlRunRow.id.desc()).limit(40)))
            health = source_health(runs, daemon.fail_runs_alert, daemon.empty_runs_alert)
            out.append({
                "id": source.id, "name": source.name, "enabled": source.enabled, "health": health.state,
                "runs": [{"started_at": iso(r.started_at), "status": r.status, "items": r.items, "new": r.new,
                          "errors": r.errors, "error": r.error_summary[:160]} for r in runs[:RUNS_SHOWN]],
            })
    return out


def delivery_summary(engine: Engine) -> dict[str, Any]:
    """Counts by status, and the newest pending and failed deliveries."""
    with engine.connect() as conn:
        counts = dict(conn.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)).all())
        rows = list(conn.execute(select(DeliveryRow).where(DeliveryRow.status.in_(["pending", "failed"]))
                                 .order_by(DeliveryRow.updated_at.desc()).limit(DELIVERIES_SHOWN)))
    return {"counts": counts, "open": [
        {"key": r.key, "channel": r.channel, "recipient": r.recipient, "status": r.status,
         "attempts": r.attempts, "error": r.last_error[:160], "next_attempt_at": iso(r.next_attempt_at)}
        for r in rows]}


def collect_status(engine: Engine, config: Config, now: datetime) -> Status:
    """Gather the status at ``now`` (an expired lease shows as such)."""
    held = lease.holder(engine, "daemon")
    lease_info = None
    if held is not None:
        lease_info = {"owner": held.owner, "expires_at": iso(held.expires_at), "alive": held.expires_at > now}
    return Status(lease_info, read_jobs(engine), source_rows(engine, config), delivery_summary(engine))
