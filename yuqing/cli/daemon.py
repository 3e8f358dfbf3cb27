"""``yuqing run`` and ``yuqing status``."""

from __future__ import annotations

import json
import os
import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config import load_config
from storage.context import AppContext
from storage.db import require_current
from yuqing.base.clock import utcnow
from yuqing.base.errors import ConfigError, YuqingError
from yuqing.cli.app import pass_app
from yuqing.daemon.snapshot import last_accepted
from yuqing.daemon.status import Status, collect_status


@click.command("run")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level (default: settings log_level).")
@pass_app
def run_command(app: AppContext, verbose: bool) -> None:
    """Run the scheduled daemon: crawls, analysis, alerts, digests (Ctrl-C or SIGTERM stops it).

    Jobs come from the config and are kept in the database; edits to the config directory are
    applied without a restart (a broken edit is refused and the previous config keeps running;
    SIGHUP reloads at once). Only one daemon per database runs jobs; others wait on standby.

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
    sys.exit(scheduler.main(app.config_dir, verbose=verbose))


def print_status(status: Status, console: Console) -> None:
    """The human-readable status: lease, jobs, sources, deliveries."""
    held = status.lease
    console.print(
        f"daemon: {'running, lease held by ' + held['owner'] if held and held['alive'] else 'not running'}"
        + (f" (until {held['expires_at']})" if held and held["alive"] else "")
    )
    jobs = Table("job", "schedule", "next run (UTC)", "last run", title="Scheduled jobs", title_justify="left")
    for job in status.jobs:
        last = f"{job['last_run']} {job['last_outcome']}" if job["last_outcome"] else "not run yet"
        jobs.add_row(
            job["id"], job["name"], job["next_run"] or ("paused" if job["scheduled"] else "not scheduled"), last
        )
    console.print(jobs if status.jobs else "no jobs scheduled yet (start `yuqing run`)")
    for job in (j for j in status.jobs if j["failed"]):
        console.print(
            f"[red]FAILED[/red] job {job['id']}: {job['last_outcome']} at {job['last_run']}: "
            f"{escape(job['error'])} (last ok: {job['last_ok'] or 'never'})"
        )
    sources = Table("source", "enabled", "health", "last runs (newest first)", title="Sources", title_justify="left")
    for src in status.sources:
        runs = "; ".join(f"{r['started_at']} {r['status']} new={r['new']}" for r in src["runs"]) or "never run"
        sources.add_row(src["id"], "yes" if src["enabled"] else "no", src["health"], runs)
    console.print(sources)
    counts = status.deliveries["counts"]
    console.print("deliveries: " + (", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none"))
    for item in status.deliveries["open"]:
        console.print(
            f"  {item['status']:7} {item['key']} → {item['channel']}:{item['recipient']} "
            f"attempts={item['attempts']} {escape(item['error'])}"
        )
    for item in status.deliveries.get("sent_with_problems", []):
        console.print(
            f"  [yellow]sent with a problem[/yellow] {item['key']} → {item['channel']}:{item['recipient']} "
            f"{escape(item['problem'])}"
        )


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
            f"warning: {exc}\nshowing the status with the configuration the daemon last accepted ({snapshot})", err=True
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
