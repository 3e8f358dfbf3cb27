"""The clock. Only entry points (a CLI command, a job, a spider callback) read it; everything below
takes ``now`` as an argument, so yesterday's digest is testable without freezing time."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)
