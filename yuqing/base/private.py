"""Data files are private to the service: the database holds the unmasked text of posts, which name
real people. Every entry point calls :func:`private_files` first, so every file yuqing creates is
0600 and every folder 0700 whatever the umask it was started with; :func:`tighten` closes up a data
directory created before (or by hand)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


def private_files() -> None:
    """Make files and folders this process (and its children) create private to its user."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


def tighten(directory: Path) -> list[Path]:
    """Remove group and other permissions from ``directory`` and what it holds (not following
    symlinks); returns the paths that were changed."""
    changed = []
    for path in [directory, *directory.rglob("*")]:
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode) or not mode & 0o077:
            continue
        os.chmod(path, stat.S_IMODE(mode) & ~0o077)
        changed.append(path)
    return changed
