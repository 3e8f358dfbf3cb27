"""End to end: the real daemon collects a local site's posts, analyses them and sends the digest
at its time in the configured timezone to a real SMTP server (aiosmtpd); a restart neither runs
again nor sends again a digest already sent."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from storage.models import AnalysisRow, DeliveryRow, PostRow
from tests.daemon.conftest import DaemonProcess, Site, db_engine, start

pytestmark = pytest.mark.slow


class Inbox:
    """aiosmtpd handler keeping every message received."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(m["Subject"]) for m in self.messages]


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def digest_minute(tz: str) -> str:
    """A local HH:MM at least 25 s ahead: the crawl and analysis finish before the digest."""
    local = datetime.now(ZoneInfo(tz))
    target = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if (target - local).total_seconds() < 25:
        target += timedelta(minutes=1)
    return target.strftime("%H:%M")


def configure_mail(config_dir: Path, port: int) -> None:
    settings = config_dir / "settings.yaml"
    text = settings.read_text(encoding="utf-8").replace("transport: outbox ", "transport: smtp ")
    settings.write_text(text.replace("    port: 25\n", f"    port: {port}\n"), encoding="utf-8")


def set_digest_time(config_dir: Path, old: str, new: str) -> None:
    alerts = config_dir / "alerts.yaml"
    text = alerts.read_text(encoding="utf-8")
    assert f'digest_time: "{old}"' in text
    alerts.write_text(text.replace(f'digest_time: "{old}"', f'digest_time: "{new}"'), encoding="utf-8")


def count(config_dir: Path, table: type, *where: Any) -> int:
    engine = db_engine(config_dir)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    engine.dispose()
    return n


def wait_until(check: Any, timeout: float, what: str, daemon: DaemonProcess) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}:\n{daemon.log[-3000:]}"
        time.sleep(0.5)


def test_collected_analysed_and_digest_arrives_once(
    daemon_config: Path, tmp_path: Path, site: Site, smtp: tuple[int, Inbox], daemons: list[DaemonProcess]
) -> None:
    port, inbox = smtp
    configure_mail(daemon_config, port)
    never = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(hours=12)).strftime("%H:%M")  # not due
    set_digest_time(daemon_config, "08:00", never)
    daemon = start(daemons, daemon_config, tmp_path)
    daemon.wait_for(r"job=crawl target=local-news outcome=ok .* new=3", timeout=120)
    daemon.wait_for(r"job=analyze target=- outcome=ok .*run_analysis.analyzed=3", timeout=120)
    assert count(daemon_config, PostRow) == 3 and count(daemon_config, AnalysisRow) == 3
    assert not inbox.subjects() or not any("舆情日报" in s for s in inbox.subjects())
    # an admin moves the digest to the coming minute: the edit is applied, the cron job fires then
    set_digest_time(daemon_config, never, digest_minute("Asia/Shanghai"))
    daemon.wait_for(r"jobs reconciled: added=0 changed=1 removed=0 kept=5 ~=digest:press-office")
    daemon.wait_for(r"job=digest target=press-office outcome=ok", timeout=100)
    wait_until(lambda: any("舆情日报" in s for s in inbox.subjects()), 30, "no digest email", daemon)
    digest = next(m for m in inbox.messages if "舆情日报" in str(m["Subject"]))
    assert digest["To"] and "analyst@localhost" in str(digest["To"])
    body = digest.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "某县派出所民警执法引发争议" in body
    assert daemon.stop() == 0

    # a restart does not run again a digest already sent (it is recorded), and sends nothing twice
    again = start(daemons, daemon_config, tmp_path, "again")
    again.wait_for(r"jobs reconciled")
    again.wait_for(r"job=health target=- outcome=ok", timeout=30)
    time.sleep(2)
    assert "digest digest:press-office was due" not in again.log
    assert "job=digest" not in again.log
    assert sum("舆情日报" in s for s in inbox.subjects()) == 1
    assert count(daemon_config, DeliveryRow, DeliveryRow.kind == "digest") == 1
    assert again.stop() == 0
