"""``yuqing demo --serve`` as a real process: it prints the console's URL and the demo analyst's
password, the console answers over HTTP with the demo's posts, and Ctrl-C (or SIGTERM) stops it all."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.daemon.conftest import CLI_BOOT, sentiment_models  # noqa: F401 - the shared model build (a fixture)

pytestmark = pytest.mark.slow


class Output:
    """The process's stdout, read by a thread, for a test to wait on lines."""

    def __init__(self, proc: subprocess.Popen[str], env: dict[str, str]) -> None:
        self.proc = proc
        self.env = env  # the demo's environment, for the commands a test runs beside it
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 300) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = re.search(pattern, line)
                if found:
                    return found
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in the demo's output:\n{''.join(self.lines)[-3000:]}")


@pytest.fixture
def demo(tmp_path: Path, sentiment_models: Path) -> Iterator[Output]:  # noqa: F811
    data_dir = tmp_path / "demo"
    shutil.copytree(sentiment_models, data_dir / "models")  # the demo keeps its models across runs
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_") or k.startswith("YUQING_TEST_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI_BOOT, "demo", "--data-dir", str(data_dir), "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    output = Output(proc, env)
    yield output
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_the_demo_serves_the_console_with_its_posts(demo: Output) -> None:
    url = demo.wait_for(r"Console 控制台: (http://127\.0\.0\.1:\d+)/").group(1)
    password = demo.wait_for(r"user 账号: demo\s+password 密码: (\S+)").group(1)
    assert any(line.startswith("Posts: ") for line in demo.lines)  # the demo ran first
    with httpx2.Client(base_url=url, follow_redirects=True) as client:
        form = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert form.status_code == 200 and token
        wrong = client.post("/login", data={"name": "demo", "password": password + "x", "csrf": token.group(1)})
        assert wrong.status_code == 401
        listing = client.post("/login", data={"name": "demo", "password": password, "csrf": token.group(1)})
        assert listing.status_code == 200
        rows = re.findall(r'<tr id="post-(\d+)"', listing.text)
        assert len(rows) >= 5, listing.text[-2000:]  # the demo's relevant posts of the last day
        assert "派出所" in listing.text or "法院" in listing.text
        post = client.get(f"/posts/{rows[0]}")
        assert post.status_code == 200
    # the admin command the demo prints works on the demo's database while it runs
    config = demo.wait_for(r"an admin 管理员: yuqing --config (\S+) users add NAME --role admin").group(1)
    added = subprocess.run(
        [sys.executable, "-c", CLI_BOOT, "--config", config, "users", "add", "boss", "--role", "admin"],
        capture_output=True,
        text=True,
        env=demo.env,
        check=False,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    admin_password = re.search(r"password[^:]*: (\S+)", added.stdout, re.I)
    assert admin_password, added.stdout
    with httpx2.Client(base_url=url, follow_redirects=True) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert token
        login = client.post(
            "/login", data={"name": "boss", "password": admin_password.group(1), "csrf": token.group(1)}
        )
        assert login.status_code == 200 and client.get("/admin/keywords").status_code == 200
    demo.proc.send_signal(signal.SIGTERM)
    assert demo.proc.wait(90) == 0
    demo.wait_for(r"^Stopped\.", timeout=10)
