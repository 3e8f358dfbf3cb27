"""The yuqing daemon (``yuqing run``): APScheduler jobs from config, a persistent job store in the
project's database, crawls in subprocesses, hot reload, graceful shutdown, a single-instance lease.

Main loop (the main thread): renew or acquire the lease, notice config edits (polling a content
fingerprint; SIGHUP forces a check), sleep. Jobs run in the scheduler's worker threads and are the
functions of ``yuqing.daemon.jobs``; what they run is described in ``yuqing.daemon.plan``.

Only the lease holder (``locks`` row ``daemon``) starts the scheduler and touches the job store; a
second daemon on the same database waits on standby and takes over when the lease expires or is
released, so no job (no digest) ever runs twice.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from datetime import datetime, timedelta, timezone
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy.exc import SQLAlchemyError

from config import Config
from storage import leases as lease
from storage.context import AppContext
from storage.db import require_current
from storage.runs import mark_abandoned
from yuqing.base.clock import utcnow
from yuqing.base.errors import ConfigError
from yuqing.daemon import runtime as runtimes
from yuqing.daemon import stages
from yuqing.daemon.logs import configure_logging
from yuqing.daemon.plan import plan_jobs, reconcile
from yuqing.daemon.runtime import Runtime
from yuqing.daemon.snapshot import fingerprint, write_snapshot

log = logging.getLogger("yuqing.daemon")

LEASE_NAME = "daemon"
JOB_TABLE = "apscheduler_jobs"


class DaemonScheduler(BackgroundScheduler):
    """APScheduler's background scheduler, except that it submits nothing once shutting down: its
    own loop may otherwise wake during ``shutdown()`` and submit to the closed executor."""

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()


class Daemon:
    """One daemon process: holds the accepted config, the lease state and the scheduler."""

    def __init__(self, app: AppContext) -> None:
        self.app = app
        config = app.config  # a broken config at start-up is a ConfigError: nothing starts
        require_current(app.engine)
        self.owner = lease.make_owner()
        self.print = fingerprint(app.config_dir)
        self.rejected: str | None = None
        self.pending: str | None = None  # an edit seen on the last poll, applied once it stays unchanged
        snapshot = write_snapshot(app.config_dir, config.data_dir / "run", self.print) or app.config_dir
        self.runtime = Runtime(app=app, snapshot_dir=snapshot, request_analysis=self.request_analysis)
        self.scheduler: BackgroundScheduler | None = None
        self.leader = False
        self.lease_expires = utcnow()
        self.standby_holder: str | None = None
        self.wake = threading.Event()
        self.stop_requested = False
        self.reload_requested = False

    @property
    def settings(self) -> Any:
        return self.app.config.settings.daemon

    # -- lifecycle -------------------------------------------------------------------------

    def run(self) -> bool:
        """Run until SIGTERM/SIGINT; returns True when the shutdown was clean within its bound."""
        runtimes.register(self.app.config_dir, self.runtime)
        self.install_signals()
        if self.settings.metrics_port:
            self.runtime.metrics.serve(self.settings.metrics_host, self.settings.metrics_port)
        log.info(
            "daemon started: owner=%s config=%s database=%s",
            self.owner,
            self.app.config_dir,
            self.app.engine.url.render_as_string(hide_password=True),
        )
        try:
            while not self.stop_requested:
                self.step(utcnow())
                self.wake.wait(self.poll_seconds())
                self.wake.clear()
        finally:
            clean = self.shutdown()
        return clean

    def step(self, now: datetime) -> None:
        """One turn of the main loop: the lease, then config edits."""
        try:
            self.tick_lease(now)
        except SQLAlchemyError as exc:
            log.error("lease check failed (database unreachable?): %s", exc)
            if self.leader and now >= self.lease_expires:
                self.step_down("the lease could not be renewed before it expired")
        if self.reload_requested:
            self.reload_requested, self.pending = False, None
            self.reload(now)
            return
        current = fingerprint(self.app.config_dir)
        if current in (self.print, self.rejected):
            self.pending = None
        elif current != self.pending:
            self.pending = current  # maybe half-written: apply it when the next poll sees the same files
        else:
            self.pending = None
            self.reload(now, expected=current)

    def poll_seconds(self) -> float:
        return min(float(self.settings.seconds("reload_poll")), self.settings.seconds("lease_ttl") / 3)

    def install_signals(self) -> None:
        """SIGTERM/SIGINT stop, SIGHUP reloads; handlers only set flags for the main loop."""

        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s: stopping", signal.Signals(signum).name)
            self.stop_requested = True
            self.wake.set()

        def hup(_signum: int, _frame: FrameType | None) -> None:
            self.reload_requested = True
            self.wake.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, hup)

    def shutdown(self) -> bool:
        """No new jobs, crawls terminated, running jobs given ``shutdown_timeout``, lease released."""
        bound = float(self.settings.seconds("shutdown_timeout"))
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()
        killed = self.runtime.children.terminate_all(float(self.settings.seconds("crawl_kill_grace")))
        clean = True
        if self.scheduler is not None and self.scheduler.running:
            waiter = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True)
            waiter.start()
            waiter.join(bound)
            clean = not waiter.is_alive()
        if self.leader:
            try:
                lease.release(self.app.engine, LEASE_NAME, self.owner)
            except SQLAlchemyError as exc:
                log.error("could not release the lease (it expires by itself): %s", exc)
        runtimes.unregister(self.app.config_dir)
        self.runtime.metrics.close()
        log.info("daemon stopped: subprocesses terminated=%d clean=%s", killed, clean)
        return clean

    # -- lease -----------------------------------------------------------------------------

    def tick_lease(self, now: datetime) -> None:
        ttl = timedelta(seconds=self.settings.seconds("lease_ttl"))
        engine = self.app.engine
        if self.leader:
            if self.lease_expires - now > ttl * 2 / 3:
                return
            if lease.renew(engine, LEASE_NAME, self.owner, now, ttl):
                self.lease_expires = now + ttl
            else:
                self.step_down("the lease was taken over by another daemon")
            return
        if lease.acquire(engine, LEASE_NAME, self.owner, now, ttl):
            self.lease_expires = now + ttl
            self.become_leader(now)
            return
        current = lease.holder(engine, LEASE_NAME)
        holder = current.owner if current else "nobody"
        if holder != self.standby_holder:
            log.warning(
                "standby: lease %r is held by %s until %s; this daemon runs no jobs until it expires or is released",
                LEASE_NAME,
                holder,
                current.expires_at.isoformat() if current else "-",
            )
            self.standby_holder = holder
        self.runtime.metrics.leader.set(0)

    def become_leader(self, now: datetime) -> None:
        """Start (or resume) the scheduler with the jobs the current config asks for."""
        log.info("lease %r acquired by %s: running jobs", LEASE_NAME, self.owner)
        self.leader = True
        self.standby_holder = None
        self.runtime.metrics.leader.set(1)
        settings = self.app.config.settings
        with self.app.sessions.begin() as session:
            abandoned = mark_abandoned(session, now - timedelta(seconds=settings.stale_run_seconds), now)
        if abandoned:
            log.warning("%d crawl run(s) left 'running' by a dead process marked failed", abandoned)
        if self.scheduler is None:
            self.scheduler = self.build_scheduler(settings.timezone)
            self.scheduler.start(paused=True)
        self.apply_plan(self.app.config, catch_up_all=True)
        self.scheduler.resume()

    def step_down(self, reason: str) -> None:
        log.error("lost the lease: %s; pausing all jobs and waiting on standby", reason)
        self.leader = False
        self.runtime.metrics.leader.set(0)
        if self.scheduler is not None:
            self.scheduler.pause()

    # -- scheduler -------------------------------------------------------------------------

    def build_scheduler(self, tz: str) -> BackgroundScheduler:
        store = SQLAlchemyJobStore(engine=self.app.engine, tablename=JOB_TABLE)
        scheduler = DaemonScheduler(
            jobstores={"default": store},
            executors={"default": ThreadPoolExecutor(self.settings.workers)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=tz,
        )
        scheduler.add_listener(self.on_skipped, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        return scheduler

    def on_skipped(self, event: JobEvent) -> None:
        """One log line for a run that did not happen (missed while down, or still running)."""
        outcome = "missed" if event.code == EVENT_JOB_MISSED else "skipped-still-running"
        kind, _, target = event.job_id.partition(":")
        log.info(
            "job=%s target=%s outcome=%s",
            kind,
            target or "-",
            outcome,
            extra={"job": kind, "target": target or "-", "outcome": outcome},
        )
        self.runtime.metrics.job_runs.labels(kind, outcome).inc()

    def apply_plan(self, config: Config, catch_up_all: bool = False) -> None:
        assert self.scheduler is not None
        report = reconcile(self.scheduler, plan_jobs(config, str(self.app.config_dir), utcnow()))
        log.info(
            "jobs reconciled: %s%s",
            report,
            "".join(
                f" {label}={','.join(ids)}"
                for label, ids in (("+", report.added), ("~", report.changed), ("-", report.removed))
                if ids
            ),
        )
        fresh = set(report.added + report.changed) | (set(report.kept) if catch_up_all else set())
        grace = timedelta(seconds=self.settings.seconds("digest_misfire_grace"))
        for job_id in due_digests(self.scheduler, fresh, utcnow(), grace):
            log.info(
                "digest %s was due within daemon.digest_misfire_grace: running it now "
                "(deliveries are keyed, so a digest already sent is not sent again)",
                job_id,
            )
            self.scheduler.modify_job(job_id, next_run_time=datetime.now(timezone.utc))

    def request_analysis(self) -> None:
        """Run the analysis job now (after a crawl stored posts); a running one is not doubled."""
        if self.scheduler is None or not self.leader:
            return
        try:
            self.scheduler.modify_job("analyze", next_run_time=datetime.now(timezone.utc))
            self.scheduler.wakeup()
        except JobLookupError:
            pass

    # -- hot reload ------------------------------------------------------------------------

    def reload(self, now: datetime, expected: str | None = None) -> bool:
        """Load the config again; apply it if valid, else keep the previous one and tell the admins.
        ``expected``: the fingerprint the polls settled on; files changed since wait for the next poll."""
        new_print = fingerprint(self.app.config_dir)
        if expected is not None and new_print != expected:
            self.pending = new_print
            return False
        old = self.app.config
        try:
            config = self.app.reload()
        except ConfigError as exc:
            self.refuse(exc, new_print, now)
            return False
        snapshot = write_snapshot(self.app.config_dir, config.data_dir / "run", new_print)
        if snapshot is None:
            return False  # files changed while we read them; the next poll reloads again
        self.runtime.snapshot_dir = snapshot
        self.print, self.rejected = new_print, None
        self.runtime.metrics.reloads.labels("applied").inc()
        for name in ("database_url", "data_dir"):
            if getattr(old.settings, name) != getattr(config.settings, name):
                log.warning("settings %s changed: takes effect after a restart", name)
        if self.leader and self.scheduler is not None:
            self.apply_plan(config)
        log.info(
            "config reloaded: %d sources (%d enabled), %d topics, %d groups",
            len(config.sources.sources),
            sum(s.enabled for s in config.sources.sources),
            len(config.topics.topics),
            len(config.alerts.groups),
        )
        return True

    def refuse(self, exc: ConfigError, new_print: str, now: datetime) -> None:
        self.rejected = new_print
        self.runtime.metrics.reloads.labels("rejected").inc()
        log.error("config edit refused, the previous config keeps running: %s", exc.message)
        if self.leader:
            body = (
                "配置文件修改有误，未生效；系统继续按修改前的配置运行。\n\n"
                + exc.message
                + "\n\n请修正上述行后执行 `yuqing config check`。"
            )
            stages.send_admin_alert(
                self.app, "【舆情监测】配置修改未生效：配置有误", body, f"admin:config:{new_print[:16]}", now
            )


def due_digests(scheduler: BackgroundScheduler, job_ids: set[str], now: datetime, grace: timedelta) -> list[str]:
    """Digest jobs among ``job_ids`` whose latest scheduled time lies within ``grace`` before ``now``:
    a new or rescheduled digest, or one missed while no daemon ran, is caught up at once."""
    due = []
    for job_id in sorted(i for i in job_ids if i.startswith("digest:")):
        job = scheduler.get_job(job_id)
        latest = job.trigger.get_next_fire_time(None, now - grace) if job else None
        if latest is not None and latest <= now:
            due.append(job_id)
    return due


def main(config_dir: str | os.PathLike[str] | None = None, verbose: bool = False) -> int:
    """Entry point of ``yuqing run``: configure logging, run the daemon, exit 0 when stopped cleanly."""
    app = AppContext.create(config_dir)
    settings = app.config.settings
    configure_logging("DEBUG" if verbose else settings.log_level, settings.log_format)
    daemon = Daemon(app)
    clean = daemon.run()
    app.close()
    if not clean:
        log.warning("jobs still running after daemon.shutdown_timeout: exiting without waiting for them")
        logging.shutdown()
        os._exit(0)  # worker threads cannot be killed; their work is committed in small transactions
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
