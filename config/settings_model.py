"""``settings.yaml``: where state lives, how to reach the database and the mail server."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator

from config.base import StrictModel, parse_duration

SMTP_PASSWORD_ENV = "YUQING_SMTP_PASSWORD"


class SmtpSettings(StrictModel):
    """An SMTP server; the password only ever comes from ``YUQING_SMTP_PASSWORD``. ``ca_file``
    trusts a private CA (an intranet mail server) in addition to the system's. A login (``username``)
    needs ``security: ssl`` or ``starttls``: the password is never sent in clear unless
    ``allow_plaintext_auth: true`` says so (a relay on the same host)."""

    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "none"
    allow_plaintext_auth: bool = False
    username: str | None = None
    timeout: float = Field(30.0, gt=0)
    ca_file: str | None = None

    @field_validator("username")
    @classmethod
    def _no_password_in_clear(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and info.data.get("security") == "none" and not info.data.get("allow_plaintext_auth"):
            raise ValueError(
                f'with "security: none" the password ({SMTP_PASSWORD_ENV}) would cross the network in clear; '
                'use "security: starttls" (port 587) or "security: ssl" (port 465), or, for a relay on this '
                'host only, write "allow_plaintext_auth: true" to accept the risk'
            )
        return value


class MailSettings(StrictModel):
    """How email leaves: ``outbox`` writes ``.eml`` files into the data dir, ``smtp`` sends."""

    transport: Literal["outbox", "smtp"] = "outbox"
    from_addr: str = "yuqing@localhost"
    from_name: str = "舆情监测"
    smtp: SmtpSettings = SmtpSettings()
    outbox_dir: str | None = None

    @field_validator("from_addr")
    @classmethod
    def _address(cls, value: str) -> str:
        local, at, domain = value.partition("@")
        if not (local and at and domain) or any(ch.isspace() for ch in value) or not value.isascii():
            raise ValueError(f'must be a plain email address such as "yuqing@example.cn" (got "{value}")')
        return value


class AnalysisSettings(StrictModel):
    """Knobs of the analysis job."""

    negative_threshold: float = Field(0.5, ge=0, le=1)
    batch_size: int = Field(500, ge=1, le=100_000)
    reanalyze_days: int = Field(3, ge=0, le=3650)
    to_simplified: bool = True
    segmenter: Literal["rjieba", "jieba"] = "rjieba"
    relevance_prior: float = Field(0.5, gt=0, le=1000)
    relevance_min_labels: int | None = Field(None, ge=2, le=100_000)  # no longer used: labels count from the first
    reason_terms: int = Field(5, ge=0, le=50)


class FreshnessSettings(StrictModel):
    """What counts as news: a post published more than ``max_age`` (``"3d"``, ``"36h"``) before it was
    collected is backlog (补采历史信息): stored and searchable, never alerted or counted as news."""

    max_age: str = "3d"

    @field_validator("max_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def max_age_delta(self) -> timedelta:
        return timedelta(seconds=parse_duration(self.max_age))


class CrawlSettings(StrictModel):
    """Defaults for every crawl; a source may override some of them."""

    user_agent: str = "yuqing/0.1 (public-opinion monitor; +https://github.com/yuqing-project/yuqing)"
    obey_robots: bool = True
    timeout: float = Field(30.0, gt=0)
    retries: int = Field(3, ge=0, le=20)
    concurrency: int = Field(8, ge=1, le=256)
    delay: float = Field(0.5, ge=0)
    max_page_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    allow_private_addresses: bool = False
    subprocess_timeout: int = Field(1800, ge=10)


class DaemonSettings(StrictModel):
    """The scheduled daemon (``yuqing run``); durations are written like ``"90s"``, ``"5m"``, ``"1h"``."""

    analyze_every: str = "5m"
    health_check_every: str = "30m"
    retry_every: str = "5m"
    retention_days: int = Field(180, ge=1)
    retention_time: str = "03:30"
    fail_runs_alert: int = Field(3, ge=1)
    empty_runs_alert: int = Field(5, ge=1)
    metrics_port: int | None = Field(None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    workers: int = Field(8, ge=2, le=64)
    lease_ttl: str = "60s"
    reload_poll: str = "2s"
    shutdown_timeout: str = "30s"
    crawl_kill_grace: str = "10s"
    digest_misfire_grace: str = "6h"
    stage_processes: bool = True
    stage_timeout: str = "30m"
    delivery_lease: str = "90s"

    @field_validator(
        "analyze_every",
        "health_check_every",
        "retry_every",
        "lease_ttl",
        "reload_poll",
        "shutdown_timeout",
        "crawl_kill_grace",
        "digest_misfire_grace",
        "stage_timeout",
        "delivery_lease",
    )
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("retention_time")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        if not re.match(r"^([01]?\d|2[0-3]):[0-5]\d$", value):
            raise ValueError('must be a time of day "HH:MM", e.g. "03:30"')
        return value

    @field_validator("metrics_host")
    @classmethod
    def _loopback(cls, value: str) -> str:
        if value not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError(
                "metrics are served on the loopback interface only: use 127.0.0.1 or ::1 "
                "(publish them through a reverse proxy if needed)"
            )
        return value

    def seconds(self, name: str) -> int:
        """A duration field in seconds, e.g. ``seconds("lease_ttl")``."""
        return parse_duration(getattr(self, name))


class WebSettings(StrictModel):
    """The analysts' console (``yuqing web``; also started by ``yuqing run`` when ``enabled``)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8600, ge=1, le=65535)
    base_url: str | None = None  # "https://yuqing.example.gov.cn": digests and alerts link each item to the console
    secure_cookies: Literal["auto", "always"] = "auto"  # auto: Secure when the request came over https

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError('must be an http(s) URL, e.g. "https://yuqing.example.gov.cn"')
        return value.rstrip("/") if value else value


class Settings(StrictModel):
    """Top level of ``settings.yaml``."""

    data_dir: str | None = None
    database_url: str | None = None
    redis_url: str | None = None
    timezone: str = "Asia/Shanghai"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["plain", "json"] = "plain"
    mail: MailSettings = MailSettings()
    crawl: CrawlSettings = CrawlSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    freshness: FreshnessSettings = FreshnessSettings()
    daemon: DaemonSettings = DaemonSettings()
    web: WebSettings = WebSettings()

    @property
    def stale_run_seconds(self) -> int:
        """How long after its start a ``running`` crawl run is surely abandoned: the crawl's own
        timeout, the kill grace and a minute's margin (no live crawl can be that old)."""
        return self.crawl.subprocess_timeout + self.daemon.seconds("crawl_kill_grace") + 60

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'unknown timezone "{value}"; use an IANA name such as "Asia/Shanghai"') from None
        return value
