"""The single-instance lease on SQLite and PostgreSQL: one holder, renewal, expiry, takeover."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine

from storage import leases as lease

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
TTL = timedelta(seconds=30)


def test_first_acquires_second_waits(engine: Engine) -> None:
    assert lease.acquire(engine, "daemon", "host:1:a", T0, TTL)
    assert not lease.acquire(engine, "daemon", "host:2:b", T0 + timedelta(seconds=10), TTL)
    held = lease.holder(engine, "daemon")
    assert held is not None and held.owner == "host:1:a" and held.expires_at == T0 + TTL


def test_renewal_keeps_it_and_expiry_hands_it_over(engine: Engine) -> None:
    assert lease.acquire(engine, "daemon", "host:1:a", T0, TTL)
    assert lease.renew(engine, "daemon", "host:1:a", T0 + timedelta(seconds=20), TTL)
    assert not lease.acquire(engine, "daemon", "host:2:b", T0 + timedelta(seconds=45), TTL)
    assert lease.acquire(engine, "daemon", "host:2:b", T0 + timedelta(seconds=51), TTL)
    assert not lease.renew(engine, "daemon", "host:1:a", T0 + timedelta(seconds=52), TTL)
    assert lease.holder(engine, "daemon").owner == "host:2:b"  # type: ignore[union-attr]


def test_release_frees_it_at_once(engine: Engine) -> None:
    assert lease.acquire(engine, "daemon", "host:1:a", T0, TTL)
    assert not lease.release(engine, "daemon", "host:2:b")
    assert lease.release(engine, "daemon", "host:1:a")
    assert lease.acquire(engine, "daemon", "host:2:b", T0 + timedelta(seconds=1), TTL)


def test_reacquire_by_holder_renews(engine: Engine) -> None:
    assert lease.acquire(engine, "daemon", "host:1:a", T0, TTL)
    assert lease.acquire(engine, "daemon", "host:1:a", T0 + timedelta(seconds=5), TTL)
    assert lease.holder(engine, "daemon").expires_at == T0 + timedelta(seconds=5) + TTL  # type: ignore[union-attr]


def test_dead_local_holder_is_taken_over_before_expiry(engine: Engine) -> None:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{lease.make_owner().split(':')[0]}:{proc.stdout.strip()}:deadbeef"
    assert lease.acquire(engine, "daemon", dead, T0, TTL)
    assert lease.owner_is_dead(dead)
    assert lease.acquire(engine, "daemon", "me:1:c", T0 + timedelta(seconds=1), TTL)
    assert not lease.owner_is_dead(lease.make_owner())  # this very process is alive


def test_racing_acquirers_one_wins(engine: Engine) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def contend(i: int) -> None:
        barrier.wait()
        if lease.acquire(engine, "race", f"otherhost:{i}:x", T0, TTL):
            winners.append(str(i))

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
