"""The alert commands through click, on a real database and outbox."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alerts_testlib import Seed, seed_day
from click.testing import CliRunner

from storage.context import AppContext
from yuqing.cli import cli

COMMANDS = [
    ["digest"],
    ["alerts"],
    ["alerts", "test"],
    ["alerts", "send"],
    ["deliveries"],
    ["deliveries", "list"],
    ["deliveries", "retry"],
]


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
    code, out = run(
        sqlite_app, "digest", "--group", "press-office", "--preview", str(preview), "--docx", str(tmp_path / "d.docx")
    )
    assert code == 0, out
    assert "press-office: 舆情日报" in out
    html = preview.read_text(encoding="utf-8")
    assert "近7日相关与负面信息" in html and "<img" not in html and "<script" not in html
    assert (tmp_path / "d.docx").read_bytes()[:2] == b"PK"
    assert not list(sqlite_app.config.outbox_dir.glob("*.eml"))  # a preview sends nothing
    code, out = run(sqlite_app, "digest", "--send")
    assert code == 0 and out.count("sent ") == 3, out
    code, out = run(sqlite_app, "digest", "--send")  # a repeat says when and to whom it went
    assert code == 0 and "nothing to send" not in out, out
    assert "press-office: digest:" in out and "already sent at " in out and "analyst@example.cn" in out
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
    assert (
        result.exit_code == 1 and "no channel 'nope'" in result.output and "alerts.yaml defines: mail" in result.output
    )
    result = CliRunner().invoke(cli, ["--config", str(sqlite_app.config_dir), "alerts", "test", "--channel", "wecom"])
    assert result.exit_code == 1 and "TEST_WECOM_URL is not set" in result.output


def test_alerts_send_and_unknown_group(sqlite_app: AppContext) -> None:
    code, out = run(sqlite_app, "alerts", "send")
    assert code == 0 and "nothing to send" in out
    result = CliRunner().invoke(cli, ["--config", str(sqlite_app.config_dir), "digest", "--group", "nope"])
    assert result.exit_code == 1 and "no enabled recipient group 'nope'" in result.output and "Hint:" in result.output


def test_digest_for_a_given_date_and_a_weekly_group(config_dir: Path, tmp_path: Path) -> None:
    from alerts_testlib import ALERTS_YAML, SEND_AT, make_app

    weekly = ALERTS_YAML.replace(
        "admins:",
        "  - {id: leaders, name: 分管领导, emails: [leader@example.cn], channels: [mail], "
        'frequency: weekly, weekday: mon, digest_time: "09:00"}\nadmins:',
    )
    app = make_app(config_dir, f"sqlite:///{tmp_path / 'w.db'}", alerts=weekly)
    with app.session() as session:
        seed_day(Seed(session), SEND_AT)
    code, out = run(app, "digest", "--date", "2026-11-27", "--group", "press-office", "--send")
    assert code == 0 and "digest:2026-11-27:press-office" in out and out.count("sent ") == 2
    code, out = run(app, "digest", "--date", "2026-11-30", "--group", "leaders")
    assert code == 0 and "leaders: 舆情周报 2026-11-23 09:00 至 2026-11-30 09:00" in out and "负面8" in out
    code, out = run(app, "digest", "--date", "2026-11-30", "--group", "leaders", "--json")
    summary = json.loads(out)
    assert summary["counts"]["负面"] == 8 and summary["coverage"] == {"中央级": 2, "省级": 3, "市级": 6}
    assert summary["start"] == "2026-11-23T09:00:00+08:00" and not summary["zero"]
    app.close()


def test_digest_json_with_a_preview_keeps_stdout_json(sqlite_app: AppContext, tmp_path: Path) -> None:
    """Scripts read ``digest --json`` line by line: the preview's path goes to stderr."""
    preview = tmp_path / "out.html"
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(sqlite_app.config_dir),
            "digest",
            "--group",
            "press-office",
            "--json",
            "--preview",
            str(preview),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["group"] == "press-office"
    assert f"preview: {preview}" in result.stderr and preview.exists()
