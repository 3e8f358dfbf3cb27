"""Risk level of a post (and of its event) from negativity, topic weight, spread and engagement.

    n = negative_score                                  (0..1)
    t = min(1, max weight of the matched topics / 2)     (topic weights are 0..10, shipped 1..2)
    s = 1 - exp(-((posts - 1) / 10 + (sources - 1) / 3)) (event spread: copies and distinct sources)
    g = min(1, posts of the event in the last 6 hours / 10)
    e = min(1, log10(1 + views/100 + likes + reposts*2 + comments*2) / 4)
    score = 0.5 n + 0.2 t + 0.15 s + 0.15 max(g, e)
    score halves when the post is not negative (n < negative_threshold); 0 when no topic matched.
    level = how many of alerts.yaml risk.thresholds the score reaches (0 none, 1..3 = risk.names).

A lone, strongly negative post on a weight-2 topic (n = 0.95) scores 0.675: level 2 with the
default thresholds [0.3, 0.55, 0.8]; it reaches level 3 once it spreads or draws engagement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

GROWTH_HOURS = 6


@dataclass(frozen=True)
class RiskInput:
    negative_score: float
    negative: bool
    topic_weight: float | None  # None: no topic matched
    posts: int = 1
    sources: int = 1
    recent_posts: int = 1
    views: int | None = None
    likes: int | None = None
    reposts: int | None = None
    comments: int | None = None


def engagement_factor(views: int | None, likes: int | None, reposts: int | None, comments: int | None) -> float:
    """Engagement in [0, 1]; a repost or comment counts twice a like, a view 1/100 of one."""
    weighted = (views or 0) / 100 + (likes or 0) + 2 * (reposts or 0) + 2 * (comments or 0)
    return min(1.0, math.log10(1 + weighted) / 4)


def spread_factor(posts: int, sources: int) -> float:
    """Event spread in [0, 1): 0 for a single post from one source."""
    return 1 - math.exp(-(max(posts - 1, 0) / 10 + max(sources - 1, 0) / 3))


def risk_score(item: RiskInput) -> float:
    """The documented risk score in [0, 1]."""
    if item.topic_weight is None:
        return 0.0
    topic = min(1.0, item.topic_weight / 2)
    growth = min(1.0, item.recent_posts / 10) if item.posts > 1 else 0.0
    engagement = engagement_factor(item.views, item.likes, item.reposts, item.comments)
    score = (
        0.5 * item.negative_score
        + 0.2 * topic
        + 0.15 * spread_factor(item.posts, item.sources)
        + 0.15 * max(growth, engagement)
    )
    return round(score if item.negative else score / 2, 4)


def risk_level(score: float, thresholds: Sequence[float]) -> int:
    """0 below the first threshold, else 1..3 (the index of the highest threshold reached, plus 1)."""
    return sum(1 for t in thresholds if score >= t)
