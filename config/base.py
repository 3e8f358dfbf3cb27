"""Shared pieces of the config models: a strict base model and small validated types."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""An id admins write in YAML: letters, digits, ``_ . -``, up to 64 characters."""

NonEmptyStr = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]

DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str | int) -> int:
    """``"30m"`` → 1800 seconds; an int is taken as seconds. Raises ValueError otherwise."""
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("must be a positive number of seconds")
        return value
    match = DURATION_RE.match(str(value))
    if not match:
        raise ValueError('must be a duration such as "90s", "30m", "6h" or "1d"')
    seconds = int(match.group(1)) * DURATION_UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo in YAML must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
