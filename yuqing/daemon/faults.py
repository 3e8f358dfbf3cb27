"""What the daemon and ``yuqing status`` tell about faults of the daemon's own machinery: a full
disk, a data dir or database it cannot write. While the disk is full nothing can be recorded, so
``yuqing status`` works such a state out from what it can read: a lease that lapsed while its
holder process still runs, and the data dir's free space."""

from __future__ import annotations

import errno
import os
import shutil
import socket
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

PROBE_BYTES = 64 * 1024  # written and fsynced in the data dir to tell whether a fault has ended
KIND_ZH = {"disk full": "磁盘已满", "data dir not writable": "数据目录不可写", "database unavailable": "数据库不可用"}


def fault_kind(exc: BaseException | str, data_dir: Path) -> str:
    """What a fault most likely is, for the log, the admins and ``yuqing status``."""
    text = str(exc).lower()
    os_errno = exc.errno if isinstance(exc, OSError) else None
    if (
        os_errno == errno.ENOSPC
        or "disk is full" in text
        or "no space left" in text
        or free_bytes(data_dir) < PROBE_BYTES
    ):
        return "disk full"
    if (
        os_errno in (errno.EROFS, errno.EACCES, errno.EPERM)
        or "readonly" in text
        or "read-only" in text
        or "permission denied" in text
        or not os.access(data_dir, os.W_OK)
    ):
        return "data dir not writable"
    return "database unavailable"


def free_bytes(path: Path) -> int:
    """Free space on the file system of ``path`` (0 when it cannot be read)."""
    while not path.exists() and path.parent != path:
        path = path.parent  # not created yet: the file system it would be created on
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 0


def probe_data_dir(data_dir: Path) -> None:
    """Write and fsync ``PROBE_BYTES`` in the data dir, then remove them; raises OSError."""
    path = data_dir / f".probe-{os.getpid()}"
    try:
        with open(path, "wb") as fh:
            fh.write(b"\0" * PROBE_BYTES)
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        try:
            path.unlink()
        except OSError:
            pass  # never created


def human_bytes(n: int) -> str:
    """``12.0 KB``."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def local_time(when: datetime, tz: str) -> str:
    """``2026-12-01 08:00:00 (Asia/Shanghai)``: a time as admins read it, labelled with its zone."""
    return f"{when.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M:%S} ({tz})"


def process_alive_here(owner: str) -> bool | None:
    """Whether the process named by a lease owner (``host:pid:uuid``) runs; ``None`` on another host."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def daemon_state(owner: str | None, expires_at: datetime | None, now: datetime, data_dir: Path) -> dict[str, object]:
    """The daemon's state as far as it can be read while nothing can be written: ``running`` (a
    live lease), ``degraded`` (the lease lapsed while its holder still runs: it gave the lease up
    or cannot renew it), ``not running``; for ``degraded`` the likely kind and since when."""
    free = free_bytes(data_dir)
    state: dict[str, object] = {"state": "not running", "since": None, "kind": None, "free_bytes": free}
    if owner is None or expires_at is None:
        return state
    if expires_at > now:
        state["state"] = "running"
        return state
    if process_alive_here(owner):
        state.update(state="degraded", since=expires_at, kind=fault_kind("", data_dir))
    return state
