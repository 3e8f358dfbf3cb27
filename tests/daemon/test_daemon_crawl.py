"""The real daemon crawling a local site in subprocesses: posts stored once, an overrunning crawl
killed and recorded as timeout, SIGKILL in the middle of a crawl and a restart losing and
duplicating nothing."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import CrawlRunRow, PostRow
from tests.daemon.conftest import DaemonProcess, Site, db_engine, processes_running, source_yaml, start, write_sources

pytestmark = pytest.mark.slow


def posts(config_dir: Path) -> list[str]:
    engine = db_engine(config_dir)
    with engine.connect() as conn:
        urls = list(conn.scalars(select(PostRow.canonical_url).order_by(PostRow.canonical_url)))
    engine.dispose()
    return urls


def runs(config_dir: Path, source_id: str) -> list[CrawlRunRow]:
    engine = db_engine(config_dir)
    with engine.connect() as conn:
        rows = list(
            conn.execute(select(CrawlRunRow).where(CrawlRunRow.source_id == source_id).order_by(CrawlRunRow.id))
        )
    engine.dispose()
    return rows


def test_crawls_store_each_post_once(
    daemon_config: Path, tmp_path: Path, site: Site, daemons: list[DaemonProcess]
) -> None:
    daemon = start(daemons, daemon_config, tmp_path)
    first = daemon.wait_for(r"job=crawl target=local-news outcome=ok", timeout=120)[0]
    assert "new=3" in first and "status=ok" in first
    again = daemon.wait_for(r"job=crawl target=local-news outcome=ok", count=2, timeout=120)[1]
    assert "new=0" in again  # the second crawl finds the same feed: nothing new, nothing twice
    assert len(posts(daemon_config)) == 3
    assert daemon.stop() == 0
    assert [r.status for r in runs(daemon_config, "local-news")] == ["ok"] * len(runs(daemon_config, "local-news"))


def test_overrunning_crawl_is_killed_and_recorded_as_timeout(
    daemon_config: Path, tmp_path: Path, site: Site, daemons: list[DaemonProcess]
) -> None:
    settings = daemon_config / "settings.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("subprocess_timeout: 90", "subprocess_timeout: 10"),
        encoding="utf-8",
    )
    write_sources(daemon_config, source_yaml("slow-site", site.url("/slow"), every="1h", extra="    timeout: 300\n"))
    daemon = start(daemons, daemon_config, tmp_path)
    began = time.monotonic()
    line = daemon.wait_for(r"job=crawl target=slow-site outcome=", timeout=120)[0]
    assert "outcome=timeout" in line and "killed after 10 s" in line
    assert 9 < time.monotonic() - began < 90  # 10 s timeout + 2 s grace, plus start-up on a busy machine
    assert not processes_running("crawlers.run slow-site")
    [run] = runs(daemon_config, "slow-site")
    assert run.status == "timeout" and run.finished_at is not None
    assert daemon.stop() == 0


def test_sigkill_mid_crawl_then_restart_loses_and_duplicates_nothing(
    daemon_config: Path, tmp_path: Path, site: Site, daemons: list[DaemonProcess]
) -> None:
    site.items = 8
    site.article_delay = 1.0
    write_sources(
        daemon_config, source_yaml("local-news", site.url("/feed.xml"), every="4s", extra="    concurrency: 1\n")
    )
    first = start(daemons, daemon_config, tmp_path, "first")
    deadline = time.monotonic() + 60
    while sum(p.startswith("/news/") for p in site.requests) < 3:
        assert time.monotonic() < deadline, first.log[-2000:]
        time.sleep(0.1)
    assert processes_running("crawlers.run local-news")
    first.kill()  # SIGKILL: no cleanup at all
    deadline = time.monotonic() + 10
    while processes_running("crawlers.run local-news"):  # the kernel tells the crawl its daemon died
        assert time.monotonic() < deadline, "an orphaned crawl outlived its daemon"
        time.sleep(0.2)
    stored_before = posts(daemon_config)
    assert len(stored_before) < 8

    second = start(daemons, daemon_config, tmp_path, "second")
    second.wait_for(r"jobs reconciled: added=0 changed=0 removed=0 kept=6")  # the schedule resumes
    second.wait_for(r"job=crawl target=local-news outcome=ok", timeout=150)
    stored = posts(daemon_config)
    assert len(stored) == len(set(stored)) == 8 and set(stored_before) <= set(stored)
    assert second.stop() == 0
    statuses = [(r.status, r.error_summary) for r in runs(daemon_config, "local-news")]
    assert all(status != "running" for status, _ in statuses), statuses
    assert any(status == "ok" for status, _ in statuses[1:]), statuses  # the restarted schedule crawled
    killed = statuses[0]  # the crawl whose daemon was SIGKILLed: finished by itself or marked
    assert killed[0] in ("ok", "partial") or killed == (
        "failed",
        "abandoned: the crawl process ended without finishing its run",
    ), statuses


def test_sigterm_mid_crawl_stops_within_bound_and_records_it(
    daemon_config: Path, tmp_path: Path, site: Site, daemons: list[DaemonProcess]
) -> None:
    write_sources(daemon_config, source_yaml("slow-site", site.url("/slow"), every="1h", extra="    timeout: 300\n"))
    daemon = start(daemons, daemon_config, tmp_path)
    deadline = time.monotonic() + 120
    while "/slow" not in site.requests:
        assert time.monotonic() < deadline and daemon.proc.poll() is None, daemon.log[-2000:]
        time.sleep(0.2)
    began = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - began < 30  # crawl_kill_grace 2 s + shutdown_timeout 15 s at most
    assert re.search(r"daemon stopped: subprocesses terminated=[1-9]\d* clean=True", daemon.log)
    assert "Traceback" not in daemon.log
    assert not processes_running("crawlers.run slow-site")
    [run] = runs(daemon_config, "slow-site")
    assert run.status == "failed" and "interrupted: the daemon was shutting down" in run.error_summary
