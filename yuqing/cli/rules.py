"""``yuqing rules test`` and ``yuqing rules backtest``: see what a rule does before it goes live."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Config
from config.topics_edit import add_words, remove_words, set_field
from config.topics_model import Topic
from nlp.backtest import BacktestResult, PostView, Side, backtest, changed_topic, pair_rules, single_topic_rules
from nlp.rules import explain
from nlp.segment import make_t2s, normalize
from storage.context import AppContext
from storage.models import AnalysisRow, PostRow
from yuqing.base.errors import YuqingError
from yuqing.cli.app import pass_app
from yuqing.cli.progress import progress_display
from yuqing.cli.tune import by_option, edit_topics


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


def highlight(text: str, spans: list[tuple[int, int]]) -> str:
    """Rich markup with the matched spans in bold red (everything else escaped)."""
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [escape(text[last:start]), f"[bold red]{escape(text[start:end])}[/]"]
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


@click.group("rules")
def rules_group() -> None:
    """Test a topic's rule on a text, or backtest a change against stored posts.

    \b
    Example:
      yuqing rules test police "派出所民警在菜市场殴打老人"
      yuqing rules backtest police --add 辅警 --days 7
    """


@rules_group.command("test")
@click.argument("topic_id")
@click.argument("text", required=False)
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the text from a UTF-8 file (first line = title).",
)
@click.option("--title", default="", help="A title to match together with the text.")
@pass_app
def rules_test(app: AppContext, topic_id: str, text: str | None, file: Path | None, title: str) -> None:
    """Does a topic match this text? Shows the matched terms highlighted, or why it does not match
    (no keyword, no context term close enough, a missing `all` word, an exclusion, the expression).

    \b
    Example:
      yuqing rules test violent-enforcement "网传辅警推搡老人，视频显示其动手打人"
      yuqing rules test police --file post.txt
    """
    if file is not None:
        title, _, text = file.read_text(encoding="utf-8").partition("\n")
    if not text and not title:
        raise click.UsageError("give TEXT or --file")
    config = app.config
    fold = folder(config)
    rules = single_topic_rules(config.topics, get_topic(config, topic_id), fold)
    matches = rules.match(fold(title), fold(text or ""))
    console = Console(highlight=False)
    if not matches:
        console.print(f"no match: {topic_id}")
        for reason in explain(rules, topic_id, fold(title), fold(text or "")):
            console.print(f"  - {escape(reason)}", soft_wrap=True)
        raise SystemExit(1)
    terms = matches[0].terms
    console.print(f"MATCH {topic_id}: " + "、".join(dict.fromkeys(t["term"] for t in terms)))
    for name, value in (("title", title), ("text", text or "")):
        spans = [(t["start"], t["end"]) for t in terms if t["field"] == name]
        if value:
            console.print(f"  {name}: " + highlight(value, spans))


def stored_posts(session: Session, since: datetime) -> Iterator[PostView]:
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


def print_side(console: Console, label: str, side: Side) -> None:
    console.print(f"{label}: {side.count} post(s), {side.negative} negative, {side.high_risk} high-risk")
    for post in side.examples:
        console.print(f"    #{post.id} [{escape(post.source_id)}] {escape(post.title[:60])}  {escape(post.url)}")


def print_result(console: Console, topic_id: str, days: int, result: BacktestResult) -> None:
    delta = result.after - result.before
    console.print(f"{topic_id}: {result.scanned} posts of the last {days} days scanned")
    console.print(f"  matched before: {result.before}   after: {result.after}   change: {delta:+d}")
    print_side(console, "  newly matched", result.gained)
    print_side(console, "  no longer matched", result.lost)


@rules_group.command("backtest")
@click.argument("topic_id")
@click.option("--days", default=7, show_default=True, help="Stored posts of how many recent days.")
@click.option("--add", "add", multiple=True, help="A keyword to add (repeatable).")
@click.option(
    "--remove", "remove", multiple=True, help="A keyword, standalone word or exclusion to remove (repeatable)."
)
@click.option("--exclude", "exclude", multiple=True, help="An exclusion word to add (repeatable).")
@click.option("--expr", default=None, help='A new rule expression ("" removes it).')
@click.option("--examples", default=10, show_default=True, help="Example posts to list per side.")
@click.option("--apply", "apply_", is_flag=True, help="Write the change to topics.yaml after showing the result.")
@by_option
@pass_app
def rules_backtest(
    app: AppContext,
    topic_id: str,
    days: int,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    exclude: tuple[str, ...],
    expr: str | None,
    examples: int,
    apply_: bool,
    actor: str | None,
) -> None:
    """Compare a topic before and after a change on stored posts.

    Shows how many posts match before and after, the posts newly matched and no longer
    matched (with links), and how many of them are negative or high-risk.

    \b
    Example:
      yuqing rules backtest police --add 辅警 --remove 110报警 --days 30
      yuqing rules backtest violent-enforcement --exclude 演练 --apply --by 张三
    """
    config = app.config
    fold = folder(config)
    topic = get_topic(config, topic_id)
    new_topic = changed_topic(
        topic,
        add=[fold(w) for w in add],
        remove=[fold(w) for w in remove],
        exclude=[fold(w) for w in exclude],
        expr=expr,
    )
    rules = pair_rules(config.topics, topic, new_topic, fold)
    since = datetime.now(timezone.utc) - timedelta(days=days)
    console = Console(highlight=False)
    with app.session() as session, progress_display() as progress:
        result = backtest(
            rules,
            stored_posts(session, since),
            fold,
            max_examples=examples,
            progress=progress,
            total=count_since(session, since),
        )
    print_result(console, topic_id, days, result)
    if apply_:
        apply_change(app, topic_id, add, remove, exclude, expr, actor, fold)
        console.print(f"applied to {config.dir / 'topics.yaml'}")


def apply_change(
    app: AppContext,
    topic_id: str,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    exclude: tuple[str, ...],
    expr: str | None,
    actor: str | None,
    fold: Callable[[str], str],
) -> None:
    def editor(doc: object) -> None:
        add_words(doc, topic_id, [fold(w) for w in add], "keywords")
        add_words(doc, topic_id, [fold(w) for w in exclude], "exclude") if exclude else None
        for field in ("keywords", "standalone", "exclude"):
            remove_words(doc, topic_id, [fold(w) for w in remove], field)
        if expr is not None:
            set_field(doc, topic_id, "expr", expr or None)

    edit_topics(
        app,
        editor,
        action="rules.apply",
        target=topic_id,
        detail={"add": list(add), "remove": list(remove), "exclude": list(exclude), "expr": expr},
        actor=actor,
    )
