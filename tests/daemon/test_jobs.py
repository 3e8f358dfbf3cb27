"""Job functions run in-process against a real database: retention, health, the stage adapter."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from storage.models import AnalysisRow, CrawlRunRow, EventRow, PostRow
from storage.repo import insert_post
from tests.daemon.conftest import migrate
from yuqing.base.post import Post
from yuqing.daemon import jobs, stages

NOW = datetime.now(timezone.utc)


@pytest.fixture
def job_config(config_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config dir on the parametrised database (SQLite or PostgreSQL), migrated."""
    if db_url.startswith("postgresql"):
        monkeypatch.setenv("YUQING_DATABASE_URL", db_url)
    else:
        settings = config_dir / "settings.yaml"
        settings.write_text(
            settings.read_text(encoding="utf-8").replace("\ndatabase_url:\n", f"\ndatabase_url: {db_url}\n", 1),
            encoding="utf-8",
        )
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
        event_id = conn.execute(
            insert(EventRow).values(title=f"e{n}", first_seen=fetched, last_seen=fetched).returning(EventRow.id)
        ).scalar_one()
        conn.execute(insert(AnalysisRow).values(post_id=post_id, analyzed_at=fetched, event_id=event_id))
    return post_id


def count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_retention_deletes_old_posts_with_their_analyses(
    job_config: Path, job_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
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


def test_health_job_finds_a_failing_source(
    job_config: Path, job_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with job_engine.begin() as conn:
        for i in range(3):
            conn.execute(
                insert(CrawlRunRow).values(
                    source_id="people-politics",
                    status="failed",
                    started_at=NOW - timedelta(minutes=10 * i),
                    error_summary="HTTP 503",
                )
            )
        conn.execute(
            insert(CrawlRunRow).values(
                source_id="people-politics", status="running", started_at=NOW - timedelta(days=1)
            )
        )
    caplog.set_level(logging.INFO, logger="yuqing.daemon")
    jobs.health_job(str(job_config))
    message = next(r.getMessage() for r in caplog.records if "job=health" in r.getMessage())
    assert "sources=1 failing=1 empty=0" in message and "abandoned=1" in message
    warning = next(r.getMessage() for r in caplog.records if "admin alert" in r.getMessage())
    assert "admin:health:people-politics:" in warning and "连续采集失败" in warning
    job_engine.dispose()


def test_health_message_is_chinese_and_names_the_fix() -> None:
    from storage.health import HealthStatus

    subject, body = jobs.health_message("人民网", "people", HealthStatus("empty", 0, 6, 4.5, None, ""))
    assert "连续无新内容" in subject and "yuqing crawl people --max-pages 1" in body


def test_a_group_digest_that_fails_to_build_is_a_failed_job(
    job_config: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A second group still gets its digest; the failed group's job is ``failed``, counted in the
    metrics, shown by ``yuqing status`` and told to the admins."""
    import json

    from click.testing import CliRunner

    import alerts.service
    from alerts.service import send_digests
    from storage.context import AppContext
    from yuqing.base.errors import DigestError
    from yuqing.cli import cli

    alerts_yaml = job_config / "alerts.yaml"
    alerts_yaml.write_text(
        alerts_yaml.read_text(encoding="utf-8").replace(
            "admins: [",
            (
                "  - id: court-office\n    name: 法院新闻办\n    emails: [court@localhost]\n    channels: [mail]\n"
                '    digest_time: "08:00"\n\nadmins: ['
            ),
            1,
        ),
        encoding="utf-8",
    )
    settings = job_config / "settings.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("stage_processes: true", "stage_processes: false"),
        encoding="utf-8",
    )
    real = alerts.service.gather_digest

    def broken(session: Any, config: Any, group: Any, *args: Any, **kwargs: Any) -> Any:
        if group.id == "press-office":
            raise ValueError("a bad character in the .docx")
        return real(session, config, group, *args, **kwargs)

    monkeypatch.setattr(alerts.service, "gather_digest", broken)
    app = AppContext.create(job_config)
    with pytest.raises(DigestError) as raised:
        send_digests(app, NOW)
    app.close()
    assert list(raised.value.failed) == ["press-office"]
    assert {r.recipient for r in raised.value.results} == {"court@localhost"}  # the other group got its digest

    caplog.set_level(logging.INFO, logger="yuqing.daemon.jobs")
    jobs.digest_job(str(job_config), "press-office")
    line = next(r.getMessage() for r in caplog.records if "job=digest" in r.getMessage())
    assert "outcome=failed" in line and "a bad character" in line
    status = CliRunner().invoke(cli, ["--config", str(job_config), "status", "--json"])
    assert status.exit_code == 0, status.output
    [job] = [j for j in json.loads(status.output)["jobs"] if j["id"] == "digest:press-office"]
    assert job["failed"] and job["last_outcome"] == "failed" and "a bad character" in job["error"]
    human = CliRunner().invoke(cli, ["--config", str(job_config), "status"])
    assert "FAILED" in human.output and "digest:press-office" in human.output
    outbox = list((job_config.parent / "data" / "outbox").glob("*.eml"))
    assert any("任务失败" in p.read_text(encoding="utf-8", errors="replace") or "admin" in p.name for p in outbox)


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
    caplog.set_level(logging.INFO, logger="yuqing.daemon.jobs")
    jobs.retry_job(str(job_config))
    line = next(r.getMessage() for r in caplog.records if "job=retry" in r.getMessage())
    assert "outcome=ok" in line, line
    log = (job_config.parent / "data" / "logs" / "retry.log").read_text(encoding="utf-8")
    assert log.splitlines()[-1].startswith('YUQING-JOB {"outcome": "ok"')


def test_stage_job_for_an_unknown_group_is_skipped_in_the_child(
    job_config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="yuqing.daemon.jobs")
    jobs.digest_job(str(job_config), "no-such-group")  # the child refuses cleanly: skipped
    line = next(r.getMessage() for r in caplog.records if "job=digest" in r.getMessage())
    assert "outcome=skipped" in line and "group removed or disabled" in line
