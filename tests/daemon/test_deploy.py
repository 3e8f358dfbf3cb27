"""Deployment files: the compose file parses and wires the daemon to PostgreSQL, the Dockerfile
copies what exists, the systemd unit passes ``systemd-analyze verify``. (Docker itself cannot run
on the test machine; see docs/DEPLOY.md.)"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_compose_runs_the_daemon_against_postgres() -> None:
    compose = YAML(typ="safe").load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "yuqing"}
    daemon = services["yuqing"]
    assert daemon["depends_on"]["db"]["condition"] == "service_healthy"
    assert daemon["environment"]["YUQING_DATABASE_URL"].startswith("postgresql+psycopg://yuqing:${POSTGRES_PASSWORD")
    assert daemon["build"]["dockerfile"] == "deploy/Dockerfile"
    assert int(daemon["stop_grace_period"].rstrip("s")) > 40
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])


def test_dockerfile_copies_existing_paths_and_runs_init_then_run() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    root = DEPLOY.parent
    sources = [src for line in re.findall(r"^COPY (.+)$", text, re.M) for src in line.split()[:-1]]
    missing = [src for src in sources if not (root / src).exists()]
    assert not missing, f"Dockerfile copies paths that do not exist: {missing}"
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored and "data" in ignored and ".git" in ignored
    assert 'CMD ["sh", "-c", "yuqing init && exec yuqing run"]' in text
    assert "USER yuqing" in text


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "yuqing.service").read_text(encoding="utf-8")
    assert re.search(r"^ExecStart=\S+/yuqing run$", unit, re.M) and "ExecReload=/bin/kill -HUP $MAINPID" in unit
    assert "KillMode=mixed" in unit
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed")
    local = tmp_path / "yuqing.service"
    local.write_text(
        unit.replace("/opt/yuqing/.venv/bin/yuqing", shutil.which("true") or "/bin/true"), encoding="utf-8"
    )
    done = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=60)
    problems = [line for line in done.stderr.splitlines() if "yuqing.service" in line and "Documentation" not in line]
    assert done.returncode == 0 and not problems, done.stderr
