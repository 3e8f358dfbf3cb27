"""Job functions run in-process against a real database: retention, health, the stage adapter."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from storage.models import AnalysisRow, CrawlRunRow, EventRow, PostRow
from storage.post import Post
from storage.repo import insert_post
from tests.daemon.conftest import migrate
from yuqing.daemon import jobs, stages

NOW = datetime.now(timezone.utc)


@pytest.fixture
def job_config(config_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config dir on the parametrised database (SQLite or PostgreSQL), migrated."""
    if db_url.startswith("postgresql"):
        monkeypatch.setenv("YUQING_DATABASE_URL", db_url)
    else:
        settings = config_dir / "settings.yaml"
        settings.write_text(settings.read_text(encoding="utf-8").replace(
            "\ndatabase_url:\n", f"\ndatabase_url: {db_url}\n", 1), encoding="utf-8")
    migrate(config_dir)
    return config_dir


@pytest.fixture
def job_engine(job_config: Path, db_url: str) -> Engine:
    from storage.db import make_engine

    return make_engine(db_url)


def add_post(engine: Engine, n: int, fetched: datetime) -> int:
    post = Post(source_id="s", url=f"https://example.cn/{n}.html", title=f"t{n}", text="x", fetched_at=fetched)
    with engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            post_id = insert_post(session, post)
            assert post_id is not None
            session.flush()
        event_id = conn.execute(insert(EventRow).values(title=f"e{n}", first_seen=fetched, last_seen=fetched)
                                .returning(EventRow.id)).scalar_one()
        conn.execute(insert(AnalysisRow).values(post_id=post_id, analyzed_at=fetched, event_id=event_id))
    return post_id


def count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_retention_deletes_old_posts_with_their_analyses(job_config: Path, job_engine: Engine,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    for n in range(3):
        add_post(job_engine, n, NOW - timedelta(days=200 + n))
    keep = add_post(job_engine, 9, NOW - timedelta(days=10))
    with job_engine.begin() as conn:
        conn.execute(insert(CrawlRunRow).values(source_id="s", started_at=NOW - timedelta(days=300), status="ok"))
    caplog.set_level(logging.INFO, logger="yuqing.daemon.jobs")
    jobs.retention_job(str(job_config))
    with job_engine.connect() as conn:
        assert list(conn.scalars(select(PostRow.id))) == [keep]
    assert count(job_engine, AnalysisRow) == 1 and count(job_engine, EventRow) == 1
    assert count(job_engine, CrawlRunRow) == 0
    line = next(r for r in caplog.records if "job=retention" in r.getMessage())
    assert "outcome=ok" in line.getMessage() and "posts=3 events=3 crawl_runs=1" in line.getMessage()
    job_engine.dispose()


def test_health_job_finds_a_failing_source(job_config: Path, job_engine: Engine,
                                           caplog: pytest.LogCaptureFixture) -> None:
    with job_engine.begin() as conn:
        for i in range(3):
            conn.execute(insert(CrawlRunRow).values(source_id="people-politics", status="failed",
                                                    started_at=NOW - timedelta(minutes=10 * i),
                                                    error_summary="HTTP 503"))
        conn.execute(insert(CrawlRunRow).values(source_id="people-politics", status="running",
                                                started_at=NOW - timedelta(days=1)))
    caplog.set_level(logging.INFO, logger="yuqing.daemon")
    jobs.health_job(str(job_config))
    message = next(r.getMessage() for r in caplog.records if "job=health" in r.getMessage())
    assert "sources=1 failing=1 empty=0" in message and "abandoned=1" in message
    warning = next(r.getMessage() for r in caplog.records if "admin alert" in r.getMessage())
    assert f"admin:health:people-politics:" in warning and "连续采集失败" in warning
    job_engine.dispose()


def test_health_message_is_chinese_and_names_the_fix() -> None:
    from yuqing.daemon.health import HealthStatus

    subject, body = jobs.health_message("人民网", "people", HealthStatus("empty", 0, 6, 4.5, None, ""))
    assert "连续无新内容" in subject and "yuqing crawl people --max-pages 1" in body


def test_stage_adapter_reports_missing_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(stages.CANDIDATES, "run_analysis", ("no_such_stage.jobs", "no_such_stage"))
    outcome = stages.call_stage("run_analysis", None, NOW)
    assert not outcome.installed and outcome.outcome == "not-installed" and "no_such_stage" in outcome.detail


def test_stage_adapter_finds_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(stages.CANDIDATES, "run_analysis", ("no_such_stage", "json"))
    monkeypatch.setattr("json.run_analysis", lambda app, now: {"analyzed": 4, "events": 1, "ids": [1]},
                        raising=False)
    outcome = stages.call_stage("run_analysis", None, NOW)
    assert outcome.installed and outcome.counts == {"analyzed": 4, "events": 1}


def test_as_counts_shapes() -> None:
    from dataclasses import dataclass

    @dataclass
    class Result:
        sent: int
        failed: int

    assert stages.as_counts(Result(2, 1)) == {"sent": 2, "failed": 1}
    assert stages.as_counts([1, 2, 3]) == {"count": 3} and stages.as_counts(None) == {}

    @dataclass
    class Delivery:
        status: str

    assert stages.as_counts([Delivery("sent"), Delivery("failed"), Delivery("sent")]) == {"failed": 1, "sent": 2}


def test_stage_job_in_a_process_of_its_own(job_config: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``retry`` through ``python -m yuqing.daemon.isolated``: counts come back from the child."""
    from tests.daemon.conftest import needs_stage

    needs_stage("retry_pending")
    caplog.set_level(logging.INFO, logger="yuqing.daemon.jobs")
    jobs.retry_job(str(job_config))
    line = next(r.getMessage() for r in caplog.records if "job=retry" in r.getMessage())
    assert "outcome=ok" in line, line
    log = (job_config.parent / "data" / "logs" / "retry.log").read_text(encoding="utf-8")
    assert log.splitlines()[-1].startswith('YUQING-JOB {"outcome": "ok"')


def test_stage_job_for_an_unknown_group_is_skipped_in_the_child(job_config: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="yuqing.daemon.jobs")
    jobs.digest_job(str(job_config), "no-such-group")  # the child refuses cleanly: skipped
    line = next(r.getMessage() for r in caplog.records if "job=digest" in r.getMessage())
    assert "outcome=skipped" in line and "group removed or disabled" in line
