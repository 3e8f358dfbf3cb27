"""``yuqing rules test`` and ``yuqing rules backtest``: see what a rule does before it goes live."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from nlp.backtest import BacktestResult, Side
from nlp.tuning import Change, apply_change, backtest_change, test_text
from storage.context import AppContext
from yuqing.cli.app import pass_app
from yuqing.cli.progress import progress_display
from yuqing.cli.tune import by_option


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
    tried = test_text(app.config, topic_id, title, text or "")
    console = Console(highlight=False)
    if not tried.matched:
        console.print(f"no match: {topic_id}")
        for reason in tried.reasons:
            console.print(f"  - {escape(reason)}", soft_wrap=True)
        raise SystemExit(1)
    terms = tried.terms
    console.print(f"MATCH {topic_id}: " + "、".join(dict.fromkeys(t["term"] for t in terms)))
    for name, value in (("title", title), ("text", text or "")):
        spans = [(t["start"], t["end"]) for t in terms if t["field"] == name]
        if value:
            console.print(f"  {name}: " + highlight(value, spans))


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
    change = Change(add, remove, exclude, expr)
    since = datetime.now(timezone.utc) - timedelta(days=days)
    console = Console(highlight=False)
    with app.session() as session, progress_display() as progress:
        result = backtest_change(app.config, session, topic_id, change, since, max_examples=examples, progress=progress)
    print_result(console, topic_id, days, result)
    if apply_:
        apply_change(app, topic_id, change, actor)
        console.print(f"applied to {app.config.dir / 'topics.yaml'}")
