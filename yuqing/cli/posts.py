"""Finding posts: ``yuqing posts list|search|show``. Titles are cleaned and masked as in the digest
(``alerts.digest_mask_pii``); times are in the configured timezone, labelled; ids everywhere."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click

from alerts import deliveries as dl
from alerts.digest import clean, clean_url, masker, risk_name
from alerts.immediate import EVENT_KEY, POST_KEY
from config import Config
from storage.context import AppContext
from storage.posts import PostDetail, PostQuery, PostSummary, find_posts, post_detail
from yuqing.base.clock import iso_utc, local_time, utcnow
from yuqing.base.errors import YuqingError
from yuqing.cli.app import pass_app

TITLE_WIDTH = 60
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%d %H:%M"]


class Shown:
    """How this config shows crawled strings and times (masked, cleaned, local time)."""

    def __init__(self, config: Config) -> None:
        self.mask = masker(config.alerts.digest.mask_pii)
        self.tz_name = config.settings.timezone
        self.tz = ZoneInfo(self.tz_name)
        self.risk_names = config.alerts.risk.names
        self.topic_names = {t.id: t.name for t in config.topics.topics}

    def text(self, value: str | None) -> str:
        return self.mask(clean(value or ""))

    def time(self, value: datetime | None) -> str:
        return local_time(value, self.tz)

    def iso(self, value: datetime | None) -> str | None:
        return iso_utc(value)

    def risk(self, level: int | None) -> str:
        return risk_name(level or 0, self.risk_names) or "-"


def summary_json(shown: Shown, p: PostSummary) -> dict[str, Any]:
    return {
        "id": p.id,
        "source": p.source_id,
        "title": shown.text(p.title),
        "url": shown.mask(clean_url(p.url)),
        "published_at": shown.iso(p.published_at),
        "fetched_at": shown.iso(p.fetched_at),
        "timezone": shown.tz_name,
        "analysed": p.relevant is not None,
        "relevant": p.relevant,
        "topics": p.topics,
        "negative": p.negative,
        "negative_score": p.negative_score,
        "risk_level": p.risk_level,
        "risk": shown.risk(p.risk_level) if p.risk_level else None,
        "risk_score": p.risk_score,
        "event_id": p.event_id,
    }


def summary_line(shown: Shown, p: PostSummary) -> str:
    title = shown.text(p.title) or "(no title)"
    title = title if len(title) <= TITLE_WIDTH else title[: TITLE_WIDTH - 1] + "…"
    negative = "-" if p.negative_score is None else f"{p.negative_score:.2f}{'!' if p.negative else ''}"
    topics = ",".join(p.topics) or "-"
    return f"#{p.id:<6} {shown.time(p.time)}  {shown.risk(p.risk_level):4} neg {negative:5}  {p.source_id}  {title}  [{topics}]"


def echo_summaries(shown: Shown, posts: list[PostSummary], as_json: bool, empty: str) -> None:
    if as_json:
        for p in posts:
            click.echo(json.dumps(summary_json(shown, p), ensure_ascii=False))
        return
    if not posts:
        click.echo(empty)
        return
    click.echo(f"times in {shown.tz_name} (published, else collected); neg = negative score, ! = negative")
    for p in posts:
        click.echo(summary_line(shown, p))
    click.echo("details: yuqing posts show ID")


def parse_time(value: str | None, tz: ZoneInfo, option: str) -> datetime | None:
    """A local date or date and time (YYYY-MM-DD [HH:MM]) in the configured timezone."""
    if value is None:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise click.BadParameter(f'"{value}" is not YYYY-MM-DD or "YYYY-MM-DD HH:MM"', param_hint=option)


def risk_level(config: Config, value: str | None, option: str) -> int | None:
    """A risk level by name (一般/较大/重大 as alerts.yaml names them) or number 0-3."""
    if value is None:
        return None
    names = config.alerts.risk.names
    if value in names:
        return names.index(value) + 1
    if value.isdigit() and int(value) <= len(names):
        return int(value)
    raise click.BadParameter(f'"{value}": use one of {", ".join(names)} or 0-{len(names)}', param_hint=option)


def filters(func: Callable[..., Any]) -> Callable[..., Any]:
    """The filter options shared by ``list`` and ``search``."""
    options = [
        click.option("--topic", help="Only posts kept under this topic id."),
        click.option("--risk", "risk", help="Only this risk level (e.g. 较大)."),
        click.option("--min-risk", "min_risk", help="Only this risk level or higher (name or 1-3)."),
        click.option("--negative/--not-negative", "negative", default=None, help="Only negative (or not) posts."),
        click.option("--source", help="Only this source id."),
        click.option("--since", help="From this local date/time (YYYY-MM-DD [HH:MM])."),
        click.option("--until", help="Before this local date/time."),
        click.option("--days", type=click.IntRange(min=1), help="Only the last N days (instead of --since)."),
        click.option("--sort", type=click.Choice(["newest", "risk"]), default="newest", show_default=True),
        click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True),
        click.option("--json", "as_json", is_flag=True, help="One JSON object per post."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_query(app: AppContext, words: tuple[str, ...], relevant_only: bool, **opts: Any) -> PostQuery:
    config = app.config
    tz = ZoneInfo(config.settings.timezone)
    since = parse_time(opts["since"], tz, "--since")
    if opts["days"] is not None:
        if since is not None:
            raise click.UsageError("give --since or --days, not both")
        since = utcnow() - timedelta(days=opts["days"])
    if opts["topic"] is not None and config.topics.get(opts["topic"]) is None:
        known = ", ".join(t.id for t in config.topics.topics)
        raise YuqingError(f'unknown topic "{opts["topic"]}"', f"topics: {known}")
    return PostQuery(
        words=words,
        topic=opts["topic"],
        risk_level=risk_level(config, opts["risk"], "--risk"),
        min_risk=risk_level(config, opts["min_risk"], "--min-risk"),
        negative=opts["negative"],
        source=opts["source"],
        since=since,
        until=parse_time(opts["until"], tz, "--until"),
        relevant_only=relevant_only,
        sort=opts["sort"],
        limit=opts["limit"],
    )


@click.group("posts")
def posts_group() -> None:
    """Find posts and their ids: list with filters, search by a phrase, show one in full.

    \b
    Example:
      yuqing posts search 保护伞
      yuqing posts list --topic police --min-risk 较大 --days 3
      yuqing posts show 320
    """


@posts_group.command("list")
@click.option("--relevant/--all", "relevant_only", default=True, help="Only relevant posts (default) or all.")
@filters
@pass_app
def posts_list(app: AppContext, relevant_only: bool, as_json: bool, **opts: Any) -> None:
    """List posts, newest (or riskiest, --sort risk) first.

    \b
    Example:
      yuqing posts list --negative --days 1
      yuqing posts list --topic courts --sort risk --limit 10 --json
    """
    query = build_query(app, (), relevant_only, **opts)
    with app.session() as session:
        posts = find_posts(session, query)
    echo_summaries(Shown(app.config), posts, as_json, "no posts match" + ("" if not relevant_only else " (try --all)"))


@posts_group.command("search")
@click.argument("phrase")
@click.option("--relevant/--all", "relevant_only", default=False, help="Only relevant posts, or all (default).")
@filters
@pass_app
def posts_search(app: AppContext, phrase: str, relevant_only: bool, as_json: bool, **opts: Any) -> None:
    """Find posts whose words include every word of PHRASE, in the full-text index the console
    searches too (posts stored before the index existed: `yuqing posts reindex`).

    \b
    Example:
      yuqing posts search "冒充公检法"
      yuqing posts search 保护伞 --topic protective-umbrella --json
    """
    from nlp.job import build_segmenter
    from nlp.searchindex import search_words

    words = tuple(search_words(build_segmenter(app.config), phrase))
    if not words:
        raise YuqingError("empty phrase", 'give words to look for, e.g. yuqing posts search "派出所"')
    query = build_query(app, words, relevant_only, **opts)
    with app.session() as session:
        posts = find_posts(session, query)
    echo_summaries(
        Shown(app.config), posts, as_json, f'no post matches "{phrase}" (unindexed posts: yuqing posts reindex)'
    )


@posts_group.command("reindex")
@click.option("--all", "everything", is_flag=True, help="Index every post again, not only those the index lacks.")
@pass_app
def posts_reindex(app: AppContext, everything: bool) -> None:
    """Build the full-text index for posts stored before it existed (the analysis indexes new posts).

    Runs in batches, each committed: a stopped run keeps what it did and running it again goes on.

    \b
    Example:
      yuqing posts reindex
      yuqing posts reindex --all
    """
    from nlp.job import build_segmenter
    from nlp.searchindex import reindex
    from yuqing.cli.progress import progress_display

    with progress_display() as progress:
        done = reindex(app.sessions, build_segmenter(app.config), everything=everything, progress=progress)
    click.echo(f"indexed {done} post(s)" + ("" if done or everything else "; the index already holds every post"))


def detail_json(shown: Shown, d: PostDetail, deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        **summary_json(shown, d.post),
        "author": shown.text(d.author),
        "analysed_at": shown.iso(d.analyzed_at),
        "topic_hits": [
            {"topic": h.topic, "terms": [shown.mask(t) for t in h.terms], "relevance": h.relevance} for h in d.hits
        ],
        "reasons": d.reasons,
        "event": d.event.__dict__ | {"title": shown.text(d.event.title)} if d.event else None,
        "labels": [{**lab.__dict__, "by": lab.by, "created_at": shown.iso(lab.created_at)} for lab in d.labels],
        "deliveries": deliveries,
        "text": shown.text(d.text),
    }


def delivery_records(app: AppContext, shown: Shown, d: PostDetail) -> list[dict[str, Any]]:
    """The alerts recorded for the post or its event, with their state."""
    keys = [f"{POST_KEY}{d.post.id}"] + ([f"{EVENT_KEY}{d.event.id}"] if d.event else [])
    with app.session() as session:
        rows = dl.by_keys(session, keys)
        return [
            {
                "id": r.id,
                "key": r.key,
                "channel": r.channel,
                "recipient": r.recipient,
                "status": r.status,
                "sent_at": shown.iso(r.sent_at),
                "reason": clean(r.last_error)[:160],
            }
            for r in rows
        ]


def label_text(relevant: bool | None, negative: bool | None, topic: str | None) -> str:
    parts = []
    if relevant is not None:
        parts.append(("relevant" if relevant else "irrelevant") + (f" to {topic}" if topic else ""))
    if negative is not None:
        parts.append("negative" if negative else "not negative")
    return ", ".join(parts)


def echo_detail(shown: Shown, d: PostDetail, deliveries: list[dict[str, Any]]) -> None:
    p = d.post
    click.echo(f"post #{p.id}: {shown.text(p.title) or '(no title)'}")
    click.echo(f"  source     {p.source_id}   url {shown.mask(clean_url(p.url))}")
    click.echo(f"  published  {shown.time(p.published_at)}   collected {shown.time(p.fetched_at)}   ({shown.tz_name})")
    if p.relevant is None:
        click.echo("  not analysed yet (yuqing analyze)")
    else:
        state = "negative" if p.negative else "not negative"
        click.echo(
            f"  analysis   {'relevant' if p.relevant else 'not relevant'}, {state} (score {p.negative_score:.2f}), "
            f"risk {shown.risk(p.risk_level)} ({p.risk_score:.2f}), analysed {shown.time(d.analyzed_at)}"
        )
    for h in d.hits:
        name = shown.topic_names.get(h.topic, h.topic)
        click.echo(
            f"  topic      {h.topic} ({name}) relevance {h.relevance:.2f}: {'、'.join(map(shown.mask, h.terms))}"
        )
    if d.event:
        e = d.event
        click.echo(
            f"  event      #{e.id} {e.post_count} post(s) from {e.source_count} source(s), "
            f"risk {shown.risk(e.risk_level)} ({e.risk_score:.2f})"
        )
    for lab in d.labels:
        by = f" by {shown.text(lab.by)}" if lab.by else ""
        click.echo(
            f"  label      #{lab.id} {label_text(lab.relevant, lab.negative, lab.topic)}{by} {shown.time(lab.created_at)}"
        )
    for r in deliveries:
        reason = f" ({r['reason']})" if r["reason"] else ""
        click.echo(f"  alert      #{r['id']} {r['status']} {r['key']} → {r['recipient']}{reason}")
    if not deliveries:
        click.echo("  alerts     none")


@posts_group.command("show")
@click.argument("post_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (with the text).")
@pass_app
def posts_show(app: AppContext, post_id: int, as_json: bool) -> None:
    """Show one post: source, link, times, topics and matched terms, negativity, risk, event,
    labels and the alerts recorded for it.

    \b
    Example:
      yuqing posts show 320
      yuqing posts show 320 --json
    """
    with app.session() as session:
        detail = post_detail(session, post_id)
    if detail is None:
        raise YuqingError(f"no post with id {post_id}", "find ids with `yuqing posts search PHRASE`")
    shown = Shown(app.config)
    deliveries = delivery_records(app, shown, detail)
    if as_json:
        click.echo(json.dumps(detail_json(shown, detail, deliveries), ensure_ascii=False, default=str))
        return
    echo_detail(shown, detail, deliveries)
