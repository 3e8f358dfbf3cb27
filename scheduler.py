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
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import FrameType

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError

from alerts.deliveries import next_retry_at
from config import Config, load_config
from storage import leases as lease
from storage.context import AppContext
from storage.db import require_current
from storage.runs import mark_abandoned
from yuqing.base.clock import utcnow
from yuqing.base.errors import ConfigError
from yuqing.daemon import runtime as runtimes
from yuqing.daemon import stages
from yuqing.daemon.degraded import LEASE_NAME, Degradable, due_digests
from yuqing.daemon.logs import configure_logging
from yuqing.daemon.machinery import DaemonScheduler, GuardedJobStore
from yuqing.daemon.plan import plan_jobs, reconcile
from yuqing.daemon.runtime import Runtime
from yuqing.daemon.snapshot import fingerprint, last_accepted, write_snapshot

log = logging.getLogger("yuqing.daemon")

JOB_TABLE = "apscheduler_jobs"


class Daemon(Degradable):
    """One daemon process: holds the accepted config, the lease state and the scheduler."""

    def __init__(self, app: AppContext, fallback: tuple[ConfigError, Path] | None = None) -> None:
        """``fallback``: the config on disk is broken (the error) and ``app`` carries the snapshot
        the daemon last accepted (its directory), which the daemon runs until the files are fixed."""
        self.app = app
        config = app.config  # a broken config at start-up without a snapshot is a ConfigError: nothing starts
        require_current(app.engine)
        self.owner = lease.make_owner()
        self.rejected: str | None = None
        self.pending: str | None = None  # an edit seen on the last poll, applied once it stays unchanged
        self.fallback = fallback
        if fallback is not None:
            snapshot = fallback[1]
            self.print, self.rejected = fingerprint(snapshot), fingerprint(app.config_dir)
        else:
            self.print = fingerprint(app.config_dir)
            snapshot = write_snapshot(app.config_dir, config.data_dir / "run", self.print) or app.config_dir
        self.runtime = Runtime(
            app=app, snapshot_dir=snapshot, request_analysis=self.request_analysis, on_fault=self.on_fault, owe=self.owe
        )
        self.scheduler: BackgroundScheduler | None = None
        self.leader = False
        self.lease_expires = utcnow()
        self.standby_holder: str | None = None
        self.wake = threading.Event()
        self.stop_requested = False
        self.reload_requested = False
        # faults of the daemon's own machinery (job store, lease, job bookkeeping): reported from any
        # thread, acted upon by the main loop
        self.fault_lock = threading.Lock()
        self.fault_seen: tuple[str, str] | None = None
        self.degraded_since: datetime | None = None
        self.degraded_kind = ""
        self.degraded_logged = 0.0
        self.degraded_alerted = False
        self.recovering = False
        self.owed: set[str] = set()  # digest jobs that ended without their digest recorded or sent
        self.owed_next = utcnow()

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
        """One turn of the main loop: faults and the lease, owed digests, then config edits. Nothing
        raised here ends the loop: it is logged, counted and makes the daemon degraded."""
        try:
            self.tick_health(now)
            if self.degraded_since is None:
                self.tick_lease(now)
        except Exception as exc:  # noqa: BLE001 - the daemon survives its own machinery's faults
            log.error("lease check failed: %s", exc)
            self.on_fault("lease", exc)
            self.tick_health(now)
        try:
            self.tick_owed(now)
            self.tick_config(now)
        except Exception as exc:  # noqa: BLE001
            log.exception("config reload or catch-up failed")
            self.on_fault("reload", exc)

    def tick_config(self, now: datetime) -> None:
        if self.reload_requested:
            self.reload_requested, self.pending = False, None
            self.reload(now)
            return
        current = fingerprint(self.app.config_dir)
        if self.fallback is not None and current == self.print:
            log.warning("config fixed: the files in %s are again the configuration running", self.app.config_dir)
            self.fallback, self.rejected = None, None
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
        if self.recovering:
            self.catch_up_overdue()
        self.schedule_cut_off_retries(now)
        self.scheduler.resume()
        if self.fallback is not None:
            self.alert_fallback(now)

    def catch_up_overdue(self) -> None:
        """After a fault: each job whose run time passed meanwhile runs once now (APScheduler would
        skip a run missed beyond its grace time)."""
        assert self.scheduler is not None
        now = datetime.now(timezone.utc)
        overdue = [
            job.id
            for job in self.scheduler.get_jobs()
            if job.next_run_time is not None and job.next_run_time < now and not job.id.startswith("digest:")
        ]
        for job_id in overdue:
            self.scheduler.modify_job(job_id, next_run_time=now)
        if overdue:
            log.info("catching up %d job(s) whose run time passed while degraded: %s", len(overdue), ",".join(overdue))

    def schedule_cut_off_retries(self, now: datetime) -> None:
        """Deliveries whose sender was cut off (claimed, never marked) or that are due: the retry job
        runs as soon as the first of them may be taken, not at its next interval (never later than
        it would run anyway)."""
        assert self.scheduler is not None
        with self.app.sessions() as session:
            when = next_retry_at(session, now, now + timedelta(seconds=self.settings.seconds("delivery_lease")))
        if when is None:
            return
        at = max(when, now) + timedelta(seconds=1)
        job = self.scheduler.get_job("retry")
        if job is None or (job.next_run_time is not None and job.next_run_time <= at):
            return
        try:
            self.scheduler.modify_job("retry", next_run_time=at)
        except JobLookupError:
            return
        log.info("open deliveries: the retry job runs at %s", at.isoformat(timespec="seconds"))

    def on_delivered(self, event: JobExecutionEvent) -> None:
        """After a job that sends (analysis, digest, retry): deliveries it left open (a claim cut off
        by a kill before the restart, a send that failed) are taken as soon as they may be, not at the
        retry job's next interval. The retry job's first run after a restart sends what was never
        claimed; the claim a kill cut off is only free a lease later, which this brings the job to."""
        if not (event.job_id in ("retry", "analyze") or event.job_id.startswith("digest:")):
            return
        if not self.leader or self.scheduler is None or self.stop_requested:
            return
        try:
            self.schedule_cut_off_retries(utcnow())
        except Exception as exc:  # noqa: BLE001 - the retry job still runs at its interval
            log.warning("could not bring the retry job forward: %s", exc)

    def alert_fallback(self, now: datetime) -> None:
        """Started on the last accepted snapshot because the config is broken: tell the admins."""
        assert self.fallback is not None
        exc, snapshot = self.fallback
        body = (
            "服务重启时配置文件有误，已按上次生效的配置启动（采集、分析和推送照常运行）。\n\n"
            + exc.message
            + f"\n\n上次生效的配置：{snapshot}\n请修正上述行后执行 `yuqing config check`；修正后自动生效，无需重启。"
        )
        stages.send_admin_alert(
            self.app,
            "【舆情监测】配置有误：已按上次生效的配置启动",
            body,
            f"admin:config:{(self.rejected or '')[:16]}",
            now,
        )

    def step_down(self, reason: str) -> None:
        log.error("lost the lease: %s; pausing all jobs and waiting on standby", reason)
        self.leader = False
        self.runtime.metrics.leader.set(0)
        if self.scheduler is not None:
            self.scheduler.pause()

    # -- scheduler -------------------------------------------------------------------------

    def build_scheduler(self, tz: str) -> BackgroundScheduler:
        store = GuardedJobStore(engine=self.app.engine, tablename=JOB_TABLE)
        store.on_fault = self.on_fault
        scheduler = DaemonScheduler(
            jobstores={"default": store},
            executors={"default": ThreadPoolExecutor(self.settings.workers)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=tz,
        )
        scheduler.on_fault = self.on_fault
        scheduler.retry_seconds = self.poll_seconds()
        scheduler.add_listener(self.on_skipped, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        scheduler.add_listener(self.on_delivered, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
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
        for job_id in due_digests(self.scheduler, fresh, utcnow(), grace, self.app):
            log.info(
                "digest %s was due within daemon.digest_misfire_grace and is not recorded yet: running it now "
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
        except Exception as exc:  # noqa: BLE001 - a crawl job must not fail for the job store's fault
            self.on_fault("jobstore", exc)

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
        self.print, self.rejected, self.fallback = new_print, None, None
        self.runtime.metrics.reloads.labels("applied").inc()
        for name in ("database_url", "data_dir", "web"):
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


def load_app(config_dir: str | os.PathLike[str] | None) -> tuple[AppContext, tuple[ConfigError, Path] | None]:
    """The app to run; when the config on disk is broken, the one the daemon last accepted (a
    snapshot in the data dir), so that a restart during a broken edit still runs the service."""
    app = AppContext.create(config_dir)
    try:
        _ = app.config
        return app, None
    except ConfigError as exc:
        found = last_accepted(app.config_dir, os.environ)
        if found is None:
            raise
        snapshot, data_dir = found
        config = load_config(snapshot, {**os.environ, "YUQING_DATA_DIR": str(data_dir)})
        return AppContext(config_dir=app.config_dir, _config=config), (exc, snapshot)


Beside = Callable[[AppContext], AbstractContextManager[object]]


def main(config_dir: str | os.PathLike[str] | None = None, verbose: bool = False, beside: Beside | None = None) -> int:
    """Entry point of ``yuqing run``: configure logging, run the daemon, exit 0 when stopped cleanly.
    ``beside``: what runs in this process for as long as the daemon (the console, which the layer
    above gives: the daemon knows nothing of the web)."""
    app, fallback = load_app(config_dir)
    settings = app.config.settings
    configure_logging("DEBUG" if verbose else settings.log_level, settings.log_format)
    if fallback is not None:
        log.error("the configuration in %s is broken: %s", app.config_dir, fallback[0].message)
        log.error(
            "starting with the configuration last accepted (%s): fix the files (`yuqing config check`); "
            "the fixed config is taken up without a restart",
            fallback[1],
        )
    daemon = Daemon(app, fallback)
    with beside(app) if beside is not None else nullcontext():
        clean = daemon.run()
    app.close()
    if not clean:
        log.warning("jobs still running after daemon.shutdown_timeout: exiting without waiting for them")
        logging.shutdown()
        os._exit(0)  # worker threads cannot be killed; their work is committed in small transactions
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
