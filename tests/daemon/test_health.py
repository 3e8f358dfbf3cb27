"""source_health: failing and empty streaks against what a source usually returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from storage.health import source_health

T0 = datetime(2026, 11, 27, tzinfo=timezone.utc)


@dataclass
class Run:
    status: str
    new: int
    started_at: datetime
    error_summary: str = ""


def runs(*spec: tuple[str, int]) -> list[Run]:
    """Newest first."""
    return [
        Run(status, new, T0 - timedelta(hours=i), f"err {i}" if status == "failed" else "")
        for i, (status, new) in enumerate(spec)
    ]


def test_no_runs_is_unknown() -> None:
    assert source_health([]).state == "unknown"
    assert source_health(runs(("running", 0))).state == "unknown"


def test_failures_in_a_row_alert() -> None:
    status = source_health(runs(("failed", 0), ("timeout", 0), ("failed", 0), ("ok", 4)), fail_runs=3)
    assert status.state == "failing" and status.alert and status.failures_in_row == 3
    assert status.last_error == "err 0" and status.last_ok_at == T0 - timedelta(hours=3)
    assert status.label_zh == "连续采集失败"


def test_a_success_breaks_the_failure_streak() -> None:
    assert source_health(runs(("failed", 0), ("failed", 0), ("ok", 1), ("failed", 0)), fail_runs=3).state == "ok"


def test_empty_streak_alerts_only_where_posts_are_usual() -> None:
    usual = runs(*([("ok", 0)] * 5 + [("ok", 6), ("partial", 3), ("ok", 2), ("ok", 5), ("ok", 4)]))
    status = source_health(usual, empty_runs=5)
    assert status.state == "empty" and status.empty_in_row == 5 and status.usual_new == 4.0
    assert source_health(usual[1:], empty_runs=5).state == "ok"  # 4 empty runs: not yet
    never = runs(*([("ok", 0)] * 30))
    assert source_health(never, empty_runs=5).state == "ok"  # a source that never has posts


def test_empty_needs_history_and_scales_with_the_usual_gap() -> None:
    short = runs(*([("ok", 0)] * 6 + [("ok", 3)]))
    assert source_health(short, empty_runs=5).state == "ok"  # one run before the streak proves nothing
    # new posts on 1 run in 4 (a feed polled faster than it updates): empty only after 12 runs
    sparse = [("ok", 5), ("ok", 0), ("ok", 0), ("ok", 0)] * 5
    assert source_health(runs(*([("ok", 0)] * 11 + sparse)), empty_runs=5).state == "ok"
    assert source_health(runs(*([("ok", 0)] * 12 + sparse)), empty_runs=5).state == "empty"


def test_running_rows_and_failures_between_empty_runs() -> None:
    mixed = runs(
        ("running", 0), ("ok", 0), ("failed", 0), ("ok", 0), ("ok", 0), ("ok", 0), ("ok", 0), *([("ok", 9)] * 5)
    )
    status = source_health(mixed, fail_runs=3, empty_runs=5)
    assert status.empty_in_row == 5 and status.failures_in_row == 0 and status.state == "empty"
