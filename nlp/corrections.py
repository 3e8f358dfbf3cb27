"""Analysts' corrections take effect in the next analysis, without retraining: a post's own labels
override what the rules and the model said about that post.

- relevant/irrelevant for a topic: that topic is kept (restored from the rules' match) or dropped;
- relevant/irrelevant without a topic: every topic the rules match is kept, or the post is not relevant;
- negative/not negative: ``negative`` is set and the score becomes 1.0 or 0.0.

The latest label per (post, field) wins; a label without a topic is, for relevance, a label for
every topic at its time (so ``--irrelevant`` then ``--relevant --topic police`` leaves police only).
Risk, the event's risk and queued alerts follow from the corrected analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from nlp.analyzer import PostAnalysis
from nlp.rules import TopicMatch

Rematch = Callable[[], list[TopicMatch]]
"""The rules' topics of the post before learned relevance (called only when a label restores a topic)."""

LABELLED = "人工标注"
"""The reason shown for a negativity set by an analyst's label."""


@dataclass
class Correction:
    """One post's labels in the order they were given: (topic or None, relevant) and the latest negative."""

    relevance: list[tuple[str | None, bool]] = field(default_factory=list)
    negative: bool | None = None

    def add(self, topic: str | None, relevant: bool | None, negative: bool | None) -> None:
        """Add the next (newer) label."""
        if relevant is not None:
            self.relevance.append((topic, relevant))
        if negative is not None:
            self.negative = negative

    @property
    def withdrawn(self) -> bool:
        """Whether the latest labels take the post out of alerts: not negative, or irrelevant overall."""
        if self.negative is False:
            return True
        return bool(self.relevance) and self.relevance[-1] == (None, False)


def corrected_topics(found: list[TopicMatch], correction: Correction, rematch: Rematch) -> list[TopicMatch]:
    """The topics after the post's relevance labels, in the rules' order."""
    kept = {m.topic: m for m in found}
    matched: dict[str, TopicMatch] | None = None
    for topic, relevant in correction.relevance:
        if not relevant and topic is None:
            kept = {}
        elif not relevant and topic is not None:
            kept.pop(topic, None)
        else:
            matched = matched if matched is not None else {m.topic: m for m in rematch()}
            if topic is None:
                kept = dict(matched)
            else:
                kept[topic] = matched.get(topic) or TopicMatch(topic, [])
    order = [m.topic for m in (rematch() if matched is not None else found)]
    return sorted(kept.values(), key=lambda m: order.index(m.topic) if m.topic in order else len(order))


def apply_correction(result: PostAnalysis, correction: Correction | None, rematch: Rematch) -> PostAnalysis:
    """``result`` with the post's own labels applied (unchanged when it has none)."""
    if correction is None:
        return result
    out = replace(result, topics=corrected_topics(result.topics, correction, rematch))
    if correction.negative is not None:
        out = replace(
            out,
            negative=correction.negative,
            negative_score=1.0 if correction.negative else 0.0,
            reasons=[LABELLED, *[r for r in out.reasons if r != LABELLED]],
        )
    return out
