"""Tuning a topic's rule, shared by the CLI (``yuqing rules``, ``yuqing keywords``) and the console:
test a text, backtest a change over stored posts, warn about keywords that cannot fire, apply a
change to topics.yaml (validated, comments kept, audited) and undo a recorded change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast, get_args

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from config import Config
from config.edit import apply_edit
from config.keyword_io import short_words
from config.topics_edit import ListField, add_words, remove_words, set_field
from config.topics_model import Topic
from nlp.backtest import BacktestResult, PostView, backtest, changed_topic, pair_rules, single_topic_rules
from nlp.rules import exclusion_warnings, explain
from nlp.rules import keyword_warnings as dead_keyword_warnings
from nlp.segment import make_t2s, normalize
from storage import audit
from storage.context import AppContext
from storage.models import AnalysisRow, PostRow
from yuqing.base.clock import utcnow
from yuqing.base.errors import ConfigError, YuqingError
from yuqing.base.progress import Progress

TOPICS_FILE = "topics.yaml"
UNDO = "rules.undo"  # the audit action of an undo; its detail names the undone entry ({"undo": ID})
LIST_FIELDS: tuple[str, ...] = get_args(ListField)
REMOVABLE: tuple[ListField, ...] = ("keywords", "standalone", "exclude")


def folder(config: Config) -> Callable[[str], str]:
    """Normalise text exactly as the analysis job does before matching."""
    t2s = make_t2s() if config.settings.analysis.to_simplified else None
    return lambda text: normalize(text, t2s)


def get_topic(config: Config, topic_id: str) -> Topic:
    topic = config.topics.get(topic_id)
    if topic is None:
        ids = ", ".join(t.id for t in config.topics.topics)
        raise YuqingError(f'no topic "{topic_id}"', f"topics are: {ids}")
    return topic


@dataclass(frozen=True)
class TextTest:
    """A topic tried on one text: the matched terms (with field and offsets), or why it does not match."""

    terms: list[dict[str, Any]]
    reasons: list[str]

    @property
    def matched(self) -> bool:
        return not self.reasons


def test_text(config: Config, topic_id: str, title: str, text: str) -> TextTest:
    """Does the topic match this title and text (``yuqing rules test``)?"""
    fold = folder(config)
    rules = single_topic_rules(config.topics, get_topic(config, topic_id), fold)
    matches = rules.match(fold(title), fold(text))
    if matches:
        return TextTest(list(matches[0].terms), [])
    return TextTest([], explain(rules, topic_id, fold(title), fold(text)) or ["no match"])


test_text.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, whatever its name


@dataclass(frozen=True)
class Change:
    """A proposed change of a topic: keywords to add, words to remove (from keywords, standalone and
    exclusions), exclusion words to add, a new expression (``""`` removes it; None keeps it)."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    expr: str | None = None

    def folded(self, fold: Callable[[str], str]) -> Change:
        return Change(
            tuple(fold(w) for w in self.add),
            tuple(fold(w) for w in self.remove),
            tuple(fold(w) for w in self.exclude),
            self.expr,
        )

    @property
    def empty(self) -> bool:
        return not (self.add or self.remove or self.exclude) and self.expr is None


def stored_posts(session: Session, since: datetime) -> Iterator[PostView]:
    """Stored posts published (or fetched) since ``since``, with their latest analysis."""
    when = func.coalesce(PostRow.published_at, PostRow.fetched_at)
    query = (
        select(
            PostRow.id,
            PostRow.title,
            PostRow.text,
            PostRow.url,
            PostRow.source_id,
            AnalysisRow.negative,
            AnalysisRow.risk_level,
        )
        .outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(when >= since)
        .order_by(PostRow.id)
    )
    for row in session.execute(query).yield_per(2000):
        yield PostView(row.id, row.title, row.text, row.url, row.source_id, bool(row.negative), row.risk_level or 0)


def count_since(session: Session, since: datetime) -> int:
    when = func.coalesce(PostRow.published_at, PostRow.fetched_at)
    return session.scalar(select(func.count()).select_from(PostRow).where(when >= since)) or 0


def backtest_change(
    config: Config,
    session: Session,
    topic_id: str,
    change: Change,
    since: datetime,
    *,
    max_examples: int = 10,
    progress: Progress | None = None,
) -> BacktestResult:
    """The topic before and after ``change`` over the posts stored since ``since`` (``yuqing rules backtest``)."""
    fold = folder(config)
    topic = get_topic(config, topic_id)
    new = change.folded(fold)
    new_topic = changed_topic(topic, add=new.add, remove=new.remove, exclude=new.exclude, expr=new.expr)
    rules = pair_rules(config.topics, topic, new_topic, fold)
    return backtest(
        rules,
        stored_posts(session, since),
        fold,
        max_examples=max_examples,
        progress=progress,
        total=count_since(session, since),
    )


