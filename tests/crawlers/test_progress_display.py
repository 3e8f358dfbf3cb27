"""Long commands draw progress on a terminal and nothing in pipes or logs."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from conftest import FAST, NOW, YUQING, run_yuqing

ARGS = ("crawl", "board-test", "--now", NOW, *[a for s in FAST for a in ("--set", s)])


def run_in_terminal(config_dir: Path, *args: str) -> str:
    """The real CLI with stdout and stderr on a pseudo-terminal; everything it wrote there."""
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env.update(TERM="xterm-256color", COLUMNS="120")
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [YUQING, "--config", str(config_dir), *args], stdout=secondary, stderr=secondary, env=env, close_fds=True
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=120)
    os.close(primary)
    return b"".join(chunks).decode("utf-8", "replace")


def test_piped_output_carries_no_progress(crawl_config: Path) -> None:
    done = run_yuqing(crawl_config, *ARGS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("board-test: ok ")
    assert "crawling" not in done.stdout + done.stderr
    assert "\x1b[" not in done.stdout + done.stderr


def test_a_terminal_shows_the_progress(crawl_config: Path) -> None:
    shown = run_in_terminal(crawl_config, *ARGS)
    assert "crawling board-test" in shown and "\x1b[" in shown, shown
    assert "board-test: ok " in shown
