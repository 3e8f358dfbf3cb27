"""Pure functions of time: when a group's digest is due, which window it covers, quiet hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from config.alerts_model import WEEKDAYS, Group


def _hm(value: str) -> time:
    hour, minute = value.strip().split(":")
    return time(int(hour), int(minute))


def scheduled_send(group: Group, now: datetime, tz: tzinfo) -> datetime:
    """The latest time at or before ``now`` when ``group``'s digest was due (tz-aware, local)."""
    local = now.astimezone(tz)
    at = datetime.combine(local.date(), _hm(group.digest_time), tz)
    if at > local:
        at -= timedelta(days=1)
    if group.frequency == "weekly":
        back = (at.weekday() - WEEKDAYS.index(group.weekday)) % 7
        at -= timedelta(days=back)
    return at


def send_time_on(group: Group, day: date, tz: tzinfo) -> datetime:
    """The send time of ``group``'s digest on a given local day."""
    return datetime.combine(day, _hm(group.digest_time), tz)


def window_for(group: Group, send_at: datetime, window_hours: int) -> tuple[datetime, datetime]:
    """The window a digest sent at ``send_at`` covers: 24 h (``window_hours``) or 7 days (周报)."""
    length = timedelta(days=7) if group.frequency == "weekly" else timedelta(hours=window_hours)
    return send_at - length, send_at


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
