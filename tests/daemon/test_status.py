"""``yuqing status``: lease, jobs, sources with health, deliveries; human and JSON output."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import insert

from storage import leases as lease
from storage.models import CrawlRunRow, DeliveryRow
from tests.daemon.conftest import db_engine, migrate, source_yaml, write_sources
from yuqing.cli import cli


def seed(config_dir: Path) -> None:
    now = datetime.now(timezone.utc)
    write_sources(
        config_dir,
        source_yaml("broken-site", "http://127.0.0.1:9/feed.xml"),
        source_yaml("idle-site", "http://127.0.0.1:9/x.xml", enabled=False),
    )
    migrate(config_dir)
    engine = db_engine(config_dir)
    with engine.begin() as conn:
        for i in range(3):
            conn.execute(
                insert(CrawlRunRow).values(
                    source_id="broken-site",
                    status="failed",
                    errors=1,
                    started_at=now - timedelta(minutes=i),
                    error_summary="HTTP 503",
                )
            )
        conn.execute(
            insert(DeliveryRow).values(
                key="digest:2026-11-27:press-office",
                kind="digest",
                channel="mail",
                recipient="a@localhost",
                status="failed",
                attempts=2,
                last_error="SMTP 451",
                created_at=now,
                updated_at=now,
            )
        )
    lease.acquire(engine, "daemon", "host:42:abc", now, timedelta(minutes=5))
    engine.dispose()


def test_status_human_and_json(config_dir: Path) -> None:
    seed(config_dir)
    runner = CliRunner()
    human = runner.invoke(cli, ["--config", str(config_dir), "status"])
    assert human.exit_code == 0, human.output
    assert "lease held by host:42:abc" in human.output
    assert "no jobs scheduled yet" in human.output
    assert "broken-site" in human.output and "failing" in human.output and "idle-site" in human.output
    assert "deliveries: failed=1" in human.output and "SMTP 451" in human.output
    assert re.search(r"\(until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00 Asia/Shanghai\)", human.output)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00 failed new=0", " ".join(human.output.split()))
    data = json.loads(runner.invoke(cli, ["--config", str(config_dir), "status", "--json"]).output)
    broken = next(s for s in data["sources"] if s["id"] == "broken-site")
    assert broken["health"] == "failing" and len(broken["runs"]) == 3 and broken["runs"][0]["error"] == "HTTP 503"
    assert data["deliveries"]["counts"] == {"failed": 1} and data["lease"]["alive"] and data["jobs"] == []


def test_status_on_an_unmigrated_database_says_run_init(config_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config_dir), "status"])
    assert result.exit_code == 1 and "yuqing init" in result.output


def test_status_while_an_edit_is_broken_uses_the_last_accepted_config(config_dir: Path) -> None:
    from yuqing.daemon.snapshot import fingerprint, write_snapshot

    seed(config_dir)
    write_snapshot(config_dir, config_dir.parent / "data" / "run", fingerprint(config_dir))  # as the daemon does
    topics = config_dir / "topics.yaml"
    topics.write_text(topics.read_text(encoding="utf-8").replace('    expr: "', '    expr: "((', 1), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config_dir), "status"])
    assert result.exit_code == 0, result.output
    assert "topics.yaml" in result.stderr and "last accepted" in result.stderr
    assert "broken-site" in result.stdout and "failing" in result.stdout


def test_status_with_a_broken_config_and_no_daemon_reports_the_error(config_dir: Path) -> None:
    (config_dir / "topics.yaml").write_text("topics: [\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config_dir), "status"])
    assert result.exit_code != 0 and "topics.yaml" in result.output
