"""The daemon's job functions. APScheduler's job store keeps references to these module-level
functions and their simple arguments (the config directory and an id), so they survive restarts.

Each job logs exactly one line when it ends: ``job=KIND target=ID outcome=… duration=…s`` followed
by its counts; in JSON log format the same fields are JSON keys.
"""

from __future__ import annotations

import errno
import functools
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from crawlers.launch import crawl_source
from storage import runs
from storage.health import HealthStatus
from storage.jobruns import OK_OUTCOMES, record_job_run
from storage.models import AnalysisRow, CrawlRunRow, EventRow, PostRow
from yuqing.base.clock import utcnow
from yuqing.base.process import guarded, python_module, run_process
from yuqing.daemon import isolated, stages
from yuqing.daemon.runtime import Runtime, runtime_for
from yuqing.daemon.stages import JobResult

log = logging.getLogger(__name__)

ALERTING_JOBS = frozenset({"analyze", "digest", "report", "retry", "retention"})
RETENTION_BATCH = 1000


def format_counts(counts: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in counts.items())


STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


def is_storage_fault(exc: BaseException) -> bool:
    """A job failed because nothing can be written (disk full, read-only data dir or database):
    not the job's fault but the daemon's, which then pauses until it can write again."""
    if isinstance(exc, OSError):
        return exc.errno in STORAGE_ERRNOS
    return isinstance(exc, OperationalError)


def logged(kind: str) -> Callable[[Callable[..., JobResult]], Callable[..., None]]:
    """Wrap ``func(runtime, now, *args) -> (outcome, counts)`` as a job: one log line, metrics, the
    outcome kept for ``yuqing status``, and an admin alert (once a day) when a stage job failed."""

    def decorate(func: Callable[..., JobResult]) -> Callable[..., None]:
        @functools.wraps(func)
        def job(config_dir: str, *args: Any) -> None:
            target = ",".join(str(a) for a in args) or "-"
            started = time.monotonic()
            with runtime_for(config_dir) as runtime:
                try:
                    outcome, counts = func(runtime, utcnow(), *args)
                except Exception as exc:
                    outcome, counts = "error", {"error": f"{type(exc).__name__}: {exc}"[:300]}
                    log.exception("job=%s target=%s raised", kind, target)
                    if is_storage_fault(exc):
                        runtime.on_fault(f"job {kind}", exc)
                seconds = time.monotonic() - started
                runtime.metrics.job(kind, outcome, seconds, time.time())
                remember(runtime, kind, ":".join((kind, *map(str, args))), outcome, seconds, counts)
            level = logging.INFO if outcome in OK_OUTCOMES else logging.WARNING
            log.log(
                level,
                "job=%s target=%s outcome=%s duration=%.1fs %s",
                kind,
                target,
                outcome,
                seconds,
                format_counts(counts),
                extra={
                    "job": kind,
                    "target": target,
                    "outcome": outcome,
                    "duration": round(seconds, 3),
                    "counts": counts,
                },
            )

        del job.__wrapped__  # APScheduler checks arguments against (config_dir, *args), not func's
        return job

    return decorate


def remember(runtime: Runtime, kind: str, job_id: str, outcome: str, seconds: float, counts: dict[str, Any]) -> None:
    """Keep the outcome for ``yuqing status``; tell the admins (once per job and day) when a stage job
    failed. A crawl's failures reach them through the source-health check instead."""
    now = utcnow()
    error = str(counts.get("error", ""))
    if kind == "digest":
        runtime.owe(job_id, outcome not in OK_OUTCOMES and outcome != "interrupted")
    try:
        record_job_run(runtime.app.engine, job_id, kind, outcome, now, seconds, error)
    except SQLAlchemyError as exc:
        log.error("job=%s outcome could not be recorded: %s", job_id, exc)
        runtime.on_fault("jobruns", exc)
    if outcome in OK_OUTCOMES or outcome == "interrupted" or kind not in ALERTING_JOBS:
        return
    day = now.astimezone(ZoneInfo(runtime.app.config.settings.timezone)).date().isoformat()
    body = (
        f"任务：{job_id}\n结果：{outcome}\n错误：{error or '-'}\n\n"
        "其他单位的日报和其他任务照常运行。请查看日志并执行 `yuqing status`。"
    )
    stages.send_admin_alert(runtime.app, f"【舆情监测】任务失败：{job_id}", body, f"admin:job:{job_id}:{day}", now)


@logged("crawl")
def crawl_job(runtime: Runtime, now: datetime, source_id: str) -> JobResult:
    """Crawl one source in a subprocess with a timeout; analysis follows when it stored posts."""
    config = runtime.app.config
    source = config.sources.get(source_id)
    if source is None or not source.enabled:
        return "skipped", {"reason": "source removed or disabled"}
    outcome = crawl_source(
        config,
        source_id,
        config_dir=runtime.snapshot_dir,
        children=runtime.children,
        log_path=config.logs_dir / f"crawl-{source_id}.log",
        env=runtime.child_env(),
    )
    row = outcome.run
    if row is None:
        return "skipped", {"reason": outcome.process.output_tail}
    runtime.metrics.crawl(source_id, row.status, row.new)
    if row.new:
        runtime.request_analysis()
    counts: dict[str, Any] = {
        "status": row.status,
        "exit": outcome.process.returncode,
        "pages": row.pages,
        "items": row.items,
        "new": row.new,
        "duplicate": row.duplicate,
        "errors": row.errors,
    }
    if row.error_summary and row.status not in ("ok",):
        counts["error"] = row.error_summary[:200]
    return ("ok" if row.status in ("ok", "partial") else row.status), counts


