"""Foundation commands: ``init``, ``config check``, ``doctor``."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable
from datetime import timedelta

import click
from sqlalchemy.exc import SQLAlchemyError

from alerts.channels.mail import check_smtp
from config import load_config
from config.alerts_model import webhook_url_problem
from storage import leases
from storage.context import AppContext
from storage.db import current_revision, head_revision, upgrade
from storage.leases import make_owner
from yuqing.base.clock import utcnow
from yuqing.base.errors import ConfigError, YuqingError
from yuqing.base.private import tighten
from yuqing.cli.app import pass_app
from yuqing.daemon.faults import human_bytes


@click.command()
@pass_app
def init(app: AppContext) -> None:
    """Create the data directory and create or upgrade the database.

    \b
    Example:
      yuqing init
      YUQING_DATABASE_URL=postgresql+psycopg://yuqing@127.0.0.1/yuqing yuqing init
    """
    config = app.config
    for path in (config.data_dir, config.outbox_dir, config.models_dir, config.logs_dir):
        path.mkdir(parents=True, exist_ok=True)
    before, after = upgrade(app.engine)
    for directory in dict.fromkeys((config.data_dir, config.outbox_dir)):
        loosened = tighten(directory)
        if loosened:
            click.echo(
                f"note: {len(loosened)} path(s) under {directory} were readable by others; now private to "
                "this user (the data dir holds personal data)",
                err=True,
            )
    state = "created" if before is None else ("already current" if before == after else f"upgraded from {before}")
    click.echo(f"data dir:  {config.data_dir}")
    click.echo(f"database:  {app.engine.url.render_as_string(hide_password=True)} ({state}, schema {after})")


@click.group("config")
def config_group() -> None:
    """Inspect the configuration.

    \b
    Example:
      yuqing config check
    """


@config_group.command("check")
@pass_app
def config_check(app: AppContext) -> None:
    """Validate every config file and print every problem (exit 1 on any).

    \b
    Example:
      yuqing --config ./myconfig config check
    """
    try:
        config = load_config(app.config_dir)
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        click.echo(f"{len(exc.issues)} problem(s) in {app.config_dir}", err=True)
        sys.exit(1)
    enabled = sum(1 for s in config.sources.sources if s.enabled)
    click.echo(
        f"OK: {app.config_dir}: {len(config.sources.sources)} sources ({enabled} enabled), "
        f"{len(config.topics.topics)} topics, {len(config.alerts.groups)} recipient groups"
    )


def _check_config(app: AppContext) -> str:
    config = app.config
    return f"{app.config_dir} ({len(config.sources.sources)} sources, {len(config.topics.topics)} topics)"


DOCTOR_BYTES = 64 * 1024
LOW_SPACE = 100 * 1024 * 1024


def _check_data_dir(app: AppContext) -> str:
    """Really write (and fsync) 64 KB in the data dir, as the database and the outbox would; report
    the free space (a nearly full disk fails here before it stops the daemon)."""
    data_dir = app.config.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-") as fh:
            fh.write(os.urandom(DOCTOR_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise YuqingError(
            f"{data_dir} is not writable: {exc}",
            "free disk space or give the user running yuqing write access to the data dir",
        ) from None
    free = shutil.disk_usage(data_dir).free
    detail = f"{data_dir} is writable ({DOCTOR_BYTES // 1024} KB written and synced), {human_bytes(free)} free"
    if free < LOW_SPACE:
        raise YuqingError(
            detail + ": the disk is nearly full",
            "free disk space; with the disk full the daemon cannot record anything and pauses",
        )
    return detail


def _check_database(app: AppContext) -> str:
    url = app.engine.url.render_as_string(hide_password=True)
    current = current_revision(app.engine)
    head = head_revision()
    if current != head:
        raise YuqingError(f"{url} is at {current or 'no schema'}, newest is {head}", "run `yuqing init`")
    # a real write (and delete) of a row: a read-only or full database fails here, not in the daemon
    name, owner, now = f"doctor:{uuid.uuid4().hex[:12]}", make_owner(), utcnow()
    try:
        written = leases.acquire(app.engine, name, owner, now, timedelta(seconds=60))
        leases.release(app.engine, name, owner)
    except SQLAlchemyError as exc:
        raise YuqingError(
            f"{url} cannot be written: {str(exc).splitlines()[0]}",
            "free disk space, or check the database's permissions",
        ) from None
    if not written:
        raise YuqingError(f"{url}: a test row could not be written")
    return f"{url} reachable and writable, schema {current} is current"


def _check_mail(app: AppContext) -> str:
    mail = app.config.settings.mail
    if mail.transport == "outbox":
        outbox = app.config.outbox_dir
        outbox.mkdir(parents=True, exist_ok=True)
        if not os.access(outbox, os.W_OK):
            raise YuqingError(f"outbox {outbox} is not writable")
        return f"outbox {outbox} is writable (no SMTP server configured)"
    # Connects as sending does (TLS, certificate verified) and logs in: a wrong password or an
    # untrusted certificate shows here, not at the first digest.
    doctor_mail = mail.model_copy(update={"smtp": mail.smtp.model_copy(update={"timeout": min(mail.smtp.timeout, 10)})})
    return check_smtp(doctor_mail, os.environ)


def _check_webhooks(app: AppContext) -> str:
    """Every webhook channel's URL (and signing secret) is set and usable; values never shown."""
    problems, ready = [], []
    for channel in app.config.alerts.channels:
        if channel.type == "email" or not channel.url_env:
            continue
        value = os.environ.get(channel.url_env)
        problem = "is not set" if not value else webhook_url_problem(value)
        if problem:
            problems.append(f"{channel.id}: {channel.url_env} {problem}")
        elif channel.secret_env and not os.environ.get(channel.secret_env):
            problems.append(f"{channel.id}: {channel.secret_env} is not set")
        else:
            ready.append(channel.id)
    if problems:
        raise YuqingError(
            "; ".join(problems),
            "export each variable with the robot's webhook URL (and secret) "
            "exactly as the service shows it, then `yuqing alerts test --channel ID`",
        )
    return f"{len(ready)} webhook channel(s) configured" + (f": {', '.join(ready)}" if ready else "")


CHECKS: list[tuple[str, Callable[[AppContext], str]]] = [
    ("config", _check_config),
    ("data dir", _check_data_dir),
    ("database", _check_database),
    ("mail", _check_mail),
    ("webhooks", _check_webhooks),
]


@click.command()
@pass_app
def doctor(app: AppContext) -> None:
    """Check config, data dir, database and mail transport; one line per check.

    \b
    Example:
      yuqing doctor
    """
    failed = 0
    for name, check in CHECKS:
        if failed and name != "config" and app._config is None:
            click.echo(f"skip  {name:9} needs a valid config")
            continue
        try:
            detail = check(app)
        except ConfigError as exc:
            failed += 1
            click.echo(f"FAIL  {name:9} {len(exc.issues)} problem(s); run `yuqing config check`")
            continue
        except (YuqingError, OSError) as exc:
            failed += 1
            hint = f" ({exc.hint})" if isinstance(exc, YuqingError) and exc.hint else ""
            click.echo(f"FAIL  {name:9} {exc}{hint}")
            continue
        click.echo(f"ok    {name:9} {detail}")
    if failed:
        click.echo(f"{failed} check(s) failed", err=True)
        sys.exit(1)
