"""Exactly-once bookkeeping in the ``deliveries`` table.

Every message is recorded (``pending``) under its idempotency key, channel and recipient BEFORE
it is sent; the unique constraint makes a second recording of the same key a no-op. Sending
first *claims* the row (an UPDATE that only one process can win, which also pushes
``next_attempt_at`` out by a lease counted from the moment of the claim), renews that lease while
the send is in progress (``renew_claim``), then marks it ``sent`` or ``failed`` (with exponential
backoff) at the real time. A second sender can only take a row whose lease has run out, i.e. whose
sender stopped renewing it (it was killed).

The one window that remains: a sender killed after the server accepted the message and before
``mark_sent`` committed. The row is retried once its lease ends and the recipient gets the message
a second time, with the same Message-ID (mail clients and servers that deduplicate drop it). No
protocol closes this window: SMTP has no way to ask the server whether it accepted a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, cast

from sqlalchemy import CursorResult, and_, distinct, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import DeliveryRow
from storage.sql import insert_ignore
from yuqing.base.text import redact

LEASE = timedelta(seconds=90)  # default of daemon.delivery_lease
BASE_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)
KEY_COLUMNS = ("key", "channel", "recipient")  # the unique key: one delivery per message and recipient
MAX_ATTEMPTS = 8
RETRYABLE = ("pending", "failed")
CANCELLED = "cancelled"
"""Not sent and never will be (an analyst's correction withdrew it); kept, with the reason, as history."""


@dataclass
class Outgoing:
    """One message to record: the same (key, channel, recipient) is only ever sent once."""

    key: str
    kind: str
    channel: str
    recipient: str
    subject: str
    payload: dict[str, Any]
    not_before: datetime | None = None
    note: str = ""  # what went wrong building it (an attachment left out): shown until it is sent


@dataclass
class DeliveryResult:
    """What happened to one delivery in this run."""

    id: int
    key: str
    channel: str
    recipient: str
    status: str
    error: str = ""
    extras: dict[str, Any] = field(default_factory=dict)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after the 1st, 2nd, 3rd … failure, at most 6 hours."""
    return min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def record(session: Session, outgoing: Iterable[Outgoing], now: datetime) -> list[int]:
    """Record messages as pending (those recorded before are left alone); returns new row ids."""
    ids = []
    for out in outgoing:
        stmt = (
            insert_ignore(session.get_bind().dialect.name, DeliveryRow, KEY_COLUMNS)
            .values(
                key=out.key,
                kind=out.kind,
                channel=out.channel,
                recipient=out.recipient,
                subject=out.subject,
                status="pending",
                attempts=0,
                last_error=redact(out.note)[:2000],
                created_at=now,
                updated_at=now,
                next_attempt_at=out.not_before,
                sent_at=None,
                payload=out.payload,
            )
            .returning(DeliveryRow.id)
        )
        new_id = session.execute(stmt).scalar_one_or_none()
        if new_id is not None:
            ids.append(new_id)
    return ids


def known_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of these keys have been recorded already (on any channel)."""
    if not keys:
        return set()
    return set(session.scalars(select(DeliveryRow.key).distinct().where(DeliveryRow.key.in_(list(keys)))))


def by_key(session: Session, key: str) -> list[DeliveryRow]:
    """Every delivery recorded under ``key`` (one per channel and recipient), oldest first."""
    return list(session.scalars(select(DeliveryRow).where(DeliveryRow.key == key).order_by(DeliveryRow.id)))


def due_ids(session: Session, now: datetime, ids: Sequence[int] | None = None) -> list[int]:
    """Pending or failed rows whose time has come (and that have attempts left)."""
    stmt = (
        select(DeliveryRow.id)
        .where(
            DeliveryRow.status.in_(RETRYABLE),
            DeliveryRow.attempts < MAX_ATTEMPTS,
            or_(DeliveryRow.next_attempt_at.is_(None), DeliveryRow.next_attempt_at <= now),
        )
        .order_by(DeliveryRow.id)
    )
    if ids is not None:
        stmt = stmt.where(DeliveryRow.id.in_(list(ids)))
    return list(session.scalars(stmt))


def next_retry_at(session: Session, now: datetime, horizon: datetime) -> datetime | None:
    """When the first open delivery may be sent (``now`` for one due already), among those due
    before ``horizon`` (e.g. claims of a sender that was cut off); ``None`` when there is none."""
    stmt = select(DeliveryRow.next_attempt_at).where(
        DeliveryRow.status.in_(RETRYABLE),
        DeliveryRow.attempts < MAX_ATTEMPTS,
        or_(DeliveryRow.next_attempt_at.is_(None), DeliveryRow.next_attempt_at <= horizon),
    )
    times = [t or now for t in session.scalars(stmt)]
    return min(times) if times else None


def claim(session: Session, row_id: int, now: datetime, lease: timedelta = LEASE) -> int | None:
    """Take a due row for sending until ``now + lease`` (``now``: the time of this claim, not of the
    run's start); returns the claim's attempt number (its token for ``renew_claim``), or ``None``
    when another process took it or it is not due."""
    stmt = (
        update(DeliveryRow)
        .where(
            DeliveryRow.id == row_id,
            DeliveryRow.status.in_(RETRYABLE),
            or_(DeliveryRow.next_attempt_at.is_(None), DeliveryRow.next_attempt_at <= now),
        )
        .values(attempts=DeliveryRow.attempts + 1, next_attempt_at=now + lease, updated_at=now)
        .returning(DeliveryRow.attempts)
    )
    attempt: int | None = session.execute(stmt).scalar_one_or_none()
    return attempt


def renew_claim(session: Session, row_id: int, attempt: int, now: datetime, lease: timedelta = LEASE) -> bool:
    """Extend our claim (``attempt``: what ``claim`` returned) while a long send is in progress;
    False when the row is no longer ours."""
    stmt = (
        update(DeliveryRow)
        .where(DeliveryRow.id == row_id, DeliveryRow.status.in_(RETRYABLE), DeliveryRow.attempts == attempt)
        .values(next_attempt_at=now + lease)
    )
    return cast(CursorResult[Any], session.execute(stmt)).rowcount == 1


def mark_sent(session: Session, row_id: int, now: datetime, note: str = "") -> None:
    """Sent; ``note`` keeps what went wrong on the way (e.g. an attachment left out) visible."""
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == row_id)
        .values(status="sent", sent_at=now, updated_at=now, next_attempt_at=None, last_error=redact(note)[:2000])
    )


