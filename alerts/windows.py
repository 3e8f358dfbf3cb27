"""Pure functions of time: which period a group's digest covers, quiet hours, surge slots.

A digest is named by the local date its period ends on (its report date D); the period ends at the
group's boundary (``period_end``, by default its ``digest_time``, 08:00): a daily digest for D covers
D-1 08:00 to D 08:00. Posts belong to a period by their post time (``storage.freshness.post_time``:
published, else collected)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from config.alerts_model import WEEKDAYS, Group


def _hm(value: str) -> time:
    hour, minute = value.strip().split(":")
    return time(int(hour), int(minute))


def period_boundary(group: Group) -> time:
    """The local time of day a group's digest period ends: ``period_end``, else its ``digest_time``."""
    return _hm(group.period_end or group.digest_time)


def latest_period_end(group: Group, now: datetime, tz: tzinfo) -> datetime:
    """The end of the latest digest period that has ended at ``now`` (tz-aware, local): the last
    boundary at or before ``now`` (weekly groups: the last one on ``weekday``). The daemon's digest
    job, run at ``digest_time``, sends this period: the one that just ended."""
    local = now.astimezone(tz)
    at = datetime.combine(local.date(), period_boundary(group), tz)
    if at > local:
        at -= timedelta(days=1)
    if group.frequency == "weekly":
        back = (at.weekday() - WEEKDAYS.index(group.weekday)) % 7
        at -= timedelta(days=back)
    return at


def period_end_on(group: Group, day: date, tz: tzinfo) -> datetime:
    """The end of the period of the digest dated ``day`` (the report date): ``day`` at the boundary.
    A daily digest for D covers D-1 08:00 to D 08:00 with the default boundary."""
    return datetime.combine(day, period_boundary(group), tz)


def window_for(group: Group, end: datetime, window_hours: int) -> tuple[datetime, datetime]:
    """The window of a digest period ending at ``end``: 24 h (``window_hours``) or 7 days (周报)."""
    length = timedelta(days=7) if group.frequency == "weekly" else timedelta(hours=window_hours)
    return end - length, end


def quiet_until(now: datetime, quiet_hours: str | None, tz: tzinfo) -> datetime | None:
    """The end of the quiet period ``now`` falls in (``"22:00-07:00"``), or ``None`` outside it."""
    if not quiet_hours:
        return None
    start_s, end_s = quiet_hours.split("-")
    start, end = _hm(start_s), _hm(end_s)
    local = now.astimezone(tz)
    clock = local.time()
    if start == end:
        return None
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    until = datetime.combine(local.date(), end, tz)
    return until if until > local else until + timedelta(days=1)


def surge_slot(now: datetime, window_hours: int, tz: tzinfo) -> str:
    """A label of the ``window_hours`` slot of the day ``now`` falls in, e.g. ``2026-11-27T06``."""
    local = now.astimezone(tz)
    hour = (local.hour // window_hours) * window_hours if window_hours <= 24 else 0
    return f"{local.date().isoformat()}T{hour:02d}"
