"""``yuqing keywords …``: add, remove, import and export a topic's keyword lists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from config.keyword_io import export_keywords, import_keywords, normalize_keyword
from config.topics_edit import ListField, add_words, remove_words
from nlp.tuning import cannot_fire, edit_topics, keyword_warnings
from storage.context import AppContext
from yuqing.base.errors import YuqingError
from yuqing.cli.app import pass_app
from yuqing.cli.tune import _field, by_option, confirm_warnings

list_options = [
    click.option(
        "--standalone",
        "standalone",
        is_flag=True,
        help="The standalone list (words that match without the topic's context).",
    ),
    click.option("--exclude", "exclude", is_flag=True, help="The exclusion list (words that rule a post out)."),
    click.option("--all", "all_", is_flag=True, help="The must-all-appear list."),
]
share_option = click.option(
    "--max-share",
    default=0.05,
    show_default=True,
    help="Warn when a keyword matches more than this share of the last 7 days' posts.",
)
yes_option = click.option("--yes", "-y", is_flag=True, help="Apply even when there are warnings.")


def list_field(standalone: bool, exclude: bool, all_: bool) -> ListField:
    """The list a keywords command works on (keywords unless a flag names another)."""
    if standalone and (exclude or all_):
        raise click.UsageError("give at most one of --standalone, --exclude and --all")
    return "standalone" if standalone else _field(exclude, all_)


def with_list_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(list_options):
        func = option(func)
    return func


@click.group("keywords")
def keywords_group() -> None:
    """Change a topic's keyword lists (validated, comments kept, audited).

    \b
    Example:
      yuqing keywords add police 网警 --by 张三
      yuqing keywords add police 演练 --exclude
    """


@keywords_group.command("add")
@click.argument("topic_id")
@click.argument("words", nargs=-1, required=True)
@with_list_options
@share_option
@yes_option
@by_option
@pass_app
def keywords_add(
    app: AppContext,
    topic_id: str,
    words: tuple[str, ...],
    standalone: bool,
    exclude: bool,
    all_: bool,
    max_share: float,
    yes: bool,
    actor: str | None,
) -> None:
    """Add words to a topic's keywords (or --standalone / --exclude / --all list).

    Warns (and asks) when a word could never make a post match: an exclusion word inside it, an
    expression that ignores it; and when it is too short or too common.

    \b
    Example:
      yuqing keywords add violent-enforcement 推搡 掐脖子
      yuqing keywords add police 警匪片 --exclude
    """
    field = list_field(standalone, exclude, all_)
    normalized = list(dict.fromkeys(normalize_keyword(w) for w in words if w.strip()))
    warnings = keyword_warnings(app, normalized, max_share) if field == "keywords" else []
    confirm_warnings(warnings + cannot_fire(app.config, topic_id, normalized, field), yes)
    added = edit_topics(
        app,
        lambda doc: add_words(doc, topic_id, normalized, field),
        action=f"{field}.add",
        target=topic_id,
        detail={"words": normalized},
        actor=actor,
    )
    present = [w for w in normalized if w not in added]
    click.echo(
        f"{topic_id}.{field}: added {len(added)}"
        + (f" ({'、'.join(added)})" if added else "")
        + (f"; already there: {'、'.join(present)}" if present else "")
    )


@keywords_group.command("remove")
@click.argument("topic_id")
@click.argument("words", nargs=-1, required=True)
@with_list_options
@by_option
@pass_app
def keywords_remove(
    app: AppContext,
    topic_id: str,
    words: tuple[str, ...],
    standalone: bool,
    exclude: bool,
    all_: bool,
    actor: str | None,
) -> None:
    """Remove words from a topic's keywords (or --exclude / --all list).

    \b
    Example:
      yuqing keywords remove police 110报警
    """
    field = list_field(standalone, exclude, all_)
    normalized = [normalize_keyword(w) for w in words]
    removed = edit_topics(
        app,
        lambda doc: remove_words(doc, topic_id, normalized, field),
        action=f"{field}.remove",
        target=topic_id,
        detail={"words": normalized},
        actor=actor,
    )
    missing = [w for w in normalized if w not in removed]
    click.echo(
        f"{topic_id}.{field}: removed {len(removed)}" + (f"; not there: {'、'.join(missing)}" if missing else "")
    )


@keywords_group.command("import")
@click.argument("topic_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_list_options
@share_option
@yes_option
@click.option("--dry-run", is_flag=True, help="Show what would be added; change nothing.")
@by_option
@pass_app
def keywords_import(
    app: AppContext,
    topic_id: str,
    file: Path,
    standalone: bool,
    exclude: bool,
    all_: bool,
    max_share: float,
    yes: bool,
    dry_run: bool,
    actor: str | None,
) -> None:
    """Import keywords from TXT (one per line, UTF-8 or GBK), CSV or XLSX.

    A column headed 关键词/keyword is used, else the first column. Words are normalised
    (full/half width, traditional → simplified) and deduplicated.

    \b
    Example:
      yuqing keywords import police 敏感词.xlsx --dry-run
      yuqing keywords import police words.txt --exclude
    """
    field = list_field(standalone, exclude, all_)
    result = import_keywords(file)
    click.echo(
        f"{file}: {len(result.words)} keyword(s) read ({result.encoding})"
        + (f", {len(result.duplicates)} duplicate(s) dropped" if result.duplicates else "")
    )
    for raw, word in result.changed[:20]:
        click.echo(f"  normalised: {raw} → {word}")
    if not result.words:
        raise YuqingError(f"{file}: no keywords found", "put one keyword per line, or a column headed 关键词")
    warnings = keyword_warnings(app, result.words, max_share) if field == "keywords" else []
    confirm_warnings(warnings + cannot_fire(app.config, topic_id, result.words, field), yes or dry_run)
    topic = app.config.topics.get(topic_id)
    current = set(getattr(topic, field)) if topic else set()
    new = [w for w in result.words if w not in current]
    if dry_run:
        click.echo(f"would add {len(new)} to {topic_id}.{field}: {'、'.join(new[:50])}")
        return
    added = edit_topics(
        app,
        lambda doc: add_words(doc, topic_id, result.words, field),
        action=f"{field}.import",
        target=topic_id,
        detail={"file": file.name, "words": new},
        actor=actor,
    )
    click.echo(f"{topic_id}.{field}: added {len(added)}")


@keywords_group.command("export")
@click.argument("topic_id")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_list_options
@pass_app
def keywords_export(app: AppContext, topic_id: str, file: Path, standalone: bool, exclude: bool, all_: bool) -> None:
    """Export a topic's keyword list as .txt, .csv or .xlsx (by the file's extension).

    \b
    Example:
      yuqing keywords export police police.xlsx
    """
    field = list_field(standalone, exclude, all_)
    topic = app.config.topics.get(topic_id)
    if topic is None:
        raise YuqingError(f'no topic "{topic_id}"', "see `yuqing topics list`")
    words = list(getattr(topic, field))
    export_keywords(file, words, topic.name)
    click.echo(f"wrote {len(words)} keyword(s) of {topic_id}.{field} to {file}")
