"""Progress bars of long commands, drawn on stderr when it is a terminal and nowhere else.

The stages report ``progress(step, done, total)`` (``yuqing.base.progress``); this is the only place
that draws them, so logs and pipes stay free of bars and control characters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from yuqing.base.progress import Progress as ProgressCallback


def drawing(console: Console) -> bool:
    """Whether bars are drawn: only on an interactive terminal (not a pipe, a file or TERM=dumb)."""
    return console.is_terminal and not console.is_dumb_terminal


class Bars:
    """The callback the stages call: one bar per step, created when the step first reports."""

    def __init__(self, bars: Progress) -> None:
        self.bars = bars
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, step: str, done: int, total: int | None) -> None:
        task = self.tasks.get(step)
        if task is None:
            task = self.tasks[step] = self.bars.add_task(step, total=total)
        self.bars.update(task, completed=done, total=total)


@contextmanager
def progress_display(enabled: bool = True) -> Iterator[ProgressCallback]:
    """A progress callback for the stages; bars on a terminal (cleared when done), silent otherwise
    or when ``enabled`` is false (``--json``)."""
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not (enabled and drawing(console)),
    ) as bars:
        yield Bars(bars)
