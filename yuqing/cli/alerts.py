"""Alert commands: ``yuqing digest``, ``yuqing alerts test|send``, ``yuqing deliveries list``."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from alerts import deliveries as dl
from alerts import messages
from alerts.digest import Digest
from alerts.dispatch import channel_by_id, deliver_due
from alerts.docx_export import build_docx
from alerts.render import AlertView, digest_html, environment
from alerts.service import (
    build_digest,
    digest_period_end,
    held_alerts,
    prior_digests,
    retry_pending,
    select_groups,
    send_digests,
    send_immediate_alerts,
)
from storage.context import AppContext
from storage.models import DeliveryRow
from yuqing.base.clock import iso_utc, local_time, utcnow
from yuqing.base.errors import YuqingError
from yuqing.base.text import redact
from yuqing.cli.app import pass_app


def _digest_json(d: Digest) -> dict[str, object]:
    return {
        "group": d.group_id,
        "title": d.title,
        "start": d.start.isoformat(),
        "end": d.end.isoformat(),
        "counts": {c.label: c.value for c in d.summary},
        "previous": {c.label: c.previous for c in d.summary},
        "zero": d.zero,
        "partial": bool(d.partial_until),
        "items": len(d.items),
        "events": len(d.events),
        "source_problems": d.source_problems,
        "coverage": dict(d.coverage),
    }


def _echo_results(results: list[dl.DeliveryResult], as_json: bool = False, quiet_empty: bool = False) -> None:
    if as_json:
        for r in results:
            click.echo(json.dumps(dataclasses.asdict(r), ensure_ascii=False, default=str))
        return
    for r in results:
        problem = r.error or r.extras.get("warning", "")
        tail = f"  ({problem})" if problem else ""
        click.echo(f"{r.status:8} {r.key}  {r.channel} → {r.recipient}{tail}")
    if not results and not quiet_empty:
        click.echo("nothing to send")


def _prior_text(rows: list[DeliveryRow], tz: ZoneInfo) -> str:
    """``already sent at 2026-12-02 08:00 to a@x.cn, b@x.cn; pending (failed 2x) to duty``."""
    parts: dict[str, list[str]] = {}
    for row in rows:
        if row.status == "sent" and row.sent_at:
            state = f"sent at {local_time(row.sent_at, tz)}"
        else:
            state = f"recorded at {local_time(row.created_at, tz)}, {row.status}"
            state += f" after {row.attempts} attempt(s)" if row.attempts else ""
        parts.setdefault(state, []).append(row.recipient)
    return "already " + "; ".join(f"{state} to {', '.join(who)}" for state, who in parts.items())


def _echo_prior(prior: dict[str, list[DeliveryRow]], tz: ZoneInfo, as_json: bool) -> None:
    for group_id, rows in prior.items():
        if as_json:
            click.echo(json.dumps({"group": group_id, "already": [_delivery_record(r, tz) for r in rows]}))
            continue
        unsent = any(r.status != "sent" for r in rows)
        hint = " (`yuqing deliveries list` shows them; the daemon retries)" if unsent else ""
        click.echo(f"{group_id}: {rows[0].key}: {_prior_text(rows, tz)}{hint}")


def _preview_path(base: Path, group_id: str, many: bool) -> Path:
    return base.with_name(f"{base.stem}-{group_id}{base.suffix or '.html'}") if many else base


@click.command("digest")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Report date D of the digest: it covers D-1 08:00 to D 08:00 (the group's period_end). "
    "Default: the period that ended last.",
)
@click.option("--group", "group_id", help="Only this recipient group (alerts.yaml groups[].id).")
@click.option("--preview", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML digest here.")
@click.option("--docx", "docx_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write it as Word.")
@click.option("--send", is_flag=True, help="Deliver it (exactly once per group and date).")
@click.option("--force", is_flag=True, help="With --send: send a period that has not ended yet, marked 非完整.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per group (or delivery) for scripts.")
@pass_app
def digest_command(
    app: AppContext,
    day: datetime | None,
    group_id: str | None,
    preview: Path | None,
    docx_path: Path | None,
    send: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Build the daily digest (每天一报) and preview it, or send it with --send.

    The digest dated D covers the posts published from D-1 08:00 to D 08:00 (collection time
    when a post has no published time; the boundary is the group's period_end, by default its
    digest_time). Without --send nothing is delivered: a summary is printed per group and
    --preview writes the HTML a mail client would show. A period that has not ended previews as
    非完整; sending it is refused unless --force. A digest sent already is not sent again: the
    command says when and to whom it went.

    \b
    Example:
      yuqing digest --preview /tmp/digest.html
      yuqing digest --date 2026-11-27 --group press-office --send
    """
    now, local_day = utcnow(), day.date() if day else None
    tz = ZoneInfo(app.config.settings.timezone)
    if send:
        prior = prior_digests(app, now, group_id=group_id, day=local_day)
        results = send_digests(app, now, group_id=group_id, day=local_day, force=force)
        _echo_results(results, as_json, quiet_empty=bool(prior))
        _echo_prior(prior, tz, as_json)
        return
    groups = select_groups(app, group_id)
    for group in groups:
        d = build_digest(app, group, digest_period_end(app, group, now, local_day), now)
        if as_json:
            click.echo(json.dumps(_digest_json(d), ensure_ascii=False))
        else:
            counts = "，".join(f"{c.label}{c.value}" for c in d.summary)
            partial = " (period not ended: partial, 非完整)" if d.partial_until else ""
            click.echo(
                f"{group.id}: {d.title} {d.period}{partial}: {counts}; {len(d.items)} key items, "
                f"{len(d.events)} events, {d.source_problems} source problem(s)"
            )
        if preview:
            path = _preview_path(preview, group.id, len(groups) > 1)
            path.write_text(digest_html(environment(), d), encoding="utf-8")
            click.echo(f"  preview: {path}", err=as_json)  # stdout stays one JSON object per group
        if docx_path:
            path = _preview_path(docx_path, group.id, len(groups) > 1)
            path.write_bytes(build_docx(d))
            click.echo(f"  docx:    {path}", err=as_json)


