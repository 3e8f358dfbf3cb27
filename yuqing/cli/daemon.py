"""``yuqing run`` and ``yuqing status``."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config import load_config
from storage.context import AppContext
from storage.db import require_current
from yuqing.base.clock import local_time, utcnow
from yuqing.base.errors import ConfigError, YuqingError
from yuqing.cli.app import pass_app
from yuqing.daemon.faults import human_bytes
from yuqing.daemon.snapshot import last_accepted
from yuqing.daemon.status import Status, collect_status

log = logging.getLogger("yuqing.daemon")


@click.command("run")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level (default: settings log_level).")
@pass_app
def run_command(app: AppContext, verbose: bool) -> None:
    """Run the scheduled daemon: crawls, analysis, alerts, digests (Ctrl-C or SIGTERM stops it).

    Jobs come from the config and are kept in the database; edits to the config directory are
    applied without a restart (a broken edit is refused and the previous config keeps running;
    SIGHUP reloads at once). Only one daemon per database runs jobs; others wait on standby.
    With `web: enabled: true` in settings.yaml it serves the console too (as `yuqing web`).

    \b
    Example:
      yuqing init && yuqing run
      yuqing --config /etc/yuqing run
      kill -HUP $(pgrep -f "yuqing.*run")    # reload the config now
    """
    try:
        import scheduler
    except ImportError as exc:  # e.g. a stage entry point missing after a partial upgrade
        raise YuqingError(
            f"the daemon cannot start: {exc}",
            "yuqing's installation is incomplete or mixed with another version: reinstall it "
            "(./start.sh, or pip install -e . in the checkout) and run `yuqing doctor`",
        ) from exc
    sys.exit(scheduler.main(app.config_dir, verbose=verbose, beside=console_beside))


@contextmanager
def console_beside(app: AppContext) -> Iterator[None]:
    """The console in a thread of the daemon while it runs, when settings ``web.enabled``."""
    settings = app.config.settings.web
    if not settings.enabled:
        yield
        return
    from web.server import serving

    with serving(app) as console:
        log.info("console served on %s/ (settings web)", console.url)
        yield
    log.info("console stopped")


def local(value: str | None, tz: str) -> str:
    """An ISO time from the status as ``2026-12-01 08:00:00 +08:00`` in the configured timezone."""
    return local_time(datetime.fromisoformat(value), tz, seconds=True) if value else "-"


def daemon_line(status: Status) -> str:
    """``daemon: running …`` / ``daemon: degraded: disk full since …`` / ``daemon: not running``."""
    held, state, tz = status.lease, status.daemon, status.timezone
    if state.get("state") == "degraded" and held:
        return (
            f"daemon: [red]degraded: {state['kind']} since {local(state['since'], tz)} ({tz})[/red]: the daemon "
            f"({held['owner']}) runs no jobs and has given up its lease (a standby may take over); data dir "
            f"{state['data_dir']} has {human_bytes(int(state['free_bytes']))} free. It resumes by itself once "
            "the fault ends and catches up what was missed."
        )
    if held and held["alive"]:
        return f"daemon: running, lease held by {held['owner']} (until {local(held['expires_at'], tz)} {tz})"
    return "daemon: not running"


def print_status(status: Status, console: Console) -> None:
    """The human-readable status: lease, jobs, sources, deliveries; times in the configured timezone."""
    tz = status.timezone
    console.print(daemon_line(status))
    jobs = Table("job", "schedule", f"next run ({tz})", "last run", title="Scheduled jobs", title_justify="left")
    for job in status.jobs:
        last = f"{local(job['last_run'], tz)} {job['last_outcome']}" if job["last_outcome"] else "not run yet"
        jobs.add_row(
            job["id"],
            job["name"],
            local(job["next_run"], tz) if job["next_run"] else ("paused" if job["scheduled"] else "not scheduled"),
            last,
        )
    console.print(jobs if status.jobs else "no jobs scheduled yet (start `yuqing run`)")
    for job in (j for j in status.jobs if j["failed"]):
        console.print(
            f"[red]FAILED[/red] job {job['id']}: {job['last_outcome']} at {local(job['last_run'], tz)}: "
            f"{escape(job['error'])} (last ok: {local(job['last_ok'], tz) if job['last_ok'] else 'never'})"
        )
    sources = Table("source", "enabled", "health", "last runs (newest first)", title="Sources", title_justify="left")
    for src in status.sources:
        runs = (
            "; ".join(
                f"{local(r['started_at'], tz)} {r['status']} new={r['new']}"
                + "".join(f" (warning: {escape(w)})" for w in r.get("warnings", []))
                for r in src["runs"]
            )
            or "never run"
        )
        sources.add_row(src["id"], "yes" if src["enabled"] else "no", src["health"], runs)
    console.print(sources)
    counts = status.deliveries["counts"]
    console.print("deliveries: " + (", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none"))
    if status.deliveries["open"]:
        console.print(f"open deliveries (times in {tz}):")
    for item in status.deliveries["open"]:
        console.print(
            f"  {item['status']:7} {item['key']} → {item['channel']}:{item['recipient']} "
            f"attempts={item['attempts']} next attempt: {delivery_next(item, tz)} "
            f"error: {escape(item['error']) or '-'}"
        )
    for item in status.deliveries.get("cancelled", []):
        console.print(f"  cancelled {item['key']} → {item['recipient']} ({escape(item['reason'])})")
    for item in status.deliveries.get("sent_with_problems", []):
        console.print(
            f"  [yellow]sent with a problem[/yellow] {item['key']} → {item['channel']}:{item['recipient']} "
            f"{escape(item['problem'])}"
        )


def delivery_next(item: dict[str, object], tz: str) -> str:
    """When an open delivery is tried next; a claimed one may be being sent right now."""
    value = item.get("next_attempt_at")
    if not value:
        return "at the next retry run"
    text = local(str(value), tz)
    if item.get("status") == "pending" and int(str(item.get("attempts") or 0)) > 0 and not item.get("error"):
        return f"{text} (claimed by a sender: being sent, or retried then if that sender was cut off)"
    return text


def status_app(app: AppContext) -> AppContext:
    """The app to report on: ``app`` when its config is valid; while an edit is broken, the
    configuration the daemon last accepted (with a warning), so the status stays readable."""
    try:
        _ = app.config  # loads and validates: a ConfigError here means an edit is broken
        return app
    except ConfigError as exc:
        found = last_accepted(app.config_dir, os.environ)
        if found is None:
            raise
        snapshot, data_dir = found
        fallback = AppContext(
            config_dir=snapshot, _config=load_config(snapshot, {**os.environ, "YUQING_DATA_DIR": str(data_dir)})
        )
        click.echo(
            f"warning: {exc}\nthe daemon runs with the configuration it last accepted ({snapshot}) until "
            "the files are fixed; showing the status with that configuration",
            err=True,
        )
        return fallback


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts and monitoring).")
@pass_app
def status_command(app: AppContext, as_json: bool) -> None:
    """Show the daemon's lease, scheduled jobs with next run times, each source's last runs and
    health, and pending or failed deliveries.

    \b
    Example:
      yuqing status
      yuqing status --json | jq '.sources[] | select(.health != "ok")'
    """
    app = status_app(app)
    require_current(app.engine)
    status = collect_status(app.engine, app.config, utcnow())
    if as_json:
        click.echo(json.dumps(status.to_json(), ensure_ascii=False, indent=2))
    else:
        print_status(status, Console(soft_wrap=True))
