"""Jobs planned from config, and reconciling a real scheduler's persistent job store with them."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from config import load_config
from yuqing.daemon.plan import cron_weekdays, plan_jobs, reconcile

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


SOURCES = """sources:
  - id: people-politics
    name: 人民网·时政
    kind: rss
    start_urls: ["http://www.people.com.cn/rss/politics.xml"]
    schedule: {interval: 30m, jitter: 2m}
  - id: chinapeace
    name: 中国长安网
    kind: sitemap
    start_urls: ["http://www.chinapeace.gov.cn/sitemap.xml"]
    schedule: {interval: 1h}
    enabled: false
"""


@pytest.fixture(autouse=True)
def two_sources(config_dir: Path) -> None:
    """One enabled and one disabled source, independent of what the shipped config lists."""
    (config_dir / "sources.yaml").write_text(SOURCES, encoding="utf-8")


def scheduler_on(engine: Engine) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine)}, timezone="UTC")
    scheduler.start(paused=True)
    return scheduler


def test_plan_covers_every_job_kind(config_dir: Path) -> None:
    edit(
        config_dir / "alerts.yaml",
        "    frequency: daily        # daily | weekly",
        "    frequency: weekly\n    weekday: fri",
    )
    specs = {s.id: s for s in plan_jobs(load_config(config_dir), str(config_dir), NOW)}
    assert set(specs) == {"crawl:people-politics", "analyze", "retry", "health", "retention", "digest:press-office"}
    assert specs["crawl:people-politics"].name == "crawl people-politics every 30m ±2m (Asia/Shanghai)"
    assert specs["crawl:people-politics"].args == (str(config_dir), "people-politics")
    crawl = specs["crawl:people-politics"].make_trigger()
    first_crawl = crawl.get_next_fire_time(None, NOW)
    assert first_crawl is not None and 2 <= (first_crawl - NOW).total_seconds() <= 2 + 120  # at once, ± jitter
    digest = specs["digest:press-office"].make_trigger()
    first = digest.get_next_fire_time(None, datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc))  # a Friday
    assert first is not None and first.isoformat() == "2026-12-04T08:00:00+08:00"


def test_cron_weekday_numbers_follow_crontab() -> None:
    assert cron_weekdays("1-5") == "mon-fri"
    assert cron_weekdays("0,6") == "sun,sat" and cron_weekdays("7") == "sun" and cron_weekdays("*") == "*"


def test_reconcile_adds_keeps_changes_and_removes(config_dir: Path, engine: Engine) -> None:
    config = load_config(config_dir)
    scheduler = scheduler_on(engine)
    first = reconcile(scheduler, plan_jobs(config, str(config_dir), NOW))
    assert len(first.added) == 6 and not first.kept
    before = scheduler.get_job("crawl:people-politics").next_run_time
    scheduler.shutdown()

    # a restart: a new scheduler on the same store keeps unchanged jobs and their next run times
    scheduler = scheduler_on(engine)
    again = reconcile(scheduler, plan_jobs(config, str(config_dir), NOW))
    assert len(again.kept) == 6 and not again.added and not again.changed
    assert scheduler.get_job("crawl:people-politics").next_run_time == before

    sources = config_dir / "sources.yaml"
    edit(sources, "schedule: {interval: 30m, jitter: 2m}", 'schedule: {cron: "*/10 * * * 1-5"}')
    edit(sources, "    enabled: false\n", "")
    edit(config_dir / "alerts.yaml", "- id: press-office", "- id: press-office\n    enabled: false")
    changed = reconcile(scheduler, plan_jobs(load_config(config_dir), str(config_dir), NOW))
    assert changed.changed == ["crawl:people-politics"] and changed.added == ["crawl:chinapeace"]
    assert changed.removed == ["digest:press-office"]
    job = scheduler.get_job("crawl:people-politics")
    assert re.search(r"day_of_week='mon-fri'.*minute='\*/10'", str(job.trigger))
    assert job.max_instances == 1 and job.coalesce
    scheduler.shutdown()


def test_due_digests_catch_up_within_grace(config_dir: Path, engine: Engine) -> None:
    from datetime import timedelta

    from yuqing.daemon.degraded import due_digests

    scheduler = scheduler_on(engine)
    reconcile(scheduler, plan_jobs(load_config(config_dir), str(config_dir), NOW))
    ids = {job.id for job in scheduler.get_jobs()}
    at_nine = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai, digest at 08:00
    assert due_digests(scheduler, ids, at_nine, timedelta(hours=6)) == ["digest:press-office"]
    assert due_digests(scheduler, ids, at_nine, timedelta(minutes=30)) == []
    assert due_digests(scheduler, ids - {"digest:press-office"}, at_nine, timedelta(hours=6)) == []
    scheduler.shutdown()
