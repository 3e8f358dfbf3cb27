"""The alert commands through click, on a real database and outbox."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alerts_testlib import Seed, seed_day
from click.testing import CliRunner

from yuqing.cli import cli
from yuqing.context import AppContext

COMMANDS = [["digest"], ["alerts"], ["alerts", "test"], ["alerts", "send"], ["deliveries"], ["deliveries", "list"],
            ["deliveries", "retry"]]


def run(app: AppContext, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(app.config_dir), *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(sqlite_app: AppContext, command: list[str]) -> None:
    code, out = run(sqlite_app, *command, "--help")
    assert code == 0 and "Example:" in out


def test_digest_preview_then_send_once(sqlite_app: AppContext, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    with sqlite_app.session() as session:
        seed_day(Seed(session), now - timedelta(hours=1))
    preview = tmp_path / "out.html"
    code, out = run(sqlite_app, "digest", "--group", "press-office", "--preview", str(preview),
                    "--docx", str(tmp_path / "d.docx"))
    assert code == 0, out
    assert "press-office: 舆情日报" in out
    html = preview.read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "<script" not in html
    assert (tmp_path / "d.docx").read_bytes()[:2] == b"PK"
    assert not list(sqlite_app.config.outbox_dir.glob("*.eml"))          # a preview sends nothing
    code, out = run(sqlite_app, "digest", "--send")
    assert code == 0 and out.count("sent ") == 3, out
    code, out = run(sqlite_app, "digest", "--send")
    assert code == 0 and "nothing to send" in out
    code, out = run(sqlite_app, "deliveries", "list", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 3 and {r["status"] for r in rows} == {"sent"}
    code, out = run(sqlite_app, "deliveries", "list", "--failed")
    assert "no deliveries failed" in out
    code, out = run(sqlite_app, "deliveries", "retry")
    assert code == 0 and "nothing to send" in out


def test_alerts_test_and_unknown_channel(sqlite_app: AppContext) -> None:
    code, out = run(sqlite_app, "alerts", "test", "--channel", "mail", "--to", "me@example.cn")
    assert code == 0 and "sent" in out and "me@example.cn" in out
    assert len(list(sqlite_app.config.outbox_dir.glob("test_mail*.eml"))) == 1
    result = CliRunner().invoke(cli, ["--config", str(sqlite_app.config_dir), "alerts", "test", "--channel", "nope"])
    assert result.exit_code == 1 and "no channel 'nope'" in result.output and "alerts.yaml defines: mail" in result.output
    result = CliRunner().invoke(cli, ["--config", str(sqlite_app.config_dir), "alerts", "test", "--channel", "wecom"])
    assert result.exit_code == 1 and "TEST_WECOM_URL is not set" in result.output


def test_alerts_send_and_unknown_group(sqlite_app: AppContext) -> None:
    code, out = run(sqlite_app, "alerts", "send")
    assert code == 0 and "nothing to send" in out
    result = CliRunner().invoke(cli, ["--config", str(sqlite_app.config_dir), "digest", "--group", "nope"])
    assert result.exit_code == 1 and "no enabled recipient group 'nope'" in result.output and "Hint:" in result.output
