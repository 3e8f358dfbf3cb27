"""Faults around the real daemon (``yuqing run`` as a process): a full disk, a config broken at a
restart, a read-only data dir. None of them silently stops the service or sends anything twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.models import AnalysisRow, DeliveryRow, PostRow
from tests.daemon.conftest import CLI_BOOT, DaemonProcess, Site, db_engine, start
from tests.daemon.test_daemon_e2e import Inbox, configure_mail, count, set_digest_time, smtp, wait_until

__all__ = ["smtp"]  # the SMTP server fixture, shared with the end-to-end test

pytestmark = pytest.mark.slow

TZ = "Asia/Shanghai"
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]


def cli(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI_BOOT, "--config", str(config_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def minute_ahead(seconds: int = 30) -> tuple[str, datetime]:
    """A local HH:MM at least ``seconds`` ahead, and that time (aware)."""
    local = datetime.now(ZoneInfo(TZ))
    target = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
    while (target - local).total_seconds() < seconds:
        target += timedelta(minutes=1)
    return target.strftime("%H:%M"), target


def wait_past(when: datetime, daemon: DaemonProcess, extra: float = 3) -> None:
    wait_until(lambda: datetime.now(ZoneInfo(TZ)) > when + timedelta(seconds=extra), 200, "time did not pass", daemon)


def digests(inbox: Inbox) -> int:
    return sum("舆情日报" in s for s in inbox.subjects())


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 48 MB tmpfs of its own (we run as root here); skipped where the kernel refuses to mount."""
    mount = tmp_path / "fs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def move_data_dir(config_dir: Path, target: Path) -> Path:
    """Move the config's data dir (database, models) to ``target``; returns the new data dir."""
    settings = config_dir / "settings.yaml"
    text = settings.read_text(encoding="utf-8")
    old = Path(next(line for line in text.splitlines() if line.startswith("data_dir:")).split(":", 1)[1].strip())
    new = target / "data"
    shutil.copytree(old, new)
    settings.write_text(text.replace(f"data_dir: {old}", f"data_dir: {new}"), encoding="utf-8")
    return new


def fill(directory: Path) -> Path:
    """Write a file until the file system is full; returns it (delete it to free the space)."""
    filler = directory / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 64 << 10, 4 << 10, 512):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


def test_full_disk_degrades_then_resumes_and_catches_up_once(
    daemon_config: Path,
    tmp_path: Path,
    site: Site,
    smtp: tuple[int, Inbox],
    tiny_fs: Path,
    daemons: list[DaemonProcess],
) -> None:
    """The data dir (SQLite database, logs, outbox) on a 48 MB tmpfs that fills up while the daemon
    runs and a digest falls due, then is freed."""
    port, inbox = smtp
    configure_mail(daemon_config, port)
    data_dir = move_data_dir(daemon_config, tiny_fs)
    never = (datetime.now(ZoneInfo(TZ)) - timedelta(hours=12)).strftime("%H:%M")
    set_digest_time(daemon_config, "08:00", never)
    daemon = start(daemons, daemon_config, tmp_path)
    daemon.wait_for(r"job=analyze target=- outcome=ok .*run_analysis.analyzed=3", timeout=180)
    hhmm, due = minute_ahead(25)
    set_digest_time(daemon_config, never, hhmm)
    daemon.wait_for(r"jobs reconciled: .*~=digest:press-office", timeout=30)

    site.items = 6  # three new posts appear while the disk is full
    filler = fill(tiny_fs)
    daemon.wait_for(r"degraded: disk full since", timeout=60)
    # the daemon stopped renewing its lease (it could not even write that it gives it up): once the
    # lease has lapsed (lease_ttl 6 s), status reads the state from it and the free space
    deadline = time.monotonic() + 20
    while "degraded: disk full since" not in (status := cli(daemon_config, "status")).stdout:
        assert time.monotonic() < deadline, status.stdout + status.stderr
        time.sleep(1)
    assert "Asia/Shanghai" in status.stdout
    wait_past(due, daemon)  # the digest fell due during the outage
    assert digests(inbox) == 0
    assert daemon.proc.poll() is None
    mark = len(daemon.log)

    filler.unlink()  # space freed: the daemon resumes by itself
    daemon.wait_for(r"recovered from disk full", timeout=60, after=mark)
    wait_until(
        lambda: count(daemon_config, PostRow) == 6 and count(daemon_config, AnalysisRow) == 6,
        180,
        "not every post collected and analysed after the disk was freed",
        daemon,
    )
    wait_until(lambda: digests(inbox) >= 1, 120, "the digest due during the outage was not sent", daemon)
    time.sleep(8)  # retries and catch-ups had time to double it
    assert digests(inbox) == 1
    assert count(daemon_config, DeliveryRow, DeliveryRow.kind == "digest") == 1
    assert "Exception in thread" not in daemon.log
    assert cli(daemon_config, "status").stdout.startswith("daemon: running")
    assert data_dir.exists()
    assert daemon.stop() == 0