def recent_share(session: Session, words: list[str], days: int, now: datetime) -> tuple[int, dict[str, int]]:
    """How many posts of the last ``days`` contain each word (title or text), and the total."""
    since = now - timedelta(days=days)
    recent = select(PostRow.id).where(PostRow.fetched_at >= since)
    total = session.scalar(select(func.count()).select_from(recent.subquery())) or 0
    counts = {}
    for word in words:
        pattern = f"%{word}%"
        counts[word] = (
            session.scalar(
                select(func.count())
                .select_from(PostRow)
                .where(PostRow.fetched_at >= since, or_(PostRow.title.like(pattern), PostRow.text.like(pattern)))
            )
            or 0
        )
    return total, counts


def keyword_warnings(
    app: AppContext, words: list[str], max_share: float, days: int = 7, now: datetime | None = None
) -> list[str]:
    """Warnings for keywords that are too short or match too many recent posts."""
    warnings = [f'"{w}" is a single character: it matches almost any post' for w in short_words(words)]
    with app.session() as session:
        total, counts = recent_share(session, words, days, now or utcnow())
    if total:
        for word, count in counts.items():
            if count / total > max_share:
                warnings.append(
                    f'"{word}" matches {count} of {total} posts of the last {days} days '
                    f"({count / total:.0%} > {max_share:.0%}): too common, it will flood analysts"
                )
    return warnings


def cannot_fire(config: Config, topic_id: str, words: list[str], field: ListField) -> list[str]:
    """Warnings for words that, once added to this list, would leave a keyword unable to match."""
    topic = config.topics.get(topic_id)
    if topic is None or not words:
        return []  # the edit itself reports an unknown topic
    if field == "exclude":
        return exclusion_warnings(topic, words)
    if field not in ("keywords", "standalone"):
        return []
    fold = folder(config)
    folded = [fold(w) for w in words]
    rules = single_topic_rules(config.topics, changed_topic(topic, add=folded), fold)
    return dead_keyword_warnings(rules, topic_id, folded)


def change_warnings(
    app: AppContext, topic_id: str, change: Change, now: datetime, max_share: float = 0.05
) -> list[str]:
    """Every warning about a change before it is applied: new keywords too short, too common (in the
    week before ``now``) or unable to fire, exclusions that silence keywords."""
    config = app.config
    add, exclude = list(change.add), list(change.exclude)
    warnings = keyword_warnings(app, add, max_share, now=now) if add else []
    return warnings + cannot_fire(config, topic_id, add, "keywords") + cannot_fire(config, topic_id, exclude, "exclude")


def edit_topics(
    app: AppContext,
    editor: Callable[[Any], Any],
    *,
    action: str,
    target: str,
    detail: dict[str, Any],
    actor: str | None,
) -> Any:
    """Validate, write and audit one edit of topics.yaml; returns what ``editor`` returned."""
    result: dict[str, Any] = {}

    def run(doc: Any) -> None:
        result["value"] = editor(doc)

    with app.session() as session:  # the audit needs a migrated database: check before writing
        try:
            before, after = apply_edit(app.config_dir, TOPICS_FILE, run)
        except ConfigError as exc:
            raise ConfigError(exc.issues, hint=f"the edit was refused; {TOPICS_FILE} is unchanged") from None
        if before != after:
            audit.record(
                session,
                actor=actor or audit.current_user(),
                action=action,
                target=target,
                detail={**detail, **({"result": result["value"]} if result.get("value") is not None else {})},
                now=utcnow(),
            )
    return result.get("value")


Delta = dict[str, Any]  # {"added": {field: [words]}, "removed": {field: [words]}, "expr": [before, after]}


def _edit_delta(doc: Any, topic_id: str, added: dict[str, list[str]], removed: dict[str, list[str]]) -> Delta:
    """Add and remove words list by list; returns what really changed."""
    done: Delta = {"added": {}, "removed": {}}
    for field, words in removed.items():
        if words and (gone := remove_words(doc, topic_id, words, cast(ListField, field))):
            done["removed"][field] = gone
    for field, words in added.items():
        if words and (new := add_words(doc, topic_id, words, cast(ListField, field))):
            done["added"][field] = new
    return done