def run_stage_job(runtime: Runtime, now: datetime, kind: str, *args: str) -> JobResult:
    """A stage job in a process of its own (``daemon.stage_processes``), else in this one."""
    daemon = runtime.app.config.settings.daemon
    if not daemon.stage_processes:
        return stages.STAGE_JOBS[kind](runtime.app, now, *args)
    argv = guarded(python_module("yuqing.daemon.isolated", kind, str(runtime.snapshot_dir), *args))
    log_path = runtime.app.config.logs_dir / f"{kind}.log"
    result = run_process(
        argv,
        float(daemon.seconds("stage_timeout")),
        float(daemon.seconds("crawl_kill_grace")),
        log_path,
        runtime.children,
        env=runtime.child_env(),
    )
    if result.returncode is None:
        return "skipped", {"reason": result.output_tail}
    if result.timed_out:
        return "timeout", {"error": f"killed after {daemon.stage_timeout} (daemon.stage_timeout)"}
    if result.interrupted:
        return "interrupted", {"reason": "the daemon is shutting down"}
    summary = isolated.read_summary(log_path)
    if summary is None:
        last = result.output_tail.splitlines()[-1] if result.output_tail else ""
        return "error", {"exit": result.returncode, "error": last[:300]}
    return summary


@logged("analyze")
def analyze_job(runtime: Runtime, now: datetime) -> JobResult:
    """Analyse new posts, then send immediate alerts."""
    return run_stage_job(runtime, now, "analyze")


@logged("digest")
def digest_job(runtime: Runtime, now: datetime, group_id: str) -> JobResult:
    """Send one recipient group's digest."""
    return run_stage_job(runtime, now, "digest", group_id)


@logged("report")
def report_job(runtime: Runtime, now: datetime, kind: str, group_id: str) -> JobResult:
    """Send one recipient group's weekly or monthly report (``kind``: week or month)."""
    return run_stage_job(runtime, now, "report", kind, group_id)


@logged("retry")
def retry_job(runtime: Runtime, now: datetime) -> JobResult:
    """Retry deliveries that failed and are due again."""
    return run_stage_job(runtime, now, "retry")


def health_message(name: str, source_id: str, status: HealthStatus) -> tuple[str, str]:
    """Subject and body (Chinese: admins read it) of a source-health alert."""
    subject = f"【舆情监测】采集源异常：{name}（{status.label_zh}）"
    lines = [
        f"采集源：{name}（{source_id}）",
        f"状态：{status.label_zh}",
        f"连续失败次数：{status.failures_in_row}",
        f"连续无新内容次数：{status.empty_in_row}",
        f"以往平均每次新增：{status.usual_new}",
        f"最近一次成功：{status.last_ok_at.isoformat() if status.last_ok_at else '无'}",
    ]
    if status.last_error:
        lines.append(f"最近错误：{status.last_error[:500]}")
    lines.append(f"请检查该源（yuqing crawl {source_id} --max-pages 1），或在 sources.yaml 中暂停它。")
    return subject, "\n".join(lines)


@logged("health")
def health_job(runtime: Runtime, now: datetime) -> JobResult:
    """Evaluate every enabled source; alert the admins once per source and day when unhealthy."""
    config = runtime.app.config
    settings = config.settings
    with runtime.app.sessions.begin() as session:
        abandoned = runs.mark_abandoned(session, now - timedelta(seconds=settings.stale_run_seconds), now)
    day = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    counts = {"sources": 0, "failing": 0, "empty": 0, "alerted": 0, "abandoned": abandoned}
    for source in (s for s in config.sources.sources if s.enabled):
        counts["sources"] += 1
        with runtime.app.sessions() as session:
            status, _ = runs.health_of(
                session, source.id, settings.daemon.fail_runs_alert, settings.daemon.empty_runs_alert
            )
        if status.alert:
            counts[status.state] += 1
            subject, body = health_message(source.name, source.id, status)
            sent = stages.send_admin_alert(runtime.app, subject, body, f"admin:health:{source.id}:{day}", now)
            counts["alerted"] += int(bool(sent) and "error" not in sent)
    return "ok", counts


@logged("retention")
def retention_job(runtime: Runtime, now: datetime) -> JobResult:
    """Delete posts (and their analyses) collected more than ``daemon.retention_days`` ago."""
    cutoff = now - timedelta(days=runtime.app.config.settings.daemon.retention_days)
    engine = runtime.app.engine
    deleted = 0
    while True:
        with engine.begin() as conn:
            ids = list(conn.scalars(select(PostRow.id).where(PostRow.fetched_at < cutoff).limit(RETENTION_BATCH)))
            if not ids:
                break
            conn.execute(delete(PostRow).where(PostRow.id.in_(ids)))
        deleted += len(ids)
    orphan = ~exists().where(AnalysisRow.event_id == EventRow.id)
    with engine.begin() as conn:
        events = conn.execute(delete(EventRow).where(EventRow.last_seen < cutoff, orphan)).rowcount
        runs = conn.execute(delete(CrawlRunRow).where(CrawlRunRow.started_at < cutoff)).rowcount
    return "ok", {"posts": deleted, "events": events, "crawl_runs": runs, "cutoff": cutoff.date().isoformat()}
