"""``alerts.yaml``: who gets which digest when, immediate alerts, channels and thresholds."""

from __future__ import annotations

import re
import urllib.parse
from typing import Literal

from pydantic import Field, field_validator, model_validator

from config.base import Identifier, NonEmptyStr, StrictModel

TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


def _check_time(value: str) -> str:
    if not TIME_RE.match(value):
        raise ValueError('must be a time of day "HH:MM", e.g. "08:00"')
    return value


WEEKLY_RE = re.compile(r"^\s*(mon|tue|wed|thu|fri|sat|sun)\s+(\S+)\s*$", re.IGNORECASE)
MONTHLY_RE = re.compile(r"^\s*(\d{1,2})\s+(\S+)\s*$")
WEEKLY_HINT = 'must be a weekday (mon … sun) and a local time "HH:MM", e.g. "mon 09:00"'
MONTHLY_HINT = 'must be a day of the month (1-28, so that every month has it) and a local time "HH:MM", e.g. "1 09:00"'


def parse_weekly(value: str) -> tuple[str, str]:
    """``"Mon 09:00"`` → ``("mon", "09:00")`` (a group's ``weekly_report``); ValueError with a hint."""
    match = WEEKLY_RE.match(value)
    if not match or not TIME_RE.match(match.group(2)):
        raise ValueError(f"{value!r} {WEEKLY_HINT}")
    return match.group(1).lower(), match.group(2)


def parse_monthly(value: str) -> tuple[int, str]:
    """``"1 09:00"`` → ``(1, "09:00")`` (a group's ``monthly_report``); ValueError with a hint."""
    match = MONTHLY_RE.match(value)
    if not match or not 1 <= int(match.group(1)) <= 28 or not TIME_RE.match(match.group(2)):
        raise ValueError(f"{value!r} {MONTHLY_HINT}")
    return int(match.group(1)), match.group(2)


def webhook_url_problem(value: str) -> str | None:
    """Why a webhook URL (from a channel's ``url_env``) cannot be used, or ``None``. Surrounding
    whitespace is allowed (it is stripped); the message never repeats the URL (it holds a token)."""
    url = value.strip()
    if not url:
        return "is empty"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "contains a space or control character inside the URL"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 — raises ValueError on a bad port
    except ValueError:
        return "is not a valid URL (check the host and port)"
    if parts.scheme.lower() not in ("https", "http"):
        return 'must start with "https://"'
    if not parts.hostname:
        return "has no host name"
    return None


class Channel(StrictModel):
    """A delivery channel. Webhook URLs and signing secrets come from environment variables
    named by ``url_env`` and ``secret_env``."""

    id: Identifier
    type: Literal["email", "wecom", "dingtalk", "feishu", "slack"]
    url_env: str | None = None
    secret_env: str | None = None
    rate_limit_per_hour: int = Field(30, ge=1, le=10_000)

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> Channel:
        if self.type != "email" and not self.url_env:
            raise ValueError(
                f'a "{self.type}" channel needs "url_env": the environment variable holding its webhook URL'
            )
        return self


class Group(StrictModel):
    """A recipient group: one unit's people, what they receive and how often."""

    id: Identifier
    name: NonEmptyStr
    emails: list[str] = Field(default_factory=list)
    channels: list[Identifier] = Field(default_factory=list)
    topics: list[Identifier] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    frequency: Literal["daily", "weekly"] = "daily"
    digest_time: str = "08:00"
    period_end: str | None = None
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    send_empty: bool | None = None
    immediate: bool = True
    enabled: bool = True
    weekly_report: str | None = None  # "mon 09:00": the 周报 of the last full week, sent then
    monthly_report: str | None = None  # "1 09:00": the 月报 of the last calendar month, sent then

    _time = field_validator("digest_time", "period_end")(classmethod(lambda cls, v: v if v is None else _check_time(v)))

    @field_validator("weekly_report")
    @classmethod
    def _weekly(cls, value: str | None) -> str | None:
        if value is not None:
            parse_weekly(value)
        return value

    @field_validator("monthly_report")
    @classmethod
    def _monthly(cls, value: str | None) -> str | None:
        if value is not None:
            parse_monthly(str(value))
        return value

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        bad = [e for e in value if not EMAIL_RE.match(e)]
        if bad:
            raise ValueError(f"not an email address: {', '.join(bad)}")
        return value


class DigestSettings(StrictModel):
    """The daily digest (每天一报)."""

    window_hours: int = Field(24, ge=1, le=24 * 31)
    send_empty: bool = True
    max_items: int = Field(20, ge=1, le=500)
    excerpt_chars: int = Field(120, ge=20, le=2000)
    docx: bool = False
    mask_pii: bool = True
    chart: bool = True
    title: NonEmptyStr = "舆情日报"


class RiskSettings(StrictModel):
    """Names of the three risk levels, lowest first, and the scores at which they start."""

    names: list[NonEmptyStr] = Field(default_factory=lambda: ["一般", "较大", "重大"], min_length=3, max_length=3)
    thresholds: list[float] = Field(default_factory=lambda: [0.3, 0.55, 0.8], min_length=3, max_length=3)

    @field_validator("thresholds")
    @classmethod
    def _ascending(cls, value: list[float]) -> list[float]:
        if value != sorted(value) or not all(0 <= v <= 1 for v in value):
            raise ValueError("must be three ascending numbers between 0 and 1")
        return value


class ImmediateSettings(StrictModel):
    """Alerts sent at once after an analysis run."""

    enabled: bool = True
    min_level: NonEmptyStr = "较大"
    quiet_hours: str | None = "22:00-07:00"
    bypass_level: NonEmptyStr = "重大"
    lookback_hours: int = Field(24, ge=1, le=24 * 7)

    @field_validator("quiet_hours")
    @classmethod
    def _range(cls, value: str | None) -> str | None:
        if value is not None:
            parts = value.split("-")
            if len(parts) != 2:
                raise ValueError('must be "HH:MM-HH:MM", e.g. "22:00-07:00"')
            for part in parts:
                _check_time(part.strip())
        return value


class SurgeSettings(StrictModel):
    """A topic's negative volume in the last ``window_hours`` against its daily baseline."""

    enabled: bool = True
    window_hours: int = Field(6, ge=1, le=72)
    baseline_days: int = Field(7, ge=1, le=90)
    factor: float = Field(3.0, gt=1)
    min_count: int = Field(5, ge=1)


class AlertsFile(StrictModel):
    """Top level of ``alerts.yaml``."""

    digest: DigestSettings = DigestSettings()
    risk: RiskSettings = RiskSettings()
    immediate: ImmediateSettings = ImmediateSettings()
    surge: SurgeSettings = SurgeSettings()
    channels: list[Channel] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    admins: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> AlertsFile:
        channel_ids = [c.id for c in self.channels]
        if len(set(channel_ids)) != len(channel_ids):
            raise ValueError("channel ids must be unique")
        group_ids = [g.id for g in self.groups]
        if len(set(group_ids)) != len(group_ids):
            raise ValueError("group ids must be unique")
        for level in (self.immediate.min_level, self.immediate.bypass_level):
            if level not in self.risk.names:
                raise ValueError(f'risk level "{level}" is not one of risk.names: {", ".join(self.risk.names)}')
        return self