def test_restart_with_a_broken_config_runs_the_last_accepted_one(
    daemon_config: Path, tmp_path: Path, site: Site, daemons: list[DaemonProcess]
) -> None:
    daemon = start(daemons, daemon_config, tmp_path)
    daemon.wait_for(r"job=crawl target=local-news outcome=ok .* new=3", timeout=180)
    daemon.kill()  # kill -9, then an edit breaks topics.yaml
    engine = db_engine(daemon_config)
    topics = daemon_config / "topics.yaml"
    good = topics.read_text(encoding="utf-8")
    topics.write_text(good + "\n  - id: broken\n    nmae: 坏了\n", encoding="utf-8")
    assert cli(daemon_config, "config", "check").returncode == 1
    site.items = 5

    again = start(daemons, daemon_config, tmp_path, "again")
    again.wait_for(r"the configuration in .* is broken", timeout=60)
    again.wait_for(r"starting with the configuration last accepted")
    again.wait_for(r"job=crawl target=local-news outcome=ok .* new=2", timeout=180)
    status = cli(daemon_config, "status")
    assert status.returncode == 0, status.stderr
    assert "runs with the configuration it last accepted" in status.stderr
    assert status.stdout.startswith("daemon: running")
    with engine.connect() as conn:
        keys = list(conn.scalars(select(DeliveryRow.key).where(DeliveryRow.key.like("admin:config:%"))))
    engine.dispose()
    assert len(keys) == 1  # the admins are told (once)

    topics.write_text(good, encoding="utf-8")  # fixed: taken up without a restart
    again.wait_for(r"config fixed: the files in .* are again the configuration running", timeout=30)
    assert again.stop() == 0


def test_read_only_data_dir_during_a_due_digest_sends_it_once_when_writable(
    daemon_config: Path, tmp_path: Path, site: Site, smtp: tuple[int, Inbox], daemons: list[DaemonProcess]
) -> None:
    """The daemon runs as root without CAP_DAC_OVERRIDE (``setpriv``), so that file modes bind it
    as they bind an unprivileged user: ``chmod -R u-w`` makes the data dir (and the SQLite database
    in it) read-only for it."""
    if shutil.which("setpriv") is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
    port, inbox = smtp
    configure_mail(daemon_config, port)
    never = (datetime.now(ZoneInfo(TZ)) - timedelta(hours=12)).strftime("%H:%M")
    set_digest_time(daemon_config, "08:00", never)
    data_dir = tmp_path / "data"
    daemon = start(daemons, daemon_config, tmp_path, boot=[*NO_DAC, sys.executable, "-c", CLI_BOOT])
    daemon.wait_for(r"job=analyze target=- outcome=ok .*run_analysis.analyzed=3", timeout=180)
    hhmm, due = minute_ahead(25)
    set_digest_time(daemon_config, never, hhmm)
    daemon.wait_for(r"jobs reconciled: .*~=digest:press-office", timeout=30)

    subprocess.run(["chmod", "-R", "u-w", str(data_dir)], check=True)
    try:
        daemon.wait_for(r"degraded: (data dir not writable|disk full|database unavailable) since", timeout=60)
        wait_past(due, daemon, extra=5)
        assert digests(inbox) == 0
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(data_dir)], check=True)
    daemon.wait_for(r"recovered from", timeout=60)
    wait_until(lambda: digests(inbox) >= 1, 120, "the digest due while read-only was never sent", daemon)
    time.sleep(8)
    assert digests(inbox) == 1
    assert count(daemon_config, DeliveryRow, DeliveryRow.kind == "digest") == 1
    assert daemon.proc.poll() is None
    daemon.signal(signal.SIGTERM)
    assert daemon.stop() == 0
