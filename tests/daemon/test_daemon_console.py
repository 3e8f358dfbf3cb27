"""``yuqing run`` with ``web.enabled``: the real daemon process serves the console beside its jobs,
stops it on SIGTERM, and refuses to start when the console's port is taken."""

from __future__ import annotations

import re
import socket
from datetime import datetime, timezone
from pathlib import Path

import httpx2
import pytest
from sqlalchemy.orm import Session

from storage.users import add_user
from tests.daemon.conftest import DaemonProcess, db_engine, start

pytestmark = pytest.mark.slow

PASSWORD = "daemon console password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def enable_web(config_dir: Path, port: int) -> None:
    path = config_dir / "settings.yaml"
    settings = path.read_text(encoding="utf-8")
    assert "\nweb:" not in settings  # the fast daemon config ends with its daemon section
    path.write_text(settings + f"web:\n  enabled: true\n  host: 127.0.0.1\n  port: {port}\n", encoding="utf-8")


def add_analyst(config_dir: Path) -> None:
    engine = db_engine(config_dir)
    with Session(engine) as session, session.begin():
        now = datetime.now(timezone.utc)
        add_user(session, "wangmin", role="analyst", unit=None, password=PASSWORD, by="test", now=now)
    engine.dispose()


def test_the_daemon_serves_the_console_and_stops_it_on_sigterm(
    daemon_config: Path, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    port = free_port()
    enable_web(daemon_config, port)
    add_analyst(daemon_config)
    daemon = start(daemons, daemon_config, tmp_path)
    daemon.wait_for(rf"console served on http://127\.0\.0\.1:{port}/")
    daemon.wait_for(r"jobs reconciled: added=6")  # the scheduler runs beside it
    with httpx2.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=True) as client:
        form = client.get("/login")
        assert form.status_code == 200 and 'name="password"' in form.text
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token
        answer = client.post("/login", data={"name": "wangmin", "password": PASSWORD, "csrf": token.group(1)})
        assert answer.status_code == 200 and "wangmin" in answer.text  # the review list, signed in
    assert daemon.stop() == 0
    assert "console stopped" in daemon.log and "daemon stopped" in daemon.log
    with socket.socket() as sock:  # the port is free again
        sock.bind(("127.0.0.1", port))


def test_a_taken_port_stops_the_start_with_a_hint(
    daemon_config: Path, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        enable_web(daemon_config, int(taken.getsockname()[1]))
        daemon = start(daemons, daemon_config, tmp_path)
        assert daemon.proc.wait(60) == 1
    assert "Error: the console could not listen on 127.0.0.1:" in daemon.log
    assert "Hint:" in daemon.log and "web.enabled: false" in daemon.log
    assert "Traceback" not in daemon.log