def apply_change(app: AppContext, topic_id: str, change: Change, actor: str | None) -> Delta:
    """Write ``change`` to topics.yaml (``rules backtest --apply`` and the console); returns what changed."""
    new = change.folded(folder(app.config))

    def editor(doc: Any) -> Delta:
        delta = _edit_delta(
            doc,
            topic_id,
            {"keywords": list(new.add), "exclude": list(new.exclude)},
            dict.fromkeys(REMOVABLE, [*new.remove]),
        )
        if new.expr is not None:
            delta["expr"] = [set_field(doc, topic_id, "expr", new.expr or None), new.expr or None]
        return delta

    detail = {
        "add": list(change.add),
        "remove": list(change.remove),
        "exclude": list(change.exclude),
        "expr": change.expr,
    }
    value: Delta = edit_topics(app, editor, action="rules.apply", target=topic_id, detail=detail, actor=actor)
    return value or {"added": {}, "removed": {}}


@dataclass(frozen=True)
class RecordedChange:
    """An audited change of a topic's lists that can be undone; ``undone_by`` is the id of the undo
    in effect on it (None while the change holds)."""

    id: int
    at: datetime
    actor: str
    action: str
    delta: Delta
    undone_by: int | None = None
    undo_of: int | None = None
    """for an undo: the change it undid"""


class AlreadyUndone(YuqingError):
    """The change was undone already (``by``: the undo's id); undo that undo to bring it back."""

    def __init__(self, entry_id: int, topic_id: str, by: int) -> None:
        super().__init__(
            f"change #{entry_id} of {topic_id} was undone already, by #{by}",
            f"undo #{by} to bring it back; see `yuqing topics history {topic_id}`",
        )
        self.by = by


def undone_changes(session: Session, topic_id: str) -> dict[int, int]:
    """The topic's changes that are undone now → the id of the undo in effect on each. An undo that
    was itself undone brings its change back; undoing that change again counts its newest undo."""
    latest: dict[int, int] = {}
    for undo in reversed(audit.history(session, topic_id, None, action=UNDO)):  # oldest first
        target = undo.detail.get("undo")
        if isinstance(target, int):
            latest[target] = undo.id

    def undone(entry_id: int) -> bool:
        by = latest.get(entry_id)
        return by is not None and not undone(by)

    return {entry_id: by for entry_id, by in latest.items() if undone(entry_id)}


def delta_of(entry: audit.AuditEntry) -> Delta | None:
    """What an audited edit changed, or None for entries that cannot be undone: ``FIELD.add`` /
    ``FIELD.import`` / ``FIELD.remove`` of ``yuqing keywords`` (their result: the words changed), and
    ``rules.apply`` / ``rules.undo`` (their result: a delta)."""
    result = entry.detail.get("result")
    kind, _, verb = entry.action.partition(".")
    if kind in LIST_FIELDS and verb in ("add", "import", "remove") and isinstance(result, list) and result:
        return {"added" if verb != "remove" else "removed": {kind: result}}
    if entry.action in ("rules.apply", UNDO) and isinstance(result, dict):
        return result
    return None


def recorded_changes(session: Session, topic_id: str, limit: int = 20) -> list[RecordedChange]:
    """The topic's recent list changes that can be undone, newest first."""
    changes = []
    undone = undone_changes(session, topic_id)
    for entry in audit.history(session, topic_id, limit * 3):
        delta = delta_of(entry)
        if delta and (delta.get("added") or delta.get("removed") or delta.get("expr")):
            undo_of = entry.detail.get("undo") if entry.action == UNDO else None
            changes.append(
                RecordedChange(entry.id, entry.at, entry.actor, entry.action, delta, undone.get(entry.id), undo_of)
            )
    return changes[:limit]


def undo_change(app: AppContext, topic_id: str, entry_id: int, actor: str | None) -> Delta:
    """Revert one recorded change of the topic (validated and audited as ``rules.undo``); a change
    undone already raises :class:`AlreadyUndone` (undoing it twice would revert an unrelated edit)."""
    with app.session() as session:
        entry = audit.entry(session, entry_id)
        by = undone_changes(session, topic_id).get(entry_id)
    delta = delta_of(entry) if entry is not None and entry.target == topic_id else None
    if delta is None:
        raise YuqingError(f"no change #{entry_id} of {topic_id} to undo", "see `yuqing topics history`")
    if by is not None:
        raise AlreadyUndone(entry_id, topic_id, by)

    def editor(doc: Any) -> Delta:
        done = _edit_delta(doc, topic_id, delta.get("removed", {}), delta.get("added", {}))
        if delta.get("expr"):
            before = delta["expr"][0]
            done["expr"] = [set_field(doc, topic_id, "expr", before), before]
        return done

    value: Delta = edit_topics(app, editor, action=UNDO, target=topic_id, detail={"undo": entry_id}, actor=actor)
    return value or {"added": {}, "removed": {}}
