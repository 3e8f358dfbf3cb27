"""Report commands: ``yuqing report event ID`` (专报), ``yuqing report week|month`` (周报, 月报)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from alerts.render import environment
from alerts.report_docx import period_docx, special_docx
from alerts.reports import KINDS, NAMES, Kind, Sent, build_for, period_for, report_html, send_reports
from alerts.service import select_groups
from alerts.special import build_special, special_html
from storage.context import AppContext
from yuqing.base.clock import local_time, utcnow
from yuqing.base.errors import YuqingError
from yuqing.cli.app import pass_app


@click.group("report")
def report_group() -> None:
    """Reports beyond the daily digest: the special report on one event (专报), weekly and monthly reports.

    \b
    Example:
      yuqing report event 42 --note yanpan.txt --docx zhuanbao.docx --preview zhuanbao.html
      yuqing report week --preview week.html
    """


def _read_note(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YuqingError(f"{path} is not UTF-8 text", "save the 研判 note as UTF-8 plain text") from exc


@report_group.command("event")
@click.argument("event_id", type=int)
@click.option(
    "--note",
    "note_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The analyst's 研判与建议 (UTF-8 text; blank lines separate paragraphs).",
)
@click.option("--number", type=click.IntRange(min=1), help="Issue number: 〔YEAR〕第N期 (default: the event id).")
@click.option("--preview", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML here.")
@click.option("--docx", "docx_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the Word file here.")
@pass_app
def report_event(
    app: AppContext,
    event_id: int,
    note_path: Path | None,
    number: int | None,
    preview: Path | None,
    docx_path: Path | None,
) -> None:
    """Build the special report (舆情专报) on one event: overview, first report, timeline, spread by
    source and media level, sentiment over time, key posts and the analyst's 研判.

    Without --preview or --docx a summary is printed.

    \b
    Example:
      yuqing report event 42 --note yanpan.txt --docx zhuanbao.docx
    """
    now = utcnow()
    with app.session() as session:
        r = build_special(session, app.config, event_id, now, _read_note(note_path), number)
    click.echo(
        f"event {event_id}: {r.number}; {sum(s.count for s in r.by_source)} posts from {len(r.by_source)} "
        f"source(s); trend per {'hour' if r.trend_unit == '小时' else 'day'}; {len(r.key_posts)} key posts; "
        f"研判 {'given' if r.note else 'missing (--note FILE)'}"
    )
    if preview:
        preview.write_text(special_html(environment(), r), encoding="utf-8")
        click.echo(f"  preview: {preview}")
    if docx_path:
        docx_path.write_bytes(special_docx(r))
        click.echo(f"  docx:    {docx_path}")


def _periodic(kind: Kind) -> click.Command:
    """``report week`` / ``report month``: the same options, the last full week or month."""
    name = NAMES[kind][0]

    @click.command(kind)
    @click.option("--group", "group_id", help="Only this recipient group (alerts.yaml groups[].id).")
    @click.option(
        "--date",
        "day",
        type=click.DateTime(["%Y-%m-%d"]),
        help=f"Report the last full {kind} before this local date (default: today).",
    )
    @click.option("--preview", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML here.")
    @click.option("--docx", "docx_path", type=click.Path(dir_okay=False, path_type=Path), help="Write it as Word.")
    @click.option("--send", is_flag=True, help="Deliver it (exactly once per group and period).")
    @pass_app
    def command(
        app: AppContext,
        group_id: str | None,
        day: datetime | None,
        preview: Path | None,
        docx_path: Path | None,
        send: bool,
    ) -> None:
        now, local_day = utcnow(), day.date() if day else None
        if send:
            _echo_sent(app, send_reports(app, kind, now, group_id, local_day))
            return
        period = period_for(app, kind, now, local_day)
        groups = select_groups(app, group_id)
        for group in groups:
            r = build_for(app, group, period, now)
            click.echo(f"{group.id}: {r.title} {period.key} ({r.period_label}): {'；'.join(r.change_lines())}")
            click.echo(
                f"  {len(r.digest.items)} key items, {len(r.digest.events)} events, {len(r.digest.topics)} topics"
            )
            if preview:
                path = _per_group(preview, group.id, len(groups) > 1)
                path.write_text(report_html(environment(), r), encoding="utf-8")
                click.echo(f"  preview: {path}")
            if docx_path:
                path = _per_group(docx_path, group.id, len(groups) > 1)
                path.write_bytes(period_docx(r))
                click.echo(f"  docx:    {path}")

    command.help = (
        f"Build the {'weekly' if kind == 'week' else 'monthly'} report ({name}) of each group for the last full "
        f"{'week (Mon–Sun)' if kind == 'week' else 'calendar month'} before --date, compared with the one before; "
        "preview it, or send it with --send (once per group and period; a repeat says when and to whom it went)."
        f"\n\n\b\nExample:\n  yuqing report {kind} --preview /tmp/{kind}.html\n"
        f"  yuqing report {kind} --group press-office --send"
    )
    return command


def _per_group(base: Path, group_id: str, many: bool) -> Path:
    return base.with_name(f"{base.stem}-{group_id}{base.suffix}") if many else base


def _echo_sent(app: AppContext, sent: Sent) -> None:
    tz = app.config.settings.timezone
    for r in sent.results:
        tail = f"  ({r.error})" if r.error else ""
        click.echo(f"{r.status:8} {r.key}  {r.channel} → {r.recipient}{tail}")
    for group_id, rows in sent.prior.items():
        for row in rows:
            when = (
                f"sent at {local_time(row.sent_at, tz)}"
                if row.sent_at
                else f"recorded at {local_time(row.created_at, tz)}, {row.status}"
            )
            click.echo(f"already {when}: {row.key}  {row.channel} → {row.recipient}")
        click.echo(f"  ({group_id}: not sent again; `yuqing deliveries list` shows every delivery)")
    if not sent.results and not sent.prior:
        click.echo("nothing to send")


for _kind in KINDS:
    report_group.add_command(_periodic(_kind))