@click.group("alerts")
def alerts_group() -> None:
    """Immediate alerts and channel checks.

    \b
    Example:
      yuqing alerts test --channel mail
      yuqing alerts send
    """


@alerts_group.command("test")
@click.option("--channel", "channel_id", required=True, help="A channel id of alerts.yaml (or 'email').")
@click.option("--to", "to", help="Email address for an email channel (default: the admins).")
@pass_app
def alerts_test(app: AppContext, channel_id: str, to: str | None) -> None:
    """Send a test message on one channel now and report the outcome.

    \b
    Example:
      yuqing alerts test --channel mail --to me@example.cn
      YUQING_DINGTALK_URL=… YUQING_DINGTALK_SECRET=… yuqing alerts test --channel dingtalk-duty
    """
    config, now = app.config, utcnow()
    channel = channel_by_id(config, channel_id)
    if channel is None and channel_id != messages.EMAIL:
        known = ", ".join(c.id for c in config.alerts.channels) or "none"
        raise YuqingError(f"no channel {channel_id!r}", f"alerts.yaml defines: {known}")
    kind = channel.type if channel else messages.EMAIL
    recipients = ([to] if to else config.alerts.admins) if kind == messages.EMAIL else [channel_id]
    if not recipients:
        raise YuqingError("no recipient for a test email", "pass --to ADDRESS or set admins in alerts.yaml")
    targets = [messages.Target(channel_id, kind, r) for r in recipients]
    view = AlertView(subject="【测试】舆情监测通道测试", headline="通道测试", lines=[f"通道 {channel_id} 工作正常。"])
    key = f"test:{channel_id}:{now:%Y%m%dT%H%M%S%f}"
    outgoing = messages.alert_messages(environment(), config, view, targets, key, "admin", now)
    with app.session() as session:
        ids = dl.record(session, outgoing, now)
    results = deliver_due(config, app.sessions, now, os.environ, ids)
    _echo_results(results)
    if any(r.status != "sent" for r in results):
        raise YuqingError(f"channel {channel_id} failed", "see the error above; `yuqing deliveries list --failed`")