def mark_failed(session: Session, row_id: int, now: datetime, error: str) -> None:
    """Failed: retried after a backoff that doubles with each attempt, until MAX_ATTEMPTS."""
    attempts = session.execute(select(DeliveryRow.attempts).where(DeliveryRow.id == row_id)).scalar_one()
    retry_at = now + backoff(attempts) if attempts < MAX_ATTEMPTS else None
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == row_id)
        .values(status="failed", last_error=redact(error)[:2000], updated_at=now, next_attempt_at=retry_at)
    )


def postpone(session: Session, row_id: int, until: datetime, now: datetime, reason: str) -> None:
    """Leave a row pending until ``until`` without counting an attempt (rate limit, quiet hours)."""
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == row_id)
        .values(next_attempt_at=until, updated_at=now, last_error=redact(reason))
    )


def rate_limit_until(session: Session, row: DeliveryRow, limit: int, now: datetime) -> datetime | None:
    """When the channel's hourly alert budget is used up: the time a slot frees, else ``None``.
    Alerts are counted by key, so one alert to several recipients counts once."""
    since = now - timedelta(hours=1)
    sent = (
        DeliveryRow.channel == row.channel,
        DeliveryRow.kind == "alert",
        DeliveryRow.status == "sent",
        DeliveryRow.sent_at >= since,
    )
    if session.scalar(select(func.count()).where(*sent, DeliveryRow.key == row.key)):
        return None
    count, oldest = session.execute(
        select(func.count(distinct(DeliveryRow.key)), func.min(DeliveryRow.sent_at)).where(*sent)
    ).one()
    if count < limit:
        return None
    return (oldest or now) + timedelta(hours=1)


def open_alerts(session: Session, prefix: str) -> list[tuple[int, str]]:
    """(id, key) of alerts not sent yet (pending or failed) whose key starts with ``prefix``."""
    stmt = select(DeliveryRow.id, DeliveryRow.key).where(
        DeliveryRow.kind == "alert", DeliveryRow.status.in_(RETRYABLE), DeliveryRow.key.startswith(prefix)
    )
    return [(row_id, key) for row_id, key in session.execute(stmt)]


def cancel(session: Session, row_id: int, now: datetime, reason: str) -> bool:
    """Cancel a delivery not sent yet; False when it was sent or cancelled meanwhile. A send already
    in progress still ends with ``mark_sent``, so the row then says what really happened: sent."""
    stmt = (
        update(DeliveryRow)
        .where(DeliveryRow.id == row_id, DeliveryRow.status.in_(RETRYABLE))
        .values(status=CANCELLED, next_attempt_at=None, updated_at=now, last_error=redact(reason)[:2000])
    )
    return cast(CursorResult[Any], session.execute(stmt)).rowcount == 1


def by_keys(session: Session, keys: Sequence[str]) -> list[DeliveryRow]:
    """The deliveries recorded under these keys, oldest first."""
    if not keys:
        return []
    return list(session.scalars(select(DeliveryRow).where(DeliveryRow.key.in_(list(keys))).order_by(DeliveryRow.id)))


def held_alerts(session: Session, now: datetime) -> list[tuple[str, datetime, str]]:
    """Alerts recorded but held back (quiet hours, rate limit): ``(key, next attempt, reason)`` per
    open row whose time has not come. Naive times from SQLite are UTC."""
    stmt = (
        select(DeliveryRow.key, DeliveryRow.next_attempt_at, DeliveryRow.last_error)
        .where(
            DeliveryRow.kind == "alert",
            DeliveryRow.status == "pending",
            DeliveryRow.next_attempt_at > now,
        )
        .order_by(DeliveryRow.next_attempt_at)
    )
    held = []
    for key, when, why in session.execute(stmt):
        if when is not None:  # always so (the query asks for a later time); for the type checker
            held.append((key, when if when.tzinfo else when.replace(tzinfo=timezone.utc), why or ""))
    return held


def listing(session: Session, failed_only: bool = False, limit: int = 50) -> list[DeliveryRow]:
    """The most recent deliveries, newest first."""
    stmt = select(DeliveryRow).order_by(DeliveryRow.id.desc()).limit(limit)
    if failed_only:
        stmt = stmt.where(DeliveryRow.status == "failed")
    return list(session.scalars(stmt))


def status_counts(session: Session, targets: Iterable[tuple[str, str]] | None = None) -> dict[str, int]:
    """Deliveries per status (``yuqing status``, the console's dashboard); with ``targets``, only
    those to these (channel, recipient) pairs: one unit's."""
    stmt = select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
    if targets is not None:
        pairs = sorted(set(targets))
        if not pairs:
            return {}
        stmt = stmt.where(
            or_(*(and_(DeliveryRow.channel == channel, DeliveryRow.recipient == who) for channel, who in pairs))
        )
    return {status: int(n) for status, n in session.execute(stmt)}
