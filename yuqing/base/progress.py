"""Progress of long work, reported by the stage and drawn (or not) by its caller.

A stage that can run for more than a few seconds takes an optional ``progress`` callback and calls
``progress(step, done, total)``: ``step`` names what it is doing ("segmenting training texts"),
``total`` is ``None`` while unknown. Stages never draw anything; the CLI draws bars on a terminal
and nothing in logs or pipes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from typing import TypeVar

Progress = Callable[[str, int, "int | None"], None]
T = TypeVar("T")


def counted(items: Iterable[T], step: str, progress: Progress | None, every: int = 100) -> Iterator[T]:
    """``items`` unchanged, reporting ``step`` every ``every`` items and once at the end (nothing
    for an empty list)."""
    if progress is None or (isinstance(items, Sized) and not len(items)):
        yield from items
        return
    total = len(items) if isinstance(items, Sized) else None
    done = 0
    progress(step, 0, total)
    for item in items:
        yield item
        done += 1
        if done % every == 0:
            progress(step, done, total)
    progress(step, done, total if total is not None else done)
