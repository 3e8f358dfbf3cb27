"""Source health from a source's recent crawl runs: a pure function the daemon's health check and
the digest's coverage section both use.

A source is

- ``failing`` when its last ``fail_runs`` finished runs all failed (status ``failed`` or ``timeout``);
- ``empty`` when its latest successful runs stored 0 new posts for longer than it usually goes
  without: the streak is at least ``empty_runs`` long, and at least ``EMPTY_FACTOR`` times the
  usual gap between runs with new posts (``1 / share of runs with new posts`` among the up to
  ``history`` successful runs before the streak, of which there must be ``empty_runs`` or more).
  A feed polled every 30 minutes that gains posts 4 times a day (1 run in 12) is ``empty`` after
  36 empty runs (18 hours); one that gains posts on every run, after ``empty_runs`` runs;
- ``ok`` otherwise, or ``unknown`` with no finished run yet.

Runs still ``running`` are ignored. ``partial`` counts as a success (some posts were stored).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

EMPTY_FACTOR = 3
FAILED = frozenset({"failed", "timeout"})
SUCCEEDED = frozenset({"ok", "partial"})

HealthState = Literal["ok", "failing", "empty", "unknown"]

STATE_NAMES_ZH = {"ok": "正常", "failing": "连续采集失败", "empty": "连续无新内容", "unknown": "尚无采集记录"}


class RunLike(Protocol):
    """What ``source_health`` reads of a crawl run (a ``crawl_runs`` row fits)."""

    @property
    def status(self) -> str: ...
    @property
    def new(self) -> int: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def error_summary(self) -> str: ...


@dataclass(frozen=True)
class HealthStatus:
    """The verdict on one source, with the numbers behind it."""

    state: HealthState
    failures_in_row: int
    empty_in_row: int
    usual_new: float
    last_ok_at: datetime | None
    last_error: str

    @property
    def alert(self) -> bool:
        """Whether the admins should hear about it."""
        return self.state in ("failing", "empty")

    @property
    def label_zh(self) -> str:
        """The state in Chinese, for the digest's coverage section."""
        return STATE_NAMES_ZH[self.state]


def _streak(runs: Sequence[RunLike], matches: frozenset[str]) -> int:
    count = 0
    for run in runs:
        if run.status not in matches:
            break
        count += 1
    return count


def _empty_streak(successes: Sequence[RunLike]) -> int:
    count = 0
    for run in successes:
        if run.new:
            break
        count += 1
    return count


def source_health(runs: Sequence[RunLike], fail_runs: int = 3, empty_runs: int = 5, history: int = 20) -> HealthStatus:
    """Evaluate a source from its runs, NEWEST FIRST (e.g. the last 30 ``crawl_runs`` rows)."""
    finished = [r for r in runs if r.status in FAILED | SUCCEEDED]
    if not finished:
        return HealthStatus("unknown", 0, 0, 0.0, None, "")
    failures = _streak(finished, FAILED)
    successes = [r for r in finished if r.status in SUCCEEDED]
    empty = _empty_streak(successes)
    before = successes[empty : empty + history]
    usual = sum(r.new for r in before) / len(before) if before else 0.0
    with_posts = sum(1 for r in before if r.new)
    enough_history = len(before) >= empty_runs and with_posts > 0
    overdue = enough_history and empty >= max(empty_runs, math.ceil(EMPTY_FACTOR * len(before) / with_posts))
    last_ok = successes[0].started_at if successes else None
    last_error = next((r.error_summary for r in finished if r.status in FAILED and r.error_summary), "")
    if failures >= fail_runs:
        state: HealthState = "failing"
    elif overdue and failures == 0:
        state = "empty"
    else:
        state = "ok"
    return HealthStatus(state, failures, empty, round(usual, 2), last_ok, last_error)
