"""Send recorded deliveries: claim, transmit on the row's channel, mark sent or failed. Each row
runs on its own; one recipient's failure never stops the others.

Every claim, renewal and mark uses the time it happens (``Clock``: the run's ``now`` advanced by the
time elapsed since), never the run's start: a run that sends to fifty recipients on a slow server
for ten minutes claims the fiftieth at minute ten, so its lease is still running when a concurrent
``yuqing deliveries retry`` looks at it. A claim is renewed while its send is in progress."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from alerts import deliveries as dl
from alerts.channels import webhook
from alerts.channels.mail import send_email
from alerts.messages import note
from config import Config
from config.alerts_model import Channel
from storage.models import DeliveryRow
from yuqing.base.clock import local_time
from yuqing.base.errors import DeliveryError
from yuqing.base.text import redact, redacted_traceback

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    channel: str
    recipient: str
    payload: dict[str, Any]
    attempt: int = 0


def channel_by_id(config: Config, channel_id: str) -> Channel | None:
    return next((c for c in config.alerts.channels if c.id == channel_id), None)


def transmit(config: Config, job: Claimed, now: datetime, environ: Mapping[str, str]) -> None:
    """Send one recorded message; raises DeliveryError."""
    kind = job.payload.get("type", "email")
    if job.payload.get("error"):
        raise DeliveryError(str(job.payload["error"]), "see the log of the run that recorded it")
    if kind == "email":
        message = str(job.payload["eml"]).encode("utf-8")
        send_email(config.settings.mail, config.outbox_dir, job.key, job.recipient, message, environ)
        return
    channel = channel_by_id(config, job.channel)
    if channel is None:
        raise DeliveryError(f"channel {job.channel!r} is no longer in alerts.yaml")
    webhook.post(channel, job.payload["body"], environ, now)


class Clock:
    """The run's ``now`` advanced by the monotonic time elapsed since the run started: the real time
    of each step when ``now`` was the real time at the start (and still a deterministic base in tests)."""

    def __init__(self, now: datetime) -> None:
        self.base = now
        self.started = time.monotonic()

    def __call__(self) -> datetime:
        return self.base + timedelta(seconds=time.monotonic() - self.started)


def claim_lease(config: Config) -> timedelta:
    return timedelta(seconds=config.settings.daemon.seconds("delivery_lease"))


class Renewal:
    """Renews one claim every third of its lease while the send is in progress (a thread)."""

    def __init__(
        self, sessions: sessionmaker[Session], row_id: int, attempt: int, clock: Clock, lease: timedelta
    ) -> None:
        self.sessions, self.row_id, self.attempt, self.clock, self.lease = sessions, row_id, attempt, clock, lease
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"claim-{row_id}", daemon=True)

    def run(self) -> None:
        while not self.done.wait(self.lease.total_seconds() / 3):
            try:
                with self.sessions.begin() as session:
                    if not dl.renew_claim(session, self.row_id, self.attempt, self.clock(), self.lease):
                        logger.warning("delivery %d: the claim is no longer ours", self.row_id)
                        return
            except Exception as exc:  # noqa: BLE001 - the send goes on; the lease may run out
                logger.error("delivery %d: the claim could not be renewed: %s", self.row_id, exc)

    def __enter__(self) -> Renewal:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.thread.join()


def _claim(session: Session, config: Config, row_id: int, now: datetime) -> Claimed | dl.DeliveryResult | None:
    row = session.get(DeliveryRow, row_id)
    if row is None:
        return None
    channel = channel_by_id(config, row.channel)
    if row.kind == "alert" and channel is not None:
        until = dl.rate_limit_until(session, row, channel.rate_limit_per_hour, now)
        if until is not None:
            reason = (
                f"rate limit of {channel.rate_limit_per_hour}/h reached on {row.channel}; "
                f"waits until {local_time(until, config.settings.timezone)}"
            )
            dl.postpone(session, row_id, until, now, reason)
            return dl.DeliveryResult(row.id, row.key, row.channel, row.recipient, "pending", reason)
    attempt = dl.claim(session, row_id, now, claim_lease(config))
    if attempt is None:
        return None
    return Claimed(row.id, row.key, row.channel, row.recipient, dict(row.payload or {}), attempt)


def deliver_one(
    config: Config,
    sessions: sessionmaker[Session],
    row_id: int,
    now: datetime,
    environ: Mapping[str, str],
    clock: Clock | None = None,
) -> dl.DeliveryResult | None:
    """Claim, send and record one delivery; ``None`` when another process has it. ``now``: the
    time the run started (message dates); ``clock``: the time of each step (claim, mark)."""
    clock = clock or Clock(now)
    with sessions.begin() as session:
        claimed = _claim(session, config, row_id, clock())
    if not isinstance(claimed, Claimed):
        return claimed
    error = ""
    try:
        with Renewal(sessions, row_id, claimed.attempt, clock, claim_lease(config)):
            transmit(config, claimed, now, environ)
    except DeliveryError as exc:
        error = redact(exc.message)
    except Exception as exc:  # noqa: BLE001 — a bug on one recipient must not stop the others
        error = redact(f"{type(exc).__name__}: {exc}")
        logger.error(
            "delivery %s to %s failed unexpectedly: %s", claimed.key, claimed.recipient, redacted_traceback(exc)
        )
    warning = note(claimed.payload)
    with sessions.begin() as session:
        if error:
            dl.mark_failed(session, row_id, clock(), f"{error}; {warning}" if warning else error)
        else:
            dl.mark_sent(session, row_id, clock(), warning)
    status = "failed" if error else "sent"
    logger.info(
        "delivery %s %s → %s: %s %s%s",
        claimed.key,
        claimed.channel,
        claimed.recipient,
        status,
        error,
        f" ({warning})" if warning else "",
    )
    extras = {"warning": warning} if warning else {}
    return dl.DeliveryResult(claimed.id, claimed.key, claimed.channel, claimed.recipient, status, error, extras)


def deliver_due(
    config: Config,
    sessions: sessionmaker[Session],
    now: datetime,
    environ: Mapping[str, str],
    ids: Sequence[int] | None = None,
) -> list[dl.DeliveryResult]:
    """Send every due delivery (or the due ones among ``ids``)."""
    clock = Clock(now)
    with sessions.begin() as session:
        due = dl.due_ids(session, now, ids)
    results = []
    for row_id in due:
        result = deliver_one(config, sessions, row_id, now, environ, clock)
        if result is not None:
            results.append(result)
    return results
