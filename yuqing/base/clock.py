"""The clock. Only entry points (a CLI command, a job, a spider callback) read it; everything below
takes ``now`` as an argument, so yesterday's digest is testable without freezing time."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def local_time(when: datetime | None, tz: str | tzinfo, seconds: bool = False) -> str:
    """A time as the CLI shows it: in the configured timezone, labelled with its UTC offset
    (``2026-12-01 08:00 +08:00``); ``-`` for none. A naive time is UTC (SQLite returns them so)."""
    if when is None:
        return "-"
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    aware = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    local = aware.astimezone(zone)
    offset = local.strftime("%z")
    shown = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{shown} {offset[:3]}:{offset[3:]}"


def iso_utc(when: datetime | None) -> str | None:
    """A time for JSON output: ISO 8601 in UTC with its offset (``2026-12-01T00:00:00+00:00``)."""
    if when is None:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()
