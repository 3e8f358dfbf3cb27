"""The 7-day chart (negative against relevant posts) as a PNG, drawn with matplotlib's Agg
backend. Chinese labels need a CJK font: one installed on the system (fonts-noto-cjk,
fonts-wqy-microhei …) is used when found; without one the chart is labelled in ASCII so it never
shows empty boxes."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

# File-name fragments of common CJK fonts, most preferred first.
CJK_FONT_NAMES = (
    "notosanscjk",
    "notosanssc",
    "sourcehansans",
    "wqy-microhei",
    "wqy-zenhei",
    "droidsansfallback",
    "msyh",
    "simhei",
    "pingfang",
    "notoserifcjk",
    "ukai",
    "uming",
)


def find_cjk_font(paths: Sequence[str] | None = None) -> str | None:
    """The path of an installed font that covers Chinese, or ``None``."""
    if paths is None:
        from matplotlib import font_manager

        paths = font_manager.findSystemFonts()
    ranked = []
    for path in paths:
        name = Path(path).name.lower().replace(" ", "")
        for rank, fragment in enumerate(CJK_FONT_NAMES):
            if fragment in name:
                ranked.append((rank, path))
                break
    return min(ranked)[1] if ranked else None


def _labels(cjk: bool) -> tuple[str, str, str]:
    if cjk:
        return "近7日相关与负面信息", "相关", "负面"
    return "Last 7 days: relevant vs negative posts", "relevant", "negative"


def render_chart(points: Sequence[tuple[str, int, int]], font_path: str | None = None) -> bytes:
    """A bar chart of (label, relevant, negative) per day, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    font_path = font_path or find_cjk_font()
    if font_path is None:
        logger.info("no CJK font installed; the digest chart is labelled in ASCII")
    font = FontProperties(fname=font_path) if font_path else FontProperties()
    title, relevant_label, negative_label = _labels(font_path is not None)
    fig = Figure(figsize=(6.4, 2.6), dpi=100)
    ax = fig.add_subplot()
    xs = range(len(points))
    ax.bar([x - 0.2 for x in xs], [p[1] for p in points], width=0.4, color="#5b8def", label=relevant_label)
    ax.bar([x + 0.2 for x in xs], [p[2] for p in points], width=0.4, color="#d9363e", label=negative_label)
    ax.set_xticks(list(xs), [p[0] for p in points])
    ax.set_title(title, fontproperties=font, fontsize=11)
    ax.legend(prop=font, fontsize=9, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
