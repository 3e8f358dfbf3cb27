"""The daemon's degraded state: while a fault of its own machinery (a full disk, a data dir or
database it cannot write) stops it from making progress, it runs no job, gives its lease up so a
standby can take over, tells the admins, probes, and resumes by itself, catching up what it owes."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from alerts.service import digest_recorded
from storage import leases as lease
from storage.context import AppContext
from yuqing.daemon import stages
from yuqing.daemon.faults import (
    KIND_ZH,
    PROBE_BYTES,
    fault_kind,
    free_bytes,
    human_bytes,
    local_time,
    probe_data_dir,
)
from yuqing.daemon.runtime import Runtime

log = logging.getLogger("yuqing.daemon")

LEASE_NAME = "daemon"
STILL_DEGRADED_LOG = 60.0  # seconds between "still degraded" lines


class Degradable:
    """The fault handling of ``scheduler.Daemon`` (a mixin: the daemon holds the state it uses)."""

    app: AppContext
    runtime: Runtime
    owner: str
    leader: bool
    lease_expires: datetime
    scheduler: BackgroundScheduler | None
    wake: threading.Event
    fault_lock: threading.Lock
    fault_seen: tuple[str, str] | None
    degraded_since: datetime | None
    degraded_kind: str
    degraded_logged: float
    degraded_alerted: bool
    recovering: bool
    owed: set[str]
    owed_next: datetime

    @property
    def settings(self) -> Any:
        return self.app.config.settings.daemon

    def poll_seconds(self) -> float:
        raise NotImplementedError

    def become_leader(self, now: datetime) -> None:
        raise NotImplementedError

    def on_fault(self, where: str, exc: BaseException) -> None:
        """A failure of the daemon's own machinery (any thread): counted, logged, acted upon by the
        main loop, which wakes at once."""
        self.runtime.metrics.faults.labels(where).inc()
        with self.fault_lock:
            first = self.fault_seen is None and self.degraded_since is None
            self.fault_seen = (where, f"{type(exc).__name__}: {exc}"[:500])
        if first:
            log.error("fault in %s: %s: %s", where, type(exc).__name__, exc)
        else:
            log.debug("fault in %s: %s", where, exc)
        self.wake.set()

    def tick_health(self, now: datetime) -> None:
        """Become degraded after a fault; while degraded, probe and resume when the fault has ended."""
        with self.fault_lock:
            seen, self.fault_seen = self.fault_seen, None
        data_dir = self.app.config.data_dir
        if seen is None and self.degraded_since is None and free_bytes(data_dir) < PROBE_BYTES:
            # nothing failed yet, but nothing can be written: say so before a job store write fails
            seen = ("data dir", f"the data dir {data_dir} is full ({human_bytes(free_bytes(data_dir))} free)")
            self.runtime.metrics.faults.labels("data dir").inc()
        if seen is not None and self.degraded_since is None:
            self.enter_degraded(now, *seen)
            return
        if self.degraded_since is not None:
            self.try_recover(now)

    def enter_degraded(self, now: datetime, where: str, error: str) -> None:
        data_dir = self.app.config.data_dir
        self.degraded_since, self.degraded_kind = now, fault_kind(error, data_dir)
        self.degraded_logged, self.degraded_alerted = time.monotonic(), False
        self.runtime.metrics.degraded.set(1)
        was_leader = self.leader
        self.leader = False
        self.runtime.metrics.leader.set(0)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()
        if was_leader:
            try:  # give the lease up so that a standby daemon can take over (if the database lets us)
                lease.expire(self.app.engine, LEASE_NAME, self.owner, now)
            except Exception as exc:  # noqa: BLE001 - it then expires by itself within lease_ttl
                log.debug("could not give the lease up: %s", exc)
        log.error(
            "degraded: %s since %s (%s in %s; data dir %s has %s free): no jobs run and the lease is "
            "given up so that a standby daemon can take over; checking every %.0fs and resuming by itself",
            self.degraded_kind,
            now.isoformat(timespec="seconds"),
            error,
            where,
            data_dir,
            human_bytes(free_bytes(data_dir)),
            self.poll_seconds(),
        )
        self.alert_degraded(now)

    def alert_degraded(self, now: datetime) -> None:
        assert self.degraded_since is not None
        since = self.degraded_since
        body = (
            f"舆情监测服务无法正常运行：{KIND_ZH.get(self.degraded_kind, self.degraded_kind)}。\n"
            f"开始时间：{local_time(since, self.app.config.settings.timezone)}\n"
            f"数据目录：{self.app.config.data_dir}（剩余空间 {human_bytes(free_bytes(self.app.config.data_dir))}）\n\n"
            "在此期间不执行采集、分析和推送任务；故障排除后服务自动恢复，并补发期间应发的日报，不会重复发送。\n"
            "请释放磁盘空间或恢复数据目录的写权限，并执行 `yuqing status` 查看状态。"
        )
        sent = stages.send_admin_alert(
            self.app,
            f"【舆情监测】服务降级：{KIND_ZH.get(self.degraded_kind, '故障')}",
            body,
            f"admin:degraded:{since.isoformat(timespec='seconds')}",
            now,
        )
        self.degraded_alerted = bool(sent) and "error" not in sent

    def try_recover(self, now: datetime) -> None:
        """While degraded: write to the data dir and the database; on success resume (or stand by)."""
        assert self.degraded_since is not None
        try:
            probe_data_dir(self.app.config.data_dir)
            # connections opened while the database file was read-only stay read-only: open new ones
            self.app.engine.dispose()
            ttl = timedelta(seconds=self.settings.seconds("lease_ttl"))
            acquired = lease.acquire(self.app.engine, LEASE_NAME, self.owner, now, ttl)
        except Exception as exc:  # noqa: BLE001 - still degraded
            self.runtime.metrics.faults.labels("probe").inc()
            kind = fault_kind(exc, self.app.config.data_dir)
            if kind != self.degraded_kind:
                log.error(
                    "degraded: %s since %s (was: %s): %s",
                    kind,
                    self.degraded_since.isoformat(timespec="seconds"),
                    self.degraded_kind,
                    exc,
                )
                self.degraded_kind, self.degraded_logged = kind, time.monotonic()
            elif time.monotonic() - self.degraded_logged >= STILL_DEGRADED_LOG:
                self.degraded_logged = time.monotonic()
                log.error(
                    "still degraded: %s since %s: %s",
                    self.degraded_kind,
                    self.degraded_since.isoformat(timespec="seconds"),
                    exc,
                )
            return
        since, kind = self.degraded_since, self.degraded_kind
        self.degraded_since = None
        self.runtime.metrics.degraded.set(0)
        log.warning(
            "recovered from %s (degraded since %s, %.0fs): %s",
            kind,
            since.isoformat(timespec="seconds"),
            (now - since).total_seconds(),
            "resuming jobs and catching up the runs missed meanwhile" if acquired else "standing by",
        )
        if not acquired:
            return
        self.lease_expires = now + ttl
        self.recovering = True
        try:
            self.become_leader(now)
        finally:
            self.recovering = False
        body = (
            f"舆情监测服务已恢复正常（{KIND_ZH.get(kind, kind)}，自 {local_time(since, self.app.config.settings.timezone)} "
            f"至 {local_time(now, self.app.config.settings.timezone)}）。期间错过的任务正在补做，应发的日报补发一次。"
        )
        if not self.degraded_alerted:
            body += "\n（降级开始时告警未能发出。）"
        stages.send_admin_alert(
            self.app, "【舆情监测】服务已恢复", body, f"admin:recovered:{since.isoformat(timespec='seconds')}", now
        )

    def owe(self, job_id: str, owed: bool) -> None:
        """A digest job ended without its digest recorded or sent (``owed``), or did send it."""
        if owed:
            self.owed.add(job_id)
        else:
            self.owed.discard(job_id)

    def tick_owed(self, now: datetime) -> None:
        """Run again, every ``retry_every``, each owed digest that is still due (within the grace)."""
        if not self.owed or not self.leader or self.scheduler is None or now < self.owed_next:
            return
        self.owed_next = now + timedelta(seconds=self.settings.seconds("retry_every"))
        grace = timedelta(seconds=self.settings.seconds("digest_misfire_grace"))
        due = set(due_digests(self.scheduler, set(self.owed), now, grace, self.app))
        for job_id in sorted(self.owed - due):
            self.owed.discard(job_id)  # sent meanwhile, or no longer due
        for job_id in sorted(due):
            log.warning("digest %s is due and was not recorded or sent: running it again", job_id)
            self.scheduler.modify_job(job_id, next_run_time=datetime.now(timezone.utc))


def due_digests(
    scheduler: BackgroundScheduler, job_ids: set[str], now: datetime, grace: timedelta, app: AppContext | None = None
) -> list[str]:
    """Digest jobs among ``job_ids`` whose latest scheduled time lies within ``grace`` before ``now``:
    a new or rescheduled digest, or one missed while no daemon ran, is caught up at once. With
    ``app``, a digest already recorded is left out (its unsent deliveries are the retry job's): a
    restart runs only the digests still owed, not every one due that day."""
    due = []
    for job_id in sorted(i for i in job_ids if i.startswith("digest:")):
        job = scheduler.get_job(job_id)
        latest = None
        if job is not None:
            fire = job.trigger.get_next_fire_time(None, now - grace)
            while fire is not None and fire <= now:  # the latest fire time within the grace
                latest = fire
                fire = job.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        if latest is None:
            continue
        if app is not None and digest_recorded(app, job_id.partition(":")[2], latest):
            continue
        due.append(job_id)
    return due
