"""The daemon schedules each group's weekly and monthly reports from alerts.yaml; a mistyped schedule
is a config error with file, line and the syntax that works."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from config import load_config
from yuqing.base.errors import ConfigError
from yuqing.daemon.plan import plan_jobs

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)  # Friday 09:00 Asia/Shanghai
SCHEDULE = '    digest_time: "08:00"\n'


def schedule(config_dir: Path, lines: str) -> None:
    path = config_dir / "alerts.yaml"
    text = path.read_text(encoding="utf-8")
    assert SCHEDULE in text
    path.write_text(text.replace(SCHEDULE, SCHEDULE + lines, 1), encoding="utf-8")


def test_report_jobs_planned(config_dir: Path) -> None:
    schedule(config_dir, '    weekly_report: "Mon 09:00"\n    monthly_report: "1 09:30"\n')
    specs = {s.id: s for s in plan_jobs(load_config(config_dir), str(config_dir), NOW)}
    week, month = specs["report:week:press-office"], specs["report:month:press-office"]
    assert week.args == (str(config_dir), "week", "press-office") and week.func.endswith(":report_job")
    assert month.args == (str(config_dir), "month", "press-office") and month.func == week.func
    assert week.name == "report:week:press-office mon 09:00 (Asia/Shanghai)"
    assert month.name == "report:month:press-office day 1 09:30 (Asia/Shanghai)"
    first_week = week.make_trigger().get_next_fire_time(None, NOW)
    first_month = month.make_trigger().get_next_fire_time(None, NOW)
    assert first_week is not None and first_week.isoformat() == "2026-11-30T09:00:00+08:00"
    assert first_month is not None and first_month.isoformat() == "2026-12-01T09:30:00+08:00"


def test_no_report_jobs_unless_configured(config_dir: Path) -> None:
    specs = plan_jobs(load_config(config_dir), str(config_dir), NOW)
    assert not [s.id for s in specs if s.id.startswith("report:")]


@pytest.mark.parametrize(
    ("lines", "key", "hint"),
    [
        ('    weekly_report: "Monday 9am"\n', "weekly_report", 'e.g. "mon 09:00"'),
        ('    weekly_report: "mon 25:00"\n', "weekly_report", "mon … sun"),
        ('    monthly_report: "31 09:00"\n', "monthly_report", "1-28, so that every month has it"),
        ('    monthly_report: "mon 09:00"\n', "monthly_report", 'e.g. "1 09:00"'),
    ],
)
def test_bad_report_schedule_names_file_line_and_syntax(config_dir: Path, lines: str, key: str, hint: str) -> None:
    schedule(config_dir, lines)
    line = config_dir.joinpath("alerts.yaml").read_text(encoding="utf-8").splitlines().index(lines.rstrip("\n")) + 1
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir)
    issues = [str(i) for i in caught.value.issues]
    assert len(issues) == 1 and f"alerts.yaml:{line}: " in issues[0] and key in issues[0], issues
    assert hint in issues[0]
