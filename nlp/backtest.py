"""Backtest a topic change against stored posts: which posts the new rule matches that the old
one did not, and the reverse. Pure: posts in, counts and examples out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from config.topics_model import Topic, TopicsFile
from nlp.rules import RuleSet, compile_topics
from yuqing.base.progress import Progress


@dataclass(frozen=True)
class PostView:
    """What a backtest needs of a stored post (its latest analysis included)."""

    id: int
    title: str
    text: str
    url: str
    source_id: str
    negative: bool = False
    risk_level: int = 0


@dataclass
class Side:
    """Posts that changed side, with how many of them are negative or high-risk."""

    count: int = 0
    negative: int = 0
    high_risk: int = 0
    examples: list[PostView] = field(default_factory=list)

    def add(self, post: PostView, high_risk_level: int, max_examples: int) -> None:
        self.count += 1
        self.negative += post.negative
        self.high_risk += post.risk_level >= high_risk_level
        if len(self.examples) < max_examples:
            self.examples.append(post)


@dataclass
class BacktestResult:
    scanned: int = 0
    before: int = 0
    after: int = 0
    gained: Side = field(default_factory=Side)
    lost: Side = field(default_factory=Side)


def changed_topic(
    topic: Topic,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    exclude: Iterable[str] = (),
    expr: str | None = None,
) -> Topic:
    """The topic as it would be after the change (always enabled, so it can be tested)."""
    removed = set(remove)
    keywords = [w for w in dict.fromkeys([*topic.keywords, *add]) if w not in removed]
    excludes = [w for w in dict.fromkeys([*topic.exclude, *exclude]) if w not in removed]
    standalone = [w for w in topic.standalone if w not in removed]
    update: dict[str, Any] = {"keywords": keywords, "standalone": standalone, "exclude": excludes, "enabled": True}
    if expr is not None:
        update["expr"] = expr or None
    return Topic.model_validate({**topic.model_dump(), **update})


def single_topic_rules(topics: TopicsFile, topic: Topic, fold: Callable[[str], str]) -> RuleSet:
    """A rule set holding just ``topic`` (with the file's named lists), enabled."""
    only = topics.model_copy(update={"topics": [topic.model_copy(update={"enabled": True})]})
    return compile_topics(only, fold)


BEFORE, AFTER = "__before__", "__after__"
BACKTESTING = "backtesting stored posts"


def pair_rules(topics: TopicsFile, before: Topic, after: Topic, fold: Callable[[str], str]) -> RuleSet:
    """Both versions of a topic in one automaton, so each post is scanned once."""
    pair = [
        before.model_copy(update={"id": BEFORE, "enabled": True}),
        after.model_copy(update={"id": AFTER, "enabled": True}),
    ]
    return compile_topics(topics.model_copy(update={"topics": pair}), fold)


def backtest(
    rules: RuleSet,
    posts: Iterable[PostView],
    fold: Callable[[str], str],
    *,
    high_risk_level: int = 2,
    max_examples: int = 10,
    progress: Progress | None = None,
    total: int | None = None,
) -> BacktestResult:
    """Run the before/after pair of ``pair_rules`` over ``posts`` and compare; ``progress`` is
    called every 1,000 posts (out of ``total``, when known)."""
    result = BacktestResult()
    for post in posts:
        matched = {m.topic for m in rules.match(fold(post.title), fold(post.text))}
        old, new = BEFORE in matched, AFTER in matched
        result.scanned += 1
        result.before += old
        result.after += new
        if new and not old:
            result.gained.add(post, high_risk_level, max_examples)
        elif old and not new:
            result.lost.add(post, high_risk_level, max_examples)
        if progress and result.scanned % 1000 == 0:
            progress(BACKTESTING, result.scanned, total)
    if progress:
        progress(BACKTESTING, result.scanned, total)
    return result
