"""A named lease in the ``locks`` table: one holder at a time, renewed by a heartbeat, taken over
only once it has expired (or, on the same host, once its holder process is gone).

Every step is a single atomic statement, so two daemons racing on one database cannot both win:
``INSERT … ON CONFLICT DO NOTHING`` for a free lease, ``UPDATE … WHERE expires_at < now`` to take an
expired one, ``UPDATE … WHERE owner = me`` to renew.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, update

from storage.models import LockRow
from storage.sql import insert_ignore


def make_owner() -> str:
    """``host:pid:uuid``: unique per process start, readable in ``yuqing status``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds a lease and until when."""

    name: str
    owner: str
    acquired_at: datetime
    expires_at: datetime


def _insert_free(engine: Engine, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    stmt = insert_ignore(engine.dialect.name, LockRow, ["name"]).values(
        name=name, owner=owner, acquired_at=now, expires_at=now + ttl
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def _take_over(
    engine: Engine, name: str, owner: str, now: datetime, ttl: timedelta, stale_owner: str | None = None
) -> bool:
    condition = LockRow.owner == stale_owner if stale_owner else LockRow.expires_at < now
    stmt = (
        update(LockRow)
        .where(LockRow.name == name, condition)
        .values(owner=owner, acquired_at=now, expires_at=now + ttl)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def holder(engine: Engine, name: str) -> LeaseInfo | None:
    """The current holder of lease ``name`` (possibly expired), or ``None``."""
    with engine.connect() as conn:
        row = conn.execute(select(LockRow).where(LockRow.name == name)).first()
    return LeaseInfo(row.name, row.owner, row.acquired_at, row.expires_at) if row else None


def owner_is_dead(owner: str) -> bool:
    """True when ``owner`` names a process on this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(engine: Engine, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Take lease ``name`` if free, expired, already ours, or held by a dead local process."""
    if _insert_free(engine, name, owner, now, ttl) or _take_over(engine, name, owner, now, ttl):
        return True
    current = holder(engine, name)
    if current is None:
        return _insert_free(engine, name, owner, now, ttl)
    if current.owner == owner:
        return renew(engine, name, owner, now, ttl)
    if owner_is_dead(current.owner):
        return _take_over(engine, name, owner, now, ttl, stale_owner=current.owner)
    return False


def renew(engine: Engine, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Extend our lease; False means it was lost (expired and taken by someone else)."""
    stmt = update(LockRow).where(LockRow.name == name, LockRow.owner == owner).values(expires_at=now + ttl)
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def expire(engine: Engine, name: str, owner: str, now: datetime) -> bool:
    """Let our lease run out now (a standby may take it at once) but keep the row, so that
    ``yuqing status`` still tells who held it and since when it has lapsed."""
    stmt = update(LockRow).where(LockRow.name == name, LockRow.owner == owner).values(expires_at=now)
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def release(engine: Engine, name: str, owner: str) -> bool:
    """Give the lease up at once (a standby daemon takes over on its next try)."""
    with engine.begin() as conn:
        return conn.execute(delete(LockRow).where(LockRow.name == name, LockRow.owner == owner)).rowcount == 1
