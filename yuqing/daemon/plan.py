"""Which jobs the configuration asks for (a pure function of the config), and reconciling the
scheduler's persistent job store with that plan.

Every job has an explicit id (``crawl:SOURCE``, ``analyze``, ``digest:GROUP`` …) and a name that
spells out its schedule. A job whose schedule is unchanged is left alone, so its persisted next run
time survives a restart; a changed one is replaced, a job no longer planned is removed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config import Config
from config.alerts_model import Group, parse_monthly, parse_weekly
from config.base import parse_duration
from config.sources_model import Source

JOBS = "yuqing.daemon.jobs"
CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
FIRST_CRAWL_DELAY = 2
FIRST_CRAWL_STAGGER = 3


@dataclass(frozen=True)
class JobSpec:
    """One planned job; ``name`` describes the schedule and doubles as its change signature."""

    id: str
    func: str
    args: tuple[str, ...]
    name: str
    make_trigger: Callable[[], BaseTrigger]
    misfire_grace_time: int


def cron_weekdays(field: str) -> str:
    """Crontab weekday numbers (0 or 7 = Sunday) → names, which APScheduler reads unambiguously."""
    return re.sub(r"\d+", lambda m: CRON_WEEKDAYS[int(m.group()) % 7], field)


def cron_trigger(expr: str, tz: str, jitter: int | None) -> CronTrigger:
    """A 5-field crontab expression as an APScheduler trigger."""
    minute, hour, day, month, weekday = expr.split()
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=cron_weekdays(weekday), timezone=tz, jitter=jitter
    )


def crawl_spec(source: Source, tz: str, config_dir: str, first: datetime) -> JobSpec:
    """A source's crawl job; an interval crawl first runs at ``first``, not one interval later."""
    schedule = source.schedule
    jitter = schedule.jitter_seconds
    if schedule.interval:
        seconds = parse_duration(schedule.interval)
        name = f"crawl {source.id} every {schedule.interval}"
        trigger: Callable[[], BaseTrigger] = functools.partial(
            IntervalTrigger, seconds=seconds, jitter=jitter, timezone=tz, start_date=first
        )
        grace = max(30, seconds)
    else:
        expr = str(schedule.cron)
        name = f"crawl {source.id} cron '{expr}'"
        trigger = functools.partial(cron_trigger, expr, tz, jitter)
        grace = 900
    if schedule.jitter:
        name += f" ±{schedule.jitter}"
    return JobSpec(f"crawl:{source.id}", f"{JOBS}:crawl_job", (config_dir, source.id), f"{name} ({tz})", trigger, grace)


def every_spec(job_id: str, func: str, every: str, config_dir: str, tz: str) -> JobSpec:
    seconds = parse_duration(every)
    return JobSpec(
        job_id,
        f"{JOBS}:{func}",
        (config_dir,),
        f"{job_id} every {every}",
        lambda: IntervalTrigger(seconds=seconds, timezone=tz),
        max(30, seconds),
    )


def daily_spec(
    job_id: str, func: str, args: tuple[str, ...], at: str, weekday: str | None, tz: str, grace: int
) -> JobSpec:
    hour, minute = (int(part) for part in at.split(":"))
    when = f"{weekday} {at}" if weekday else f"daily {at}"
    return JobSpec(
        job_id,
        f"{JOBS}:{func}",
        args,
        f"{job_id} {when} ({tz})",
        lambda: CronTrigger(hour=hour, minute=minute, day_of_week=weekday or "*", timezone=tz),
        grace,
    )


def report_specs(group: Group, config_dir: str, tz: str, grace: int) -> list[JobSpec]:
    """A group's weekly and monthly report jobs (``report:week:GROUP``, ``report:month:GROUP``)."""
    specs = []
    if group.weekly_report:
        weekday, at = parse_weekly(group.weekly_report)
        specs.append(
            daily_spec(f"report:week:{group.id}", "report_job", (config_dir, "week", group.id), at, weekday, tz, grace)
        )
    if group.monthly_report:
        day, at = parse_monthly(group.monthly_report)
        hour, minute = (int(part) for part in at.split(":"))
        specs.append(
            JobSpec(
                f"report:month:{group.id}",
                f"{JOBS}:report_job",
                (config_dir, "month", group.id),
                f"report:month:{group.id} day {day} {at} ({tz})",
                lambda: CronTrigger(day=day, hour=hour, minute=minute, timezone=tz),
                grace,
            )
        )
    return specs


def plan_jobs(config: Config, config_dir: str, now: datetime) -> list[JobSpec]:
    """Every job the configuration asks for; new interval crawls start from ``now``, a few seconds
    apart (a new source is crawled at once, not an interval later; not all in the same second)."""
    tz = config.settings.timezone
    daemon = config.settings.daemon
    enabled = [s for s in config.sources.sources if s.enabled]
    specs = [
        crawl_spec(s, tz, config_dir, now + timedelta(seconds=FIRST_CRAWL_DELAY + FIRST_CRAWL_STAGGER * i))
        for i, s in enumerate(enabled)
    ]
    specs.append(every_spec("analyze", "analyze_job", daemon.analyze_every, config_dir, tz))
    specs.append(every_spec("retry", "retry_job", daemon.retry_every, config_dir, tz))
    specs.append(every_spec("health", "health_job", daemon.health_check_every, config_dir, tz))
    specs.append(daily_spec("retention", "retention_job", (config_dir,), daemon.retention_time, None, tz, 6 * 3600))
    grace = daemon.seconds("digest_misfire_grace")
    for group in (g for g in config.alerts.groups if g.enabled):
        weekday = group.weekday if group.frequency == "weekly" else None
        specs.append(
            daily_spec(
                f"digest:{group.id}", "digest_job", (config_dir, group.id), group.digest_time, weekday, tz, grace
            )
        )
        specs += report_specs(group, config_dir, tz, grace)
    return specs


@dataclass
class ReconcileReport:
    """What reconciling changed, by job id."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    kept: list[str]

    def __str__(self) -> str:
        return f"added={len(self.added)} changed={len(self.changed)} removed={len(self.removed)} kept={len(self.kept)}"


def reconcile(scheduler: Any, specs: list[JobSpec]) -> ReconcileReport:
    """Make the scheduler's jobs match ``specs``; unchanged jobs keep their next run time."""
    existing = {job.id: job for job in scheduler.get_jobs()}
    report = ReconcileReport([], [], [], [])
    for spec in specs:
        job = existing.pop(spec.id, None)
        if job is not None and (job.name, job.func_ref, tuple(job.args), job.misfire_grace_time) == (
            spec.name,
            spec.func,
            spec.args,
            spec.misfire_grace_time,
        ):
            report.kept.append(spec.id)
            continue
        scheduler.add_job(
            spec.func,
            spec.make_trigger(),
            args=list(spec.args),
            id=spec.id,
            name=spec.name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=spec.misfire_grace_time,
        )
        (report.changed if job is not None else report.added).append(spec.id)
    for job_id in existing:
        scheduler.remove_job(job_id)
        report.removed.append(job_id)
    return report
