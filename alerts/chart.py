"""The 7-day chart (relevant against negative posts per day) as data for bars drawn by the reader's
own software: HTML tables with percentage widths in the mail (what every mail client renders,
Outlook included, which shows neither SVG nor CSS flexbox), a native Word table in the .docx, a
line of numbers in the text part. Its labels are text, so they read Chinese with whatever fonts the
reader has; nothing is drawn into an image, and nothing depends on a font on the server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TITLE = "近7日相关与负面信息"
RELEVANT = "相关"
NEGATIVE = "负面"
MAX_BLOCKS = 20  # the longest bar in the .docx, in block characters


@dataclass(frozen=True)
class Bar:
    """One day: its label, counts and bar lengths in percent of the longest bar (0-100)."""

    label: str
    relevant: int
    negative: int
    relevant_pct: int
    negative_pct: int

    def blocks(self, value: int, top: int) -> int:
        """A bar's length in block characters (a value above zero shows at least one)."""
        return 0 if value <= 0 or top <= 0 else max(1, round(MAX_BLOCKS * value / top))


@dataclass(frozen=True)
class Chart:
    """A bar chart with its title and legend, every text Chinese."""

    title: str
    relevant_label: str
    negative_label: str
    bars: list[Bar]
    top: int  # the largest count (100 %)


def _pct(value: int, top: int) -> int:
    """Percent of ``top``; a value above zero is at least 1 % so it stays visible."""
    if value <= 0 or top <= 0:
        return 0
    return max(1, round(100 * value / top))


def bar_chart(points: Sequence[tuple[str, int, int]]) -> Chart:
    """The chart of (label, relevant, negative) per day."""
    top = max((max(rel, neg) for _, rel, neg in points), default=0)
    bars = [Bar(label, rel, neg, _pct(rel, top), _pct(neg, top)) for label, rel, neg in points]
    return Chart(TITLE, RELEVANT, NEGATIVE, bars, top)
