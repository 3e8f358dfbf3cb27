"""The yuqing command line: init, config check, doctor, errors without tracebacks, help examples."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from yuqing.cli import cli


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a child process."""
    return subprocess.run(
        [sys.executable, "-c", "from yuqing.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def all_commands(group: click.Group, ctx: click.Context, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += all_commands(command, ctx, f"{prefix}{name} ")
    return found


def test_every_command_has_help_with_an_example() -> None:
    ctx = click.Context(cli)
    commands = all_commands(cli, ctx)
    assert {"init", "doctor", "config check"} <= {name for name, _ in commands}
    missing = [name for name, command in commands if "Example:" not in (command.help or "")]
    assert missing == []
    assert "Example:" in (cli.help or "")


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "yuqing, version" in result.output


def test_init_then_doctor_on_the_embedded_default(config_dir: Path, tmp_path: Path) -> None:
    first = run("--config", str(config_dir), "init")
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout and (tmp_path / "data" / "yuqing.db").exists()
    again = run("--config", str(config_dir), "init")
    assert "already current" in again.stdout
    doctor = run("--config", str(config_dir), "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    lines = doctor.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["ok"] * 5  # config, data dir, database, mail, webhooks
    assert any("outbox" in line for line in lines)


def test_doctor_fails_on_an_unmigrated_database(config_dir: Path) -> None:
    doctor = run("--config", str(config_dir), "doctor")
    assert doctor.returncode == 1
    assert any(line.startswith("FAIL  database") and "yuqing init" in line for line in doctor.stdout.splitlines())


def test_config_check_ok_and_failing(config_dir: Path) -> None:
    ok = run("--config", str(config_dir), "config", "check")
    assert ok.returncode == 0 and ok.stdout.startswith("OK:")
    (config_dir / "sources.yaml").write_text("sources:\n  - id: x\n    nme: y\n", encoding="utf-8")
    (config_dir / "settings.yaml").write_text("timezone: [\n", encoding="utf-8")
    bad = run("--config", str(config_dir), "config", "check")
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert "sources.yaml:3: sources[0] (id: x).nme: unknown key" in bad.stderr
    assert "settings.yaml:" in bad.stderr and "YAML syntax error" in bad.stderr


@pytest.mark.parametrize("command", [["init"], ["doctor"]])
def test_user_mistakes_print_error_and_hint_not_traceback(tmp_path: Path, command: list[str]) -> None:
    result = run("--config", str(tmp_path / "missing"), *command)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    if command == ["init"]:
        assert result.stderr.startswith("Error: configuration has 1 problem")
        assert "Hint:" in result.stderr


def test_config_dir_from_environment(config_dir: Path) -> None:
    result = run("config", "check", env={"YUQING_CONFIG_DIR": str(config_dir)})
    assert result.returncode == 0 and str(config_dir) in result.stdout
