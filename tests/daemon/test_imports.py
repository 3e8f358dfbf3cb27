"""What yuqing imports cannot be changed by where it runs or by a half-installed upgrade: started
from a directory holding ``config/``, ``storage/``, ``scheduler.py`` … the daemon, its crawls and its
stage processes still import yuqing's own code; a missing stage entry point stops the daemon at start
with a clear error instead of a job that silently never runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon.conftest import CLI_BOOT, DaemonProcess, Site, start

SHADOWING = ("config", "storage", "crawlers", "nlp", "alerts", "yuqing")
CONSOLE_SCRIPT = Path(sys.executable).parent / "yuqing"


def shadowing_dir(tmp_path: Path) -> Path:
    """A working directory whose packages would break every import of yuqing's that it shadows."""
    cwd = tmp_path / "workdir"
    for name in SHADOWING:
        (cwd / name).mkdir(parents=True)
        (cwd / name / "__init__.py").write_text("raise ImportError('shadowed by the working directory')\n")
    (cwd / "scheduler.py").write_text("raise ImportError('shadowed by the working directory')\n")
    return cwd


@pytest.mark.slow
def test_daemon_started_from_a_shadowing_directory_crawls_and_analyses(
    daemon_config: Path, tmp_path: Path, site: Site, daemons: list[DaemonProcess]
) -> None:
    assert CONSOLE_SCRIPT.exists(), CONSOLE_SCRIPT
    daemon = start(daemons, daemon_config, tmp_path, cwd=shadowing_dir(tmp_path), boot=[str(CONSOLE_SCRIPT)])
    daemon.wait_for(r"job=crawl target=local-news outcome=ok .* new=3", timeout=120)
    daemon.wait_for(r"job=analyze target=- outcome=ok .*run_analysis.analyzed=3", timeout=180)
    assert "shadowed" not in daemon.log
    assert daemon.stop() == 0


def test_crawl_command_from_a_shadowing_directory(daemon_config: Path, tmp_path: Path, site: Site) -> None:
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "--config", str(daemon_config), "crawl", "local-news"],
        cwd=shadowing_dir(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "local-news: ok" in done.stdout and "new=3" in done.stdout


def test_daemon_refuses_to_start_when_a_stage_entry_point_is_missing(daemon_config: Path) -> None:
    """As after a partial upgrade: ``nlp.job`` imports, but ``run_analysis`` is gone."""
    boot = "import nlp.job\ndel nlp.job.run_analysis\n" + CLI_BOOT.replace("; ", "\n")
    done = subprocess.run(
        [sys.executable, "-P", "-c", boot, "--config", str(daemon_config), "run"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Error: the daemon cannot start" in done.stderr and "run_analysis" in done.stderr
    assert "Hint: " in done.stderr and "Traceback" not in done.stderr
