"""Admins manage keyword lists safely: ``yuqing topics …`` and ``yuqing keywords …``.

Every edit is made in place in topics.yaml (comments and layout kept), validated with the whole
config before it is written, written atomically, and recorded in the audit log.
"""

from __future__ import annotations

import json
import sys

import click

from config.keyword_io import normalize_keyword
from config.topics_edit import ListField, add_topic, find_topic, set_field
from nlp.tuning import edit_topics
from storage import audit
from storage.context import AppContext
from yuqing.base.clock import local_time
from yuqing.base.errors import YuqingError
from yuqing.cli.app import pass_app

by_option = click.option("--by", "actor", default=None, help="Who makes the change (default: the OS user).")


def _field(exclude: bool, all_: bool) -> ListField:
    if exclude and all_:
        raise click.UsageError("give at most one of --exclude and --all")
    return "exclude" if exclude else "all" if all_ else "keywords"


def confirm_warnings(warnings: list[str], yes: bool) -> None:
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    if warnings and not yes:
        if not sys.stdin.isatty():
            raise YuqingError(
                "not applied because of the warnings above", "check the words, then repeat with --yes to apply anyway"
            )
        if not click.confirm("Apply anyway?", default=False):
            raise YuqingError("not applied", "nothing was changed")


@click.group("topics")
def topics_group() -> None:
    """List, show, add, rename, enable and disable topics; see their change history.

    \b
    Example:
      yuqing topics list
      yuqing topics show police
    """


@topics_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per topic.")
@pass_app
def topics_list(app: AppContext, as_json: bool) -> None:
    """List every topic with its keyword counts.

    \b
    Example:
      yuqing topics list --json
    """
    topics = app.config.topics.topics
    if as_json:
        for topic in topics:
            click.echo(json.dumps(topic.model_dump(), ensure_ascii=False))
        return
    # one line per topic, ids whole (they are what admins type) whatever the terminal's width;
    # `topics show ID` prints the whole expression
    width = max((len(t.id) for t in topics), default=2)
    click.echo(f"{'id':<{width}}  on   weight  keywords/all/exclude  name  expr")
    for t in topics:
        counts = f"{len(t.keywords)}/{len(t.all)}/{len(t.exclude)}"
        expr = t.expr or ""
        expr = expr if len(expr) <= 40 else expr[:39] + "…"
        on = "yes" if t.enabled else "no"
        click.echo(f"{t.id:<{width}}  {on:<3}  {t.weight:<6g}  {counts:<20}  {t.name}  {expr}".rstrip())


@topics_group.command("show")
@click.argument("topic_id")
@pass_app
def topics_show(app: AppContext, topic_id: str) -> None:
    """Show one topic's keyword lists and rule.

    \b
    Example:
      yuqing topics show violent-enforcement
    """
    topic = app.config.topics.get(topic_id)
    if topic is None:
        find_topic({"topics": [t.model_dump() for t in app.config.topics.topics]}, topic_id)
        return
    click.echo(f"{topic.id}  {topic.name}  ({'enabled' if topic.enabled else 'disabled'}, weight {topic.weight:g})")
    for label, words in (("keywords", topic.keywords), ("all", topic.all), ("exclude", topic.exclude)):
        if words:
            click.echo(f"  {label:8} {'、'.join(words)}")
    if topic.expr:
        click.echo(f"  expr     {topic.expr}")


@topics_group.command("add")
@click.argument("topic_id")
@click.option("--name", required=True, help="Name shown to analysts, e.g. 网络谣言.")
@click.option("--keyword", "-k", "keywords", multiple=True, required=True, help="A keyword (repeat the option).")
@click.option("--exclude", "-x", multiple=True, help="A word that rules a post out (repeatable).")
@click.option("--expr", default=None, help='A rule expression, e.g. "@政法机关 & !演习".')
@click.option("--weight", type=float, default=None, help="Topic weight in the risk level (default 1).")
@by_option
@pass_app
def topics_add(
    app: AppContext,
    topic_id: str,
    name: str,
    keywords: tuple[str, ...],
    exclude: tuple[str, ...],
    expr: str | None,
    weight: float | None,
    actor: str | None,
) -> None:
    """Add a topic at the end of topics.yaml.

    \b
    Example:
      yuqing topics add rumours --name 涉警谣言 -k 造谣 -k 谣言 --expr "@政法机关"
    """
    words = [normalize_keyword(k) for k in keywords]
    edit_topics(
        app,
        lambda doc: add_topic(
            doc, topic_id, name, words, expr=expr, exclude=[normalize_keyword(x) for x in exclude], weight=weight
        ),
        action="topic.add",
        target=topic_id,
        detail={"name": name, "keywords": words},
        actor=actor,
    )
    click.echo(f"added topic {topic_id} ({name}) with {len(words)} keyword(s)")


@topics_group.command("rename")
@click.argument("topic_id")
@click.argument("new_name")
@by_option
@pass_app
def topics_rename(app: AppContext, topic_id: str, new_name: str, actor: str | None) -> None:
    """Change the name analysts see (the id stays, so recipient groups keep working).

    \b
    Example:
      yuqing topics rename police 公安机关
    """
    old = edit_topics(
        app,
        lambda doc: set_field(doc, topic_id, "name", new_name),
        action="topic.rename",
        target=topic_id,
        detail={"name": new_name},
        actor=actor,
    )
    click.echo(f"renamed {topic_id}: {old} → {new_name}")


def _toggle(app: AppContext, topic_id: str, enabled: bool, actor: str | None) -> None:
    edit_topics(
        app,
        lambda doc: set_field(doc, topic_id, "enabled", enabled),
        action="topic.enable" if enabled else "topic.disable",
        target=topic_id,
        detail={},
        actor=actor,
    )
    click.echo(f"{topic_id} {'enabled' if enabled else 'disabled'}")


@topics_group.command("disable")
@click.argument("topic_id")
@by_option
@pass_app
def topics_disable(app: AppContext, topic_id: str, actor: str | None) -> None:
    """Stop matching a topic (it stays in the file).

    \b
    Example:
      yuqing topics disable plac --by 张三
    """
    _toggle(app, topic_id, False, actor)


@topics_group.command("enable")
@click.argument("topic_id")
@by_option
@pass_app
def topics_enable(app: AppContext, topic_id: str, actor: str | None) -> None:
    """Match a disabled topic again.

    \b
    Example:
      yuqing topics enable plac
    """
    _toggle(app, topic_id, True, actor)


@topics_group.command("history")
@click.argument("topic_id", required=False)
@click.option("--limit", default=50, show_default=True, help="How many entries.")
@pass_app
def topics_history(app: AppContext, topic_id: str | None, limit: int) -> None:
    """Who changed which topic when, newest first.

    \b
    Example:
      yuqing topics history police
    """
    with app.session() as session:
        entries = audit.history(session, topic_id, limit)
    if not entries:
        click.echo("no changes recorded" + (f" for {topic_id}" if topic_id else ""))
    tz = app.config.settings.timezone
    for e in entries:
        detail = json.dumps(e.detail, ensure_ascii=False)
        click.echo(f"{local_time(e.at, tz, seconds=True)}  {e.actor:12} {e.action:16} {e.target:20} {detail}")
