"""Report commands: ``yuqing report event ID`` (专报), ``yuqing report week|month`` (周报, 月报)."""

from __future__ import annotations

from pathlib import Path

import click

from alerts.render import environment
from alerts.report_docx import special_docx
from alerts.special import build_special, special_html
from storage.context import AppContext
from yuqing.base.clock import utcnow
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
