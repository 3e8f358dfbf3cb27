"""Weekly and monthly reports (周报, 月报) per recipient group.

A report covers the last full calendar week (Monday 00:00 to the next Monday 00:00) or month before
a local date D, in the configured timezone; posts belong to it by their post time (published, else
collected) and backlog is left out, exactly as in the daily digest (the digest's queries are used).
Its counts are compared with the period before (较上周 / 较上月: the previous calendar week or month,
whatever its length). It holds the digest's sections for the period (negative items, top events,
topics, media-level coverage, source health), a per-day series, and the analyses of the
period (``alerts/analyses.py``, built with the digest, rendered by the ``_analyses`` partials).

Each is sent exactly once per (group, period): key ``report:week:2026-W48:GROUP`` or
``report:month:2026-11:GROUP`` in the deliveries table; a repeat reports when and to whom it went.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy.orm import Session

from alerts import deliveries as dl
from alerts import digest as d
from alerts import messages
from alerts import queries as q
from alerts.dispatch import deliver_due
from alerts.gather import gather_digest, group_scope, high_level
from alerts.render import environment, inline_css, one_line
from alerts.report_docx import period_docx
from alerts.service import select_groups
from alerts.special import Share
from config import Config
from config.alerts_model import Group
from storage.context import AppContext
from storage.db import require_current
from storage.models import DeliveryRow
from yuqing.base.errors import YuqingError

Kind = Literal["week", "month"]
KINDS: tuple[Kind, ...] = ("week", "month")
NAMES = {"week": ("周报", "较上周", "本周"), "month": ("月报", "较上月", "本月")}
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Period:
    """A report's period [start, end) and the one before it [previous, start), local and tz-aware."""

    kind: Kind
    start: datetime
    end: datetime
    previous: datetime

    @property
    def key(self) -> str:
        """``2026-W48`` (ISO week) or ``2026-11``."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m}"

    @property
    def label(self) -> str:
        """``2026年第48周（11月23日至11月29日）`` or ``2026年11月``."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            last = self.end - timedelta(days=1)
            return f"{year}年第{week}周（{self.start.month}月{self.start.day}日至{last.month}月{last.day}日）"
        return f"{self.start.year}年{self.start.month}月"


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def last_full_period(kind: Kind, day: date, tz: ZoneInfo) -> Period:
    """The last full week (Mon–Sun) or calendar month that ended on or before ``day`` 00:00 local."""
    if kind == "week":
        end = day - timedelta(days=day.weekday())
        start, previous = end - timedelta(days=7), end - timedelta(days=14)
    else:
        end = _month_start(day)
        start = _previous_month(end)
        previous = _previous_month(start)
    at = lambda x: datetime.combine(x, time(0), tz)  # noqa: E731
    return Period(kind, at(start), at(end), at(previous))


@dataclass
class Report:
    """Everything a weekly or monthly report shows, ready to render."""

    title: str
    kind: Kind
    period: Period
    period_label: str
    compare: str  # 较上周 / 较上月
    digest: d.Digest  # the digest's sections, built for the period
    summary: list[d.Change]  # against the previous calendar week or month
    series: list[Share]  # per day: relevant posts (count) and negative ones
    generated: str

    @property
    def negative(self) -> int:
        return next(c.value for c in self.summary if c.label == "负面")

    @property
    def zero(self) -> bool:
        return self.negative == 0

    def change_lines(self) -> list[str]:
        """``负面12篇，较上周+3（+33%）`` for each count."""
        return [change_text(c, self.compare) for c in self.summary]


def report_title(config: Config, kind: Kind) -> str:
    """舆情周报 / 舆情月报 from the configured digest title (舆情日报)."""
    name = NAMES[kind][0]
    title = config.alerts.digest.title
    return title.replace("日报", name) if "日报" in title else f"{title}（{name}）"


def daily_series(session: Session, config: Config, group: Group, period: Period) -> list[Share]:
    """Relevant and negative posts per local day of the period (one query)."""
    days, at = [period.start], period.start
    while at < period.end:
        at = datetime.combine(at.date() + timedelta(days=1), time(0), at.tzinfo)
        days.append(at)
    per_day = q.relevant_per_interval(session, days, group_scope(config, group))
    top = max((rel for rel, _ in per_day), default=0) or 1
    return [
        Share(f"{day:%m-%d}", rel, neg, round(100 * rel / top)) for day, (rel, neg) in zip(days, per_day, strict=False)
    ]


