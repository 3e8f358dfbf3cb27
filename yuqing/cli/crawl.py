"""CLI of the Collect stage: ``yuqing crawl``, ``yuqing sources list``, ``yuqing extract``."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from crawlers.context import find_source
from crawlers.launch import ALREADY_RUNNING, crawl_source
from storage.context import AppContext
from storage.runs import last_runs
from yuqing.base.clock import iso_utc, local_time
from yuqing.base.errors import CrawlError
from yuqing.cli.app import pass_app
from yuqing.cli.progress import progress_display

COLUMNS = ("status", "pages", "items", "new", "duplicate", "dropped", "errors")


def _print_summary(summary: dict[str, Any]) -> None:
    counts = "  ".join(f"{name}={summary.get(name, 0)}" for name in COLUMNS[1:])
    click.echo(f"{summary['source']}: {summary['status']}  {counts}")
    for number, line in enumerate(str(summary.get("error") or "").splitlines()):
        click.echo(f"  {'cause: ' if number == 0 else '       '}{line}")
    for warning in summary.get("warnings", []):
        click.echo(f"  warning: {warning}")


@click.command("crawl")
@click.argument("source_id", required=False)
@click.option("--all", "all_sources", is_flag=True, help="Crawl every enabled source, one process each.")
@click.option("--max-pages", type=click.IntRange(1), help="Follow at most N list/feed/API pages.")
@click.option("--json", "as_json", is_flag=True, help="One JSON summary per line.")
@click.option(
    "--parallel",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="With --all: how many sources crawl at once (each in its own process).",
)
@click.option("--now", hidden=True, help="ISO time relative dates count back from (tests).")
@click.option("--set", "extra", multiple=True, hidden=True, metavar="NAME=VALUE", help="Scrapy setting.")
@pass_app
def crawl(
    app: AppContext,
    source_id: str | None,
    all_sources: bool,
    max_pages: int | None,
    as_json: bool,
    parallel: int,
    now: str | None,
    extra: tuple[str, ...],
) -> None:
    """Crawl one source, or every enabled source, and print the counts of each run.

    Each source runs in its own process; a failing source never stops the others. A source that is
    being crawled already (by the daemon or another `yuqing crawl`) is not crawled twice.
    Exit status 1 when any crawl failed, else 3 when any source was being crawled already.

    \b
    Example:
      yuqing crawl people-politics --max-pages 2
      yuqing crawl --all --parallel 8
    """
    config = app.config
    if bool(source_id) == all_sources:
        raise CrawlError("give a SOURCE_ID or --all", "list the sources with `yuqing sources list`")
    if source_id:
        sources = [find_source(config, source_id)]
    else:
        sources = [s for s in config.sources.sources if s.enabled]
    with app.session():
        pass  # refuse early, with a hint, when the database is not migrated
    for source in sources:
        if not source.enabled:
            click.echo(
                f"note: {source.id} is disabled ({source.disabled_reason or 'no reason given'}); "
                "crawling it because it was asked for by name",
                err=True,
            )
    step = f"crawling {sources[0].id}" if len(sources) == 1 else f"crawling {len(sources)} sources"
    with progress_display(enabled=not as_json) as progress, ThreadPoolExecutor(max_workers=parallel) as pool:
        progress(step, 0, len(sources))
        summaries = pool.map(
            lambda source: crawl_source(config, source.id, max_pages=max_pages, now=now, extra=extra).summary(), sources
        )
        statuses = []
        for summary in summaries:  # in config order, each as soon as it and those before it are done
            statuses.append(summary["status"])
            progress(step, len(statuses), len(sources))
            click.echo(json.dumps(summary, ensure_ascii=False) if as_json else "", nl=as_json)
            if not as_json:
                _print_summary(summary)
    if {"failed", "timeout"} & set(statuses):
        raise SystemExit(1)
    if "already-running" in statuses:
        raise SystemExit(ALREADY_RUNNING)


@click.group("sources")
def sources_group() -> None:
    """Inspect the configured sources.

    \b
    Example:
      yuqing sources list
    """


@sources_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@pass_app
def sources_list(app: AppContext, as_json: bool) -> None:
    """List every source with its last crawl run (when, status, new posts).

    \b
    Example:
      yuqing sources list
      yuqing sources list --json | jq .last_status
    """
    tz = app.config.settings.timezone
    with app.session() as session:
        runs = last_runs(session)
    for source in app.config.sources.sources:
        run = runs.get(source.id)
        row = {
            "id": source.id,
            "name": source.name,
            "kind": source.kind,
            "enabled": source.enabled,
            "media_type": source.media_type,
            "media_level": source.media_level,
            "last_run": iso_utc(run.started_at) if run else None,
            "last_status": run.status if run else None,
            "last_new": run.new if run else None,
        }
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        state = "enabled " if source.enabled else "disabled"
        last = f"{local_time(run.started_at, tz)} {run.status} new={run.new}" if run else "never crawled"
        click.echo(f"{source.id:24} {source.kind:8} {state} {source.media_level} {source.name}  [{last}]")


@click.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The page's URL (helps resolve links and pick the site's rules).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, with a `file` key.")
@pass_app
def extract(app: AppContext, files: tuple[Path, ...], url: str | None, as_json: bool) -> None:
    """Run the spiders' article extraction on saved pages (raw bytes: encodings are detected).

    \b
    Example:
      yuqing extract saved/page.html --url https://www.example.cn/a/1.html
      yuqing extract *.html --json > articles.jsonl
    """
    from crawlers.dates import parse_datetime
    from crawlers.extract import extract_bytes  # trafilatura: only when extracting

    tz = ZoneInfo(app.config.settings.timezone)
    now = datetime.now(timezone.utc)
    for path in files:
        article = extract_bytes(path.read_bytes(), url)
        published = parse_datetime(article.published, tz, now)
        row = {
            "file": str(path),
            "title": article.title,
            "published_at": published.isoformat() if published else None,
            "author": article.author,
            "text": article.text,
        }
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(
                f"== {path}\ntitle: {article.title}\npublished: {local_time(published, tz)}\n"
                f"author: {article.author or '-'}\n\n{article.text}\n"
            )