@alerts_group.command("send")
@pass_app
def alerts_send(app: AppContext) -> None:
    """Run immediate alerts now (what the daemon does after each analysis run).

    \b
    Example:
      yuqing alerts send
    """
    now = utcnow()
    _echo_with_held(app, send_immediate_alerts(app, now), now)


def _echo_with_held(app: AppContext, results: list[dl.DeliveryResult], now: datetime) -> None:
    """What was sent, then the alerts held back (quiet hours, rate limit): how many, and when."""
    held = held_alerts(app, now)
    if results or not held:
        _echo_results(results)
    else:
        click.echo("nothing to send now")
    tz = app.config.settings.timezone
    for h in held:
        click.echo(
            f"{h.count} alert(s) wait for {h.reason}: they go out at {local_time(h.until, tz)} "
            "(the daemon sends them then; without it, run `yuqing alerts send` after that time)"
        )
    if any(h.reason.startswith("quiet hours") for h in held):
        click.echo(f"(alerts at {app.config.alerts.immediate.bypass_level} or above are sent during quiet hours)")


def _delivery_record(row: DeliveryRow, tz: str | ZoneInfo) -> dict[str, object]:
    """One delivery as JSON (``deliveries list --json``, ``digest --send --json``)."""
    return {
        "id": row.id,
        "key": row.key,
        "kind": row.kind,
        "channel": row.channel,
        "recipient": row.recipient,
        "status": row.status,
        "attempts": row.attempts,
        "created_at": iso_utc(row.created_at),
        "sent_at": iso_utc(row.sent_at),
        "next_attempt_at": iso_utc(row.next_attempt_at),
        "last_error": redact(row.last_error),
        "timezone": str(tz),
    }


@click.group("deliveries")
def deliveries_group() -> None:
    """What was sent, to whom, and what failed.

    \b
    Example:
      yuqing deliveries list --failed
    """


@deliveries_group.command("retry")
@pass_app
def deliveries_retry(app: AppContext) -> None:
    """Send pending and failed deliveries whose retry time has come (the daemon does this too).

    \b
    Example:
      yuqing deliveries retry
    """
    now = utcnow()
    _echo_with_held(app, retry_pending(app, now), now)


@deliveries_group.command("list")
@click.option("--failed", is_flag=True, help="Only failed deliveries.")
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines for scripts.")
@pass_app
def deliveries_list(app: AppContext, failed: bool, limit: int, as_json: bool) -> None:
    """List recent deliveries (digests, alerts, admin alerts) with their status.

    \b
    Example:
      yuqing deliveries list
      yuqing deliveries list --failed --json
    """
    with app.session() as session:
        rows = dl.listing(session, failed_only=failed, limit=limit)
    tz = app.config.settings.timezone
    if rows and not as_json:
        click.echo(f"times in {app.config.settings.timezone}")
    for row in rows:
        record = _delivery_record(row, tz)
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            label, when = (
                ("sent", row.sent_at)
                if row.sent_at
                else ("next", row.next_attempt_at)
                if row.next_attempt_at and row.status != "sent"
                else ("created", row.created_at)
            )
            # a sent row keeps what went wrong on the way, a cancelled one why it was withdrawn
            problem = {"sent": "note", dl.CANCELLED: "reason"}.get(row.status, "error")
            error = f"  {problem}: {redact(row.last_error)[:120]}" if row.last_error else ""
            click.echo(
                f"{row.id:>6} {row.status:8} {row.attempts}x {label:7} {local_time(when, tz)} "
                f"{row.key}  {row.channel} → {row.recipient}{error}"
            )
    if not rows and not as_json:
        click.echo("no deliveries" + (" failed" if failed else ""))