def build_report(session: Session, config: Config, group: Group, period: Period, now: datetime) -> Report:
    """The report of ``group`` for ``period`` as of ``now``."""
    tz = ZoneInfo(config.settings.timezone)
    # the per-day series is the report's own (one query); the digest's 7-day one is not needed
    digest = gather_digest(session, config, group, period.start, period.end, now, chart=False, series_days=0)
    summary = digest.summary  # against the window as long before it: the previous week
    if period.start - period.previous != period.end - period.start:  # months differ in length
        before = q.counts(session, period.previous, period.start, group_scope(config, group), high_level(config))
        previous = {
            "采集": before.collected,
            "相关": before.relevant,
            "负面": before.negative,
            "高风险": before.high_risk,
        }
        summary = [d.Change(c.label, c.value, previous[c.label]) for c in digest.summary]
    title = report_title(config, period.kind)
    return Report(
        title=title,
        kind=period.kind,
        period=period,
        period_label=period.label,
        compare=NAMES[period.kind][1],
        digest=replace(digest, title=title, summary=summary, series=[]),
        summary=summary,
        series=daily_series(session, config, group, period),
        generated=now.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
    )


def change_text(c: d.Change, compare: str) -> str:
    """``负面12篇，较上周+3（+33%）``: the change with its percentage where the last period had any."""
    diff = c.value - c.previous
    pct = f"（{'+' if diff > 0 else ''}{round(100 * diff / c.previous)}%）" if c.previous and diff else ""
    return f"{c.label}{c.value}篇，{compare}{c.delta}{pct}"


def report_html(env: Environment, r: Report) -> str:
    return inline_css(env.get_template("report_period.html.j2").render(r=r, d=r.digest))


def report_text(env: Environment, r: Report) -> str:
    return env.get_template("report_period.txt.j2").render(r=r, d=r.digest)


def report_markdown(env: Environment, r: Report) -> str:
    return env.get_template("report_period.md.j2").render(r=r, d=r.digest)


def report_subject(r: Report) -> str:
    state = "零舆情" if r.zero else f"负面{r.negative}条"
    return one_line(f"【{r.title}】{r.digest.group_name} {r.period_label}：{state}")


def report_key(group: Group, period: Period) -> str:
    return f"report:{period.kind}:{period.key}:{group.id}"


def period_for(app: AppContext, kind: Kind, now: datetime, day: date | None) -> Period:
    """The period of the report for local date ``day`` (default: today), refused if not ended."""
    tz = ZoneInfo(app.config.settings.timezone)
    period = last_full_period(kind, day or now.astimezone(tz).date(), tz)
    if period.end > now:
        raise YuqingError(
            f"the {NAMES[kind][0]} for {period.label} covers the period until {period.end:%Y-%m-%d %H:%M} "
            f"({tz.key}), which has not ended yet",
            "a report covers the last full week or month before --date; leave --date out for the latest one",
        )
    return period


def build_for(app: AppContext, group: Group, period: Period, now: datetime) -> Report:
    with app.session() as session:
        return build_report(session, app.config, group, period, now)


def queue_report(app: AppContext, group: Group, period: Period, now: datetime) -> list[int]:
    """Build and record one group's report unless recorded already; returns new delivery ids."""
    key = report_key(group, period)
    with app.session() as session:
        if dl.known_keys(session, [key]):
            return []
    r = build_for(app, group, period, now)
    docx, warnings = None, []
    try:
        docx = (f"{r.title}-{group.id}-{period.key}.docx", period_docx(r))
    except Exception as exc:  # noqa: BLE001 — the mail goes without its attachment, saying so
        warnings.append(f"sent without the .docx attachment (it could not be built: {type(exc).__name__}: {exc})"[:300])
        logger.error("report %s: the Word attachment could not be built", key)
    env = environment()
    outgoing = messages.report_messages(
        app.config,
        messages.group_targets(app.config, group),
        key,
        now,
        report_subject(r),
        report_text(env, r),
        report_html(env, r),
        report_markdown(env, r),
        docx,
        warnings,
    )
    with app.session() as session:
        return dl.record(session, outgoing, now)


@dataclass
class Sent:
    """What ``send_reports`` did: this run's deliveries, and per group the earlier ones of a
    report recorded before (a repeat sends nothing and says when and to whom it went)."""

    results: list[dl.DeliveryResult]
    prior: dict[str, list[DeliveryRow]]


def send_reports(
    app: AppContext,
    kind: Kind,
    now: datetime,
    group_id: str | None = None,
    day: date | None = None,
    environ: Mapping[str, str] | None = None,
) -> Sent:
    """Record and send each enabled group's report for the last full period (exactly once)."""
    require_current(app.engine)
    period = period_for(app, kind, now, day)
    ids: list[int] = []
    prior: dict[str, list[DeliveryRow]] = {}
    for group in select_groups(app, group_id):
        with app.session() as session:
            rows = dl.by_keys(session, [report_key(group, period)])
            for row in rows:
                session.expunge(row)
        if rows:
            prior[group.id] = rows
            continue
        ids += queue_report(app, group, period, now)
    results = deliver_due(app.config, app.sessions, now, os.environ if environ is None else environ, ids) if ids else []
    return Sent(results, prior)
