"""Helpers for tests that run the real daemon (``yuqing run``) as a process: a config whose
schedules fire seconds apart, a local RSS site on the mock server, and a handle on the daemon process."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config import copy_shipped, load_config
from storage.db import make_engine, upgrade
from tests.mockserver import MockServer, Request, Response

CLI_BOOT = "from yuqing.cli import main; main()"

FAST_DAEMON = """daemon:
  analyze_every: 2s
  health_check_every: 3s
  retry_every: 3s
  lease_ttl: 6s
  reload_poll: 1s
  shutdown_timeout: 15s
  crawl_kill_grace: 2s
"""


class Site:
    """A tiny news site on the mock server: ``/feed.xml`` (RSS 2.0 with ``items`` entries, each with
    its article page, answered after ``article_delay``) and ``/slow``, the feed a minute late.
    Entry i is published ``i`` minutes after an hour before the site started: news when collected
    (not backlog) and inside the digest period that ends at the coming minute."""

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.published_base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
        self.items = 3
        self.article_delay = 0.0
        server.route("/robots.txt", Response(200, b"User-agent: *\nAllow: /\n", "text/plain"))
        server.route("/feed.xml", self._feed)
        server.route("/slow", self._feed)
        server.delays["/slow"] = 60.0  # longer than any crawl a test lets run
        server.route(re.compile(r"/news/(\d+)\.html"), self._article)

    @property
    def requests(self) -> list[str]:
        return self.server.hits

    def url(self, path: str) -> str:
        return self.server.url(path)

    def feed(self) -> bytes:
        base = self.published_base
        entries = "".join(
            f"<item><title>某县派出所民警执法引发争议 第{i}条</title><link>{self.url(f'/news/{i}.html')}</link>"
            f"<description>网民反映某县派出所民警在执法过程中态度粗暴，引发群众不满和投诉，第{i}条。</description>"
            f"<pubDate>{format_datetime(base + timedelta(minutes=i))}</pubDate></item>"
            for i in range(1, self.items + 1)
        )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>测试站</title>'
            f"<link>{self.url('/')}</link><description>test</description>{entries}</channel></rss>"
        ).encode()

    def article(self, n: str) -> bytes:
        body = "网民反映某县派出所民警在执法过程中态度粗暴，引发群众不满和投诉。" * 8
        return (
            f"<html><head><meta charset='utf-8'><title>第{n}条</title></head><body><article>"
            f"<h1>某县派出所民警执法引发争议 第{n}条</h1><p>{body}</p></article></body></html>"
        ).encode()

    def _feed(self, request: Request) -> Response:
        return Response(200, self.feed(), "application/rss+xml")

    def _article(self, request: Request) -> Response:
        assert request.match is not None
        time.sleep(self.article_delay)  # read per request: a test may slow the articles down mid-run
        return Response(200, self.article(request.match.group(1)))


@pytest.fixture
def site(mockserver: MockServer) -> Site:
    return Site(mockserver)


def source_yaml(source_id: str, url: str, every: str = "3s", enabled: bool = True, extra: str = "") -> str:
    return (
        f'  - id: {source_id}\n    name: 测试源{source_id}\n    kind: rss\n    start_urls: ["{url}"]\n'
        f"    schedule: {{interval: {every}}}\n    obey_robots: false\n    delay: 0\n"
        f"    enabled: {'true' if enabled else 'false'}\n{extra}"
    )


def processes_running(fragment: str) -> list[int]:
    """Pids whose command line contains ``fragment``."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (proc / "stat").read_text().split(")")[-1].split()[0]
            except OSError:
                continue
            if fragment in cmdline and state != "Z":
                found.append(int(proc.name))
    return found


def write_sources(config_dir: Path, *entries: str) -> None:
    (config_dir / "sources.yaml").write_text("sources:\n" + "".join(entries), encoding="utf-8")


@pytest.fixture(scope="session")
def sentiment_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The analyse stage's default sentiment model, built once per test run (about a minute) by a
    real ``yuqing analyze`` run, then copied into each daemon's data dir.
    Under pytest-xdist the workers share one build: the first builds it under a lock in the run's
    common temp dir, the others wait for it and reuse it."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-models"
    root.mkdir(exist_ok=True)
    models = root / "data" / "models"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (root / "built").exists():
            shutil.rmtree(root / "data", ignore_errors=True)  # a worker that died mid-build left it half done
            config = copy_shipped(root / "config", root / "data")
            env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_") or k.startswith("YUQING_TEST_")}
            for command in (["init"], ["analyze"]):
                subprocess.run(
                    [sys.executable, "-c", CLI_BOOT, "--config", str(config), *command],
                    check=True,
                    capture_output=True,
                    env=env,
                    timeout=600,
                )
            (root / "built").touch()
    return models


@pytest.fixture
def daemon_config(config_dir: Path, site: Site, sentiment_models: Path) -> Path:
    """The shipped config, with fast daemon schedules, one local RSS source and a migrated DB."""
    settings = (config_dir / "settings.yaml").read_text(encoding="utf-8")
    settings = settings[: settings.index("daemon:\n")] + FAST_DAEMON
    # generous: a crawl killed on a loaded machine would leave the next one finding nothing new
    settings = settings.replace("subprocess_timeout: 1800", "subprocess_timeout: 90")
    settings = settings.replace("  delay: 0.5 ", "  delay: 0 ")
    (config_dir / "settings.yaml").write_text(settings, encoding="utf-8")
    write_sources(config_dir, source_yaml("local-news", site.url("/feed.xml")))
    migrate(config_dir)
    if sentiment_models is not None:
        shutil.copytree(sentiment_models, load_config(config_dir).models_dir, dirs_exist_ok=True)
    return config_dir


def migrate(config_dir: Path, env: dict[str, str] | None = None) -> None:
    url = load_config(config_dir, environ={**os.environ, **(env or {})}).database_url
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def db_engine(config_dir: Path, env: dict[str, str] | None = None) -> Engine:
    return make_engine(load_config(config_dir, environ={**os.environ, **(env or {})}).database_url)


class DaemonProcess:
    """``yuqing --config DIR run`` as a real process; its log goes to a file the test reads."""

    def __init__(
        self,
        config_dir: Path,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        boot: list[str] | None = None,
    ) -> None:
        self.log_path = log_path
        self.log_file = log_path.open("ab")
        self.proc = subprocess.Popen(
            [*(boot or [sys.executable, "-c", CLI_BOOT]), "--config", str(config_dir), "run"],
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float = 30, count: int = 1, after: int = 0) -> list[str]:
        """Wait until ``pattern`` appears ``count`` times in the log (from offset ``after``)."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.findall(f".*{pattern}.*", self.log[after:])
            if len(found) >= count:
                return found
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}) before {pattern!r}:\n{self.log[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} x{count} within {timeout}s:\n{self.log[-3000:]}")
            time.sleep(0.2)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 40) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.log_file.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.log_file.close()


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[list[DaemonProcess]]:
    """Started daemons, stopped (then killed) at the end of the test whatever happened."""
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        if daemon.proc.poll() is None:
            try:
                daemon.stop(20)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.proc.pid, signal.SIGKILL)
                daemon.proc.wait()


def start(
    daemons: list[DaemonProcess],
    config_dir: Path,
    tmp_path: Path,
    name: str = "daemon",
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    boot: list[str] | None = None,
) -> DaemonProcess:
    daemon = DaemonProcess(config_dir, tmp_path / f"{name}.log", env, cwd, boot)
    daemons.append(daemon)
    return daemon
