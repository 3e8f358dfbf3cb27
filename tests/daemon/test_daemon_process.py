"""The real daemon as a process: jobs scheduled and persisted, status, graceful stop, hot reload,
a refused broken edit, SIGHUP, and a second daemon on the same database standing by."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import leases as lease
from tests.daemon.conftest import CLI_BOOT, DaemonProcess, Site, db_engine, migrate, source_yaml, start, write_sources
from yuqing.daemon.status import scheduled_jobs

pytestmark = pytest.mark.slow


def status_json(config_dir: Path, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CLI_BOOT, "--config", str(config_dir), "status", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return json.loads(out.stdout)


def test_jobs_are_scheduled_persisted_and_resume_after_restart(
    daemon_config: Path, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    first = start(daemons, daemon_config, tmp_path)
    first.wait_for(r"jobs reconciled: added=6 changed=0 removed=0 kept=0")
    first.wait_for(r"job=analyze target=- outcome=", count=2)
    status = status_json(daemon_config)
    assert {j["id"] for j in status["jobs"]} == {
        "crawl:local-news",
        "analyze",
        "retry",
        "health",
        "retention",
        "digest:press-office",
    }
    assert status["lease"]["alive"] and status["lease"]["owner"].split(":")[1] == str(first.proc.pid)
    assert all(j["next_run"] for j in status["jobs"])
    began = time.monotonic()
    assert first.stop() == 0
    assert time.monotonic() - began < 20
    assert "daemon stopped" in first.log
    engine = db_engine(daemon_config)
    assert lease.holder(engine, "daemon") is None  # released at once: a successor need not wait
    engine.dispose()

    second = start(daemons, daemon_config, tmp_path, "second")
    second.wait_for(r"jobs reconciled: added=0 changed=0 removed=0 kept=6")
    second.wait_for(r"job=health target=- outcome=ok")
    assert second.stop() == 0


def test_config_edit_applies_and_broken_edit_is_refused(
    daemon_config: Path, tmp_path: Path, site: Site, daemons: list[DaemonProcess]
) -> None:
    daemon = start(daemons, daemon_config, tmp_path)
    daemon.wait_for(r"jobs reconciled: added=6")
    good = source_yaml("local-news", site.url("/feed.xml"))
    write_sources(daemon_config, good, source_yaml("second-site", site.url("/feed.xml?b"), every="1h"))
    daemon.wait_for(r"jobs reconciled: added=1 changed=0 removed=0 kept=6 \+=crawl:second-site")
    assert "crawl:second-site" in {j["id"] for j in status_json(daemon_config)["jobs"]}

    engine = db_engine(daemon_config)
    mark = len(daemon.log)
    (daemon_config / "sources.yaml").write_text(
        "sources:\n  - id: broken\n    kind: rss\n    nmae: typo\n", encoding="utf-8"
    )
    refused = daemon.wait_for(r"config edit refused", after=mark)[0]
    assert "previous config keeps running" in refused
    assert re.search(r"sources\.yaml:4: sources\[0\] \(id: broken\)\.nmae: unknown key", daemon.log[mark:])
    daemon.wait_for(r"job=analyze target=- outcome=", count=2, after=mark)  # still running jobs
    assert daemon.proc.poll() is None
    # `yuqing status` itself refuses the broken config on disk: read the job store directly
    assert "crawl:second-site" in scheduled_jobs(engine)
    engine.dispose()
    time.sleep(2.5)  # the same broken file is reported once, not on every poll
    assert daemon.log[mark:].count("config edit refused") == 1

    mark = len(daemon.log)
    write_sources(daemon_config, good)
    daemon.wait_for(r"removed=1 kept=6 -=crawl:second-site", after=mark)
    mark = len(daemon.log)
    daemon.signal(signal.SIGHUP)  # nothing changed on disk: SIGHUP still forces a reload
    daemon.wait_for(r"config reloaded: 1 sources", after=mark)
    assert daemon.stop() == 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_second_daemon_on_the_same_database_stands_by(
    backend: str, daemon_config: Path, tmp_path: Path, daemons: list[DaemonProcess], request: pytest.FixtureRequest
) -> None:
    env: dict[str, str] = {}
    if backend == "postgresql":
        env["YUQING_DATABASE_URL"] = request.getfixturevalue("postgres_schema_url")
        migrate(daemon_config, env)
    leader = start(daemons, daemon_config, tmp_path, "leader", env)
    leader.wait_for(r"lease 'daemon' acquired")
    other = start(daemons, daemon_config, tmp_path, "standby", env)
    other.wait_for(rf"standby: lease 'daemon' is held by \S+:{leader.proc.pid}:")
    leader.wait_for(r"job=analyze target=- outcome=", count=3)
    assert "job=" not in other.log and "acquired" not in other.log
    assert leader.stop() == 0
    other.wait_for(r"lease 'daemon' acquired", timeout=10)
    other.wait_for(r"job=analyze target=- outcome=")
    assert other.stop() == 0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_json_logs_and_metrics_on_localhost(daemon_config: Path, tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    import urllib.request

    port = free_port()
    settings = daemon_config / "settings.yaml"
    text = settings.read_text(encoding="utf-8").replace("log_format: plain", "log_format: json")
    settings.write_text(text + f"  metrics_port: {port}\n", encoding="utf-8")
    daemon = start(daemons, daemon_config, tmp_path)
    daemon.wait_for(r'"job": "analyze"', count=2)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert re.search(r'yuqing_job_runs_total\{job="analyze",outcome="[a-z-]+"\} [1-9]', body)
    assert "yuqing_daemon_leader 1.0" in body
    assert daemon.stop() == 0
    records = [json.loads(line) for line in daemon.log.splitlines() if line.startswith("{")]
    job = next(r for r in records if r.get("job") == "analyze" and "duration" in r)
    assert {"time", "level", "logger", "message", "outcome", "duration", "counts"} <= set(job)
    assert len(records) == len(daemon.log.splitlines())  # every line is JSON
