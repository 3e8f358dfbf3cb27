"""``yuqing demo``: see the real pipeline work offline in a minute."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from config import default_data_dir
from web.server import Background
from yuqing.demo.run import DEMO_USER, DemoResult, demo_account, demo_environ, run_demo, served_app
from yuqing.demo.site import DemoSite
from yuqing.demo.site import serve as start_site


def default_demo_dir() -> Path:
    return default_data_dir(os.environ) / "demo"


def print_summary(result: DemoResult) -> None:
    click.echo("Collected:")
    for crawl in result.crawls:
        status = crawl.get("status", "?")
        click.echo(
            f"  {crawl.get('source', '?'):12} {status:8} {crawl.get('new', 0):3} new posts"
            + (f"  ({crawl['error']})" if crawl.get("error") else "")
        )
    click.echo(
        f"Posts: {result.posts}   relevant: {result.relevant}   negative: {result.negative}   "
        f"high-risk (较大 and above): {result.high_risk}"
    )
    click.echo(
        f"Events: {result.events} ({result.merged_events} merging reposts across posts)   "
        f"alerts sent: {result.alerts}   digests sent: {result.digests}"
    )
    click.echo(f"Outbox: {result.outbox}")
    for path in result.files:
        click.echo(f"  {path.name}")
    click.echo(f"Done in {result.seconds:.0f} s. Open the .html digest in a browser, or the .eml in a mail client.")


@click.command("demo")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the demo keeps its config, database and outbox (default: <data dir>/demo).",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Then keep the demo site, the daemon and the console (user demo) running until Ctrl-C.",
)
@click.option(
    "--port", type=int, default=8600, show_default=True, help="The console's port with --serve (0: any free one)."
)
def demo(data_dir: Path | None, serve: bool, port: int) -> None:
    """Run the whole pipeline once on a local demo site, offline.

    Starts a local site on 127.0.0.1 that looks like the real sources (a news portal with RSS, a
    GBK forum with relative times, a government message board, a public JSON API) serving
    fictional posts about the political-legal sector; crawls it, analyses the posts, sends the
    immediate alerts and the daily digest into an outbox folder, and prints a summary. With
    --serve the daemon keeps running on the demo, and the console is served on 127.0.0.1 with an
    analyst account `demo` whose random password is printed.

    \b
    Example:
      yuqing demo
      yuqing demo --data-dir /tmp/yuqing-demo
      yuqing demo --serve --port 8601
    """
    directory = (data_dir or default_demo_dir()).expanduser().resolve()
    click.echo(f"Demo data dir: {directory} (the database and outbox are reset on each run)")
    server, base = start_site(DemoSite(datetime.now(timezone.utc)))
    try:
        click.echo(f"Demo site: {base}/")
        print_summary(run_demo(directory, base))
        if serve:
            serve_demo(directory, port)
    finally:
        server.shutdown()


def serve_demo(directory: Path, port: int) -> None:
    """The console (with a new ``demo`` analyst) and the daemon on the demo until Ctrl-C or SIGTERM."""
    app = served_app(directory, os.environ)
    try:
        password = demo_account(app)
        console = Background(app, "127.0.0.1", port)
        console.start()
        try:
            click.echo(f"Console 控制台: {console.url}/")
            click.echo(f"  user 账号: {DEMO_USER}   password 密码: {password}   (analyst 分析员; new on each demo run)")
            click.echo(f"  an admin 管理员: yuqing --config {directory / 'config'} users add NAME --role admin")
            previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops it as Ctrl-C does
            try:
                run_daemon(directory)
            finally:
                signal.signal(signal.SIGTERM, previous)
        finally:
            console.stop()
    finally:
        app.close()


def run_daemon(directory: Path) -> None:
    """The real daemon on the demo config until Ctrl-C (new posts appear on the site meanwhile)."""
    click.echo("Starting the daemon on the demo config (crawls every minute); Ctrl-C stops it.")
    command = [sys.executable, "-m", "yuqing.cli", "--config", str(directory / "config"), "run"]
    daemon = subprocess.Popen(command, env=demo_environ(directory, os.environ))
    try:
        daemon.wait()
    except KeyboardInterrupt:
        daemon.send_signal(signal.SIGINT)
        daemon.wait(timeout=60)
        click.echo("Stopped.")
