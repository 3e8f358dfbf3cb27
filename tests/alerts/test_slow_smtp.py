"""A slow mail server and two senders at once: ``yuqing digest --send`` takes seconds per recipient
while an admin runs ``yuqing deliveries retry`` beside it. Every recipient gets the digest exactly
once: claims are leased from the moment of each claim and renewed while the send is in progress, so
the second sender only takes rows nobody is working on."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from alerts_testlib import Inbox, PortZeroController, SmtpServer, make_app
from sqlalchemy import select

from storage.models import DeliveryRow

CLI_BOOT = "from yuqing.cli import main; main()"
RECIPIENTS = [f"reader{n}@example.cn" for n in range(6)]
SECONDS_PER_MESSAGE = 4.0  # longer than the 3 s claim lease: only the renewal keeps a claim alive
ALERTS = f"""
digest: {{title: 舆情日报, send_empty: true, docx: false}}
channels:
  - {{id: mail, type: email}}
groups:
  - {{id: press-office, name: 宣传处, emails: [{", ".join(RECIPIENTS)}], channels: [mail], digest_time: "00:00"}}
admins: [admin@example.cn]
"""


class SlowInbox(Inbox):
    """Accepts each message after ``SECONDS_PER_MESSAGE`` (without blocking other connections)."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(SECONDS_PER_MESSAGE)
        return await super().handle_DATA(server, session, envelope)


def cli(config_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_") or k.startswith("YUQING_TEST_")}
    return subprocess.Popen(
        [sys.executable, "-c", CLI_BOOT, "--config", str(config_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def test_slow_server_and_a_concurrent_retry_send_each_message_once(config_dir: Path, tmp_path: Path) -> None:
    inbox = SlowInbox()
    controller = PortZeroController(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        server = SmtpServer("127.0.0.1", controller.port, inbox, controller)
        app = make_app(config_dir, f"sqlite:///{tmp_path / 'a.db'}", server, alerts=ALERTS)
        settings = config_dir / "settings.yaml"
        text = settings.read_text(encoding="utf-8")
        assert "  delivery_lease: 90s " in text
        settings.write_text(text.replace("  delivery_lease: 90s ", "  delivery_lease: 3s "), encoding="utf-8")
        first = cli(config_dir, "digest", "--send")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(inbox.messages) < 2:  # the first sender is two sends in
            time.sleep(0.1)
        second = cli(config_dir, "deliveries", "retry")
        out_first, _ = first.communicate(timeout=120)
        out_second, _ = second.communicate(timeout=120)
    finally:
        controller.stop()
    assert first.returncode == 0, out_first
    assert second.returncode == 0, out_second
    received = sorted(a for rcpts, _ in inbox.messages for a in rcpts)
    assert received == sorted(RECIPIENTS), (received, out_first, out_second)
    assert "sent" in out_second, out_second  # the retry really sent some: the two ran side by side
    with app.session() as session:
        rows = list(session.scalars(select(DeliveryRow).where(DeliveryRow.kind == "digest")))
    assert len(rows) == len(RECIPIENTS)
    assert all(r.status == "sent" and r.attempts == 1 for r in rows), [
        (r.recipient, r.status, r.attempts) for r in rows
    ]
    # sent_at is when each send finished, not the run's start: the slow sends are seconds apart
    sent = sorted(r.sent_at for r in rows if r.sent_at is not None)
    assert (sent[-1] - sent[0]).total_seconds() >= SECONDS_PER_MESSAGE * 1.5
    app.close()
