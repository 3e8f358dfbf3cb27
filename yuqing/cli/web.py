"""``yuqing web`` (serve the console) and ``yuqing users`` (its accounts)."""

from __future__ import annotations

import json

import click

from storage.audit import current_user
from storage.context import AppContext
from storage.users import ROLES, add_user, check_unit, list_users, new_password, set_password, update_user
from web.server import serve
from yuqing.base.clock import iso_utc, local_time, utcnow
from yuqing.cli.app import pass_app


@click.command("web")
@click.option("--host", help="Address to bind (default: settings web.host, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: settings web.port, 8600).")
@pass_app
def web_command(app: AppContext, host: str | None, port: int | None) -> None:
    """Serve the analysts' console (review, events, dashboard, admin) until Ctrl-C.

    It binds 127.0.0.1 by default: publish it through a reverse proxy with https. Add accounts
    first with `yuqing users add`.

    \b
    Example:
      yuqing users add wangmin --role analyst
      yuqing web --port 8600
    """
    settings = app.config.settings.web
    click.echo(f"console: http://{host or settings.host}:{port or settings.port}/  (Ctrl-C stops it)")
    serve(app, host, port)


@click.group("users")
def users_group() -> None:
    """Console accounts: admin (everything), analyst (review, label, handle events), viewer (read only).

    \b
    Example:
      yuqing users add wangmin --role analyst --unit press-office
      yuqing users list
    """


def _unit(app: AppContext, unit: str | None) -> str | None:
    return check_unit(unit, (g.id for g in app.config.alerts.groups))


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="analyst", show_default=True)
@click.option("--unit", help="A recipient group id (alerts.yaml): the user sees only what its digest covers.")
@click.option(
    "--password", envvar="YUQING_NEW_PASSWORD", help="Default: a random one, printed once (env YUQING_NEW_PASSWORD)."
)
@pass_app
def users_add(app: AppContext, name: str, role: str, unit: str | None, password: str | None) -> None:
    """Add a console account.

    \b
    Example:
      yuqing users add wangmin --role analyst --unit press-office
    """
    chosen = password or new_password()
    with app.session() as session:
        add_user(session, name, role=role, unit=_unit(app, unit), password=chosen, by=current_user(), now=utcnow())
    click.echo(f"added {name} ({role}{', unit ' + unit if unit else ''})")
    if not password:
        click.echo(f"password: {chosen}  (shown once; change it with `yuqing users passwd {name}`)")


@users_group.command("passwd")
@click.argument("name")
@click.option("--password", envvar="YUQING_NEW_PASSWORD", help="Default: asked for twice (env YUQING_NEW_PASSWORD).")
@pass_app
def users_passwd(app: AppContext, name: str, password: str | None) -> None:
    """Set a user's password (their sessions end; a lockout is lifted).

    \b
    Example:
      yuqing users passwd wangmin
    """
    chosen = password or click.prompt("new password", hide_input=True, confirmation_prompt=True)
    with app.session() as session:
        set_password(session, name, chosen, by=current_user(), now=utcnow())
    click.echo(f"password of {name} changed")


@users_group.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the user again instead.")
@pass_app
def users_disable(app: AppContext, name: str, enable: bool) -> None:
    """Disable a user (their sessions end at once), or enable them again.

    \b
    Example:
      yuqing users disable wangmin
    """
    with app.session() as session:
        update_user(session, name, disabled=not enable, by=current_user(), now=utcnow())
    click.echo(f"{name} {'enabled' if enable else 'disabled'}")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def users_list(app: AppContext, as_json: bool) -> None:
    """List console accounts.

    \b
    Example:
      yuqing users list --json
    """
    with app.session() as session:
        users = list_users(session)
    tz = app.config.settings.timezone
    for u in users:
        if as_json:
            row = {
                "name": u.name,
                "role": u.role,
                "unit": u.unit,
                "disabled": u.disabled,
                "created_at": iso_utc(u.created_at),
                "last_login_at": iso_utc(u.last_login_at),
            }
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            state = "disabled" if u.disabled else "active"
            click.echo(
                f"{u.name:16} {u.role:8} {u.unit or '-':16} {state:8} last login {local_time(u.last_login_at, tz)}"
            )
    if not users and not as_json:
        click.echo("no users yet; add one with `yuqing users add NAME --role admin`")
