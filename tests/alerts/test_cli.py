"""The alert commands through click, on a real database and outbox."""

from __future__ import annotations

import json
import re
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


def test_alerts_send_says_what_waits_for_quiet_hours(config_dir: Path, tmp_path: Path) -> None:
    """In quiet hours a 较大 alert is held: `alerts send` says how many wait and when they go out."""
    from zoneinfo import ZoneInfo

    from alerts_testlib import ALERTS_YAML, make_app

    local_now = datetime.now(ZoneInfo("Asia/Shanghai"))
    ends = (local_now + timedelta(hours=2)).replace(second=0, microsecond=0)
    quiet = f"{local_now - timedelta(hours=1):%H:%M}-{ends:%H:%M}"  # the quiet hours are now
    app = make_app(
        config_dir, f"sqlite:///{tmp_path / 'q.db'}", alerts=ALERTS_YAML.replace('"22:00-07:00"', f'"{quiet}"')
    )
    with app.session() as session:
        seed = Seed(session)
        for n in range(2):
            seed.post(
                f"民警殴打群众{n}",
                "民警殴打群众。",
                at=local_now - timedelta(minutes=30),
                negative=True,
                risk=2,
                topics={"police": ["民警"]},
            )
    code, out = run(app, "alerts", "send")
    assert code == 0, out
    assert "nothing to send now" in out
    assert f"2 alert(s) wait for quiet hours ({quiet}) to end: they go out at {ends:%Y-%m-%d %H:%M} +08:00" in out
    assert "alerts at 重大 or above are sent during quiet hours" in out
    assert not list(app.config.outbox_dir.glob("alert_*.eml"))
    code, out = run(app, "deliveries", "retry")  # the same answer where admins retry by hand
    assert code == 0 and "nothing to send now" in out and "2 alert(s) wait for quiet hours" in out, out
    app.close()


def test_every_command_labels_times_in_the_configured_timezone(sqlite_app: AppContext) -> None:
    """`deliveries list`, `status` and `topics history` show the same time, labelled with its offset."""
    code, out = run(sqlite_app, "alerts", "test", "--channel", "mail", "--to", "me@example.cn")
    assert code == 0, out
    code, listed = run(sqlite_app, "deliveries", "list")
    (row,) = [line for line in listed.splitlines() if "test:mail:" in line]
    stamp = re.search(r"sent +(\d{4}-\d\d-\d\d \d\d:\d\d) \+08:00 test:mail:", row)
    assert stamp, row
    rows = [json.loads(line) for line in run(sqlite_app, "deliveries", "list", "--json")[1].splitlines()]
    sent_at = datetime.fromisoformat(rows[0]["sent_at"])
    assert sent_at.utcoffset() == timedelta(0)  # JSON: ISO 8601 in UTC, with its offset
    assert f"{sent_at.astimezone(timezone(timedelta(hours=8))):%Y-%m-%d %H:%M}" == stamp.group(1)
