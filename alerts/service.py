"""Entry points the daemon and the CLI call. Each takes the application context and ``now``
(tz-aware) and returns what it delivered; one group's or recipient's failure never stops the rest.

- ``send_digests(app, now, group_id=None, day=None, environ=None, force=False)``: each enabled
  group's digest for the period that ended last (or the one dated ``day``), unless recorded already
  (key ``digest:<report date>:<group>``). A period that has not ended is refused unless ``force``
  (then sent marked 非完整 under a key of its own, so the full digest still goes out).
- ``prior_digests(app, now, group_id=None, day=None)``: the deliveries of those already recorded.
- ``send_immediate_alerts(app, now, environ=None)``: high-risk posts/events and surges.
- ``retry_pending(app, now, environ=None)``: pending or failed deliveries whose time has come.
  Both this and ``send_immediate_alerts`` first cancel the alerts analysts withdrew (``immediate.withdraw``).
- ``send_admin_alert(app, subject, body, key, now, environ=None)``: to ``alerts.yaml`` admins.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from alerts import deliveries as dl
from alerts import immediate, messages
from alerts.digest import Digest, masker
from alerts.dispatch import deliver_due
from alerts.docx_export import build_docx
from alerts.gather import gather_digest
from alerts.render import AlertView, environment
from alerts.windows import latest_period_end, period_end_on, quiet_until, window_for
from config.alerts_model import Group
from nlp.places import load_gazetteer
from storage.context import AppContext
from storage.db import require_current
from storage.models import DeliveryRow
from yuqing.base.errors import DigestError, YuqingError
from yuqing.base.text import redact, redacted_traceback

logger = logging.getLogger(__name__)


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def digest_key(group: Group, end: datetime) -> str:
    """The key of a group's digest for the period ending at ``end`` (local): one per report date."""
    return f"digest:{end.date().isoformat()}:{group.id}"


def partial_key(group: Group, end: datetime, now: datetime) -> str:
    """The key of a 非完整 digest sent with ``--force`` before its period ended (one per send)."""
    return f"{digest_key(group, end)}:partial:{now:%Y%m%dT%H%M%S}"


def _group(app: AppContext, group_id: str) -> Group | None:
    return next((g for g in app.config.alerts.groups if g.id == group_id), None)


def digest_recorded(app: AppContext, group_id: str, send_at: datetime) -> bool:
    """Whether the digest the job run at ``send_at`` sends (the period ended by then) has been
    recorded (it is then sent, or left to the retry job); a group no longer configured counts as
    recorded (nothing is owed)."""
    group = _group(app, group_id)
    if group is None:
        return True
    end = latest_period_end(group, send_at, ZoneInfo(app.config.settings.timezone))
    with app.session() as session:
        return bool(dl.known_keys(session, [digest_key(group, end)]))


def select_groups(app: AppContext, group_id: str | None) -> list[Group]:
    groups = [g for g in app.config.alerts.groups if g.enabled and (group_id is None or g.id == group_id)]
    if group_id is not None and not groups:
        known = ", ".join(g.id for g in app.config.alerts.groups) or "none"
        raise YuqingError(f"no enabled recipient group {group_id!r}", f"alerts.yaml defines: {known}")
    return groups


def digest_period_end(app: AppContext, group: Group, now: datetime, day: date | None = None) -> datetime:
    """The end of the period of the digest dated ``day`` (local report date), or of the latest
    period ended at ``now``."""
    tz = ZoneInfo(app.config.settings.timezone)
    return period_end_on(group, day, tz) if day else latest_period_end(group, now, tz)


def build_digest(app: AppContext, group: Group, end: datetime, now: datetime, chart: bool | None = None) -> Digest:
    """The digest of a group's period ending at ``end`` (the chart as configured unless ``chart``
    says); a period not ended at ``now`` gives a digest marked 非完整."""
    start, end = window_for(group, end, app.config.alerts.digest.window_hours)
    draw = app.config.alerts.digest.chart if chart is None else chart
    sources = app.config.sources.sources
    gazetteer = load_gazetteer() if any(s.region for s in sources) else None
    with app.session() as session:
        return gather_digest(session, app.config, group, start, end, now, chart=draw, gazetteer=gazetteer)


def prior_digests(
    app: AppContext, now: datetime, group_id: str | None = None, day: date | None = None
) -> dict[str, list[DeliveryRow]]:
    """Per group, the deliveries of the digest ``send_digests`` would send, when it was recorded
    already (so a repeat can say when and to whom it went)."""
    prior = {}
    for group in select_groups(app, group_id):
        end = digest_period_end(app, group, now, day)
        if end > now:
            continue
        with app.session() as session:
            rows = dl.by_key(session, digest_key(group, end))
        if rows:
            prior[group.id] = rows
    return prior


def refuse_unended(app: AppContext, groups: list[Group], now: datetime, day: date) -> None:
    """A digest whose period has not ended would be a partial one: refused (``--force`` sends it)."""
    tz = ZoneInfo(app.config.settings.timezone)
    for group in groups:
        end = period_end_on(group, day, tz)
        if end > now:
            raise YuqingError(
                f"the digest of {group.id} for {day.isoformat()} covers the period until "
                f"{end:%Y-%m-%d %H:%M} ({tz.key}), which has not ended yet",
                "the daemon sends it when the period ends; preview it now with `yuqing digest --date "
                f"{day.isoformat()} --preview FILE`, or pass --force to send what there is now, "
                "marked 非完整 (the full digest still goes out)",
            )


def _send_empty(app: AppContext, group: Group) -> bool:
    return app.config.alerts.digest.send_empty if group.send_empty is None else group.send_empty


def queue_digest(app: AppContext, group: Group, end: datetime, now: datetime) -> list[int]:
    """Build and record one group's digest for the period ending at ``end`` unless recorded
    already (a period not ended yet: a 非完整 one, under a key of its own); returns new delivery ids."""
    key = digest_key(group, end) if end <= now else partial_key(group, end, now)
    with app.session() as session:
        if dl.known_keys(session, [key]):
            return []
    d = build_digest(app, group, end, now)
    if d.zero and not _send_empty(app, group):
        logger.info("digest %s: no negative items and send_empty is off; nothing sent", key)
        return []
    docx, warnings = None, []
    if app.config.alerts.digest.docx:
        try:
            docx = build_docx(d)
        except Exception as exc:  # noqa: BLE001 — the mail goes without its attachment, saying so
            problem = redact(f"{type(exc).__name__}: {exc}")[:300]
            logger.error("digest %s: the Word attachment could not be built, sending without it: %s", key, problem)
            warnings.append(f"sent without the .docx attachment (it could not be built: {problem})")
    outgoing = messages.digest_messages(
        environment(), app.config, d, messages.group_targets(app.config, group), key, now, docx, warnings
    )
    with app.session() as session:
        return dl.record(session, outgoing, now)


def send_digests(
    app: AppContext,
    now: datetime,
    group_id: str | None = None,
    day: date | None = None,
    environ: Mapping[str, str] | None = None,
    force: bool = False,
) -> list[dl.DeliveryResult]:
    """Record and send each enabled group's digest for the period that ended last, or the one
    dated ``day`` (exactly once per group and date). A period that has not ended is refused
    (``YuqingError``) unless ``force``. A group whose digest cannot be built is a ``DigestError``,
    raised after the other groups' are sent."""
    require_current(app.engine)
    groups = select_groups(app, group_id)
    if day is not None and not force:
        refuse_unended(app, groups, now, day)
    ids: list[int] = []
    failed: dict[str, str] = {}
    for group in groups:
        try:
            ids += queue_digest(app, group, digest_period_end(app, group, now, day), now)
        except Exception as exc:  # noqa: BLE001 — one group's problem must not stop the others
            failed[group.id] = redact(f"{type(exc).__name__}: {exc}")[:300]
            logger.error("digest for group %s could not be built: %s", group.id, redacted_traceback(exc))
    results = deliver_due(app.config, app.sessions, now, _env(environ), ids)
    if failed:
        raise DigestError(failed, results)
    return results


def retry_pending(app: AppContext, now: datetime, environ: Mapping[str, str] | None = None) -> list[dl.DeliveryResult]:
    """Send every pending or failed delivery whose retry time has come."""
    require_current(app.engine)
    with app.session() as session:
        immediate.withdraw(session, app.config, now)
    return deliver_due(app.config, app.sessions, now, _env(environ))


def send_immediate_alerts(
    app: AppContext, now: datetime, environ: Mapping[str, str] | None = None
) -> list[dl.DeliveryResult]:
    """Alert at once on posts/events at or above ``immediate.min_level`` and on surges; also
    sends alerts postponed by quiet hours or the rate limit whose time has come."""
    require_current(app.engine)
    if app.config.alerts.immediate.enabled:
        with app.session() as session:
            outgoing = immediate.plan(session, app.config, environment(), now)
            dl.record(session, outgoing, now)
    with app.session() as session:  # what analysts withdrew since (labels, re-analysis) is not sent
        immediate.withdraw(session, app.config, now)
    return deliver_due(app.config, app.sessions, now, _env(environ))


@dataclass(frozen=True)
class Held:
    """Alerts waiting to go out: ``count`` distinct alerts, the first at ``until``; ``reason`` is
    what they wait for: ``quiet hours (22:00-07:00) to end`` or what postponed them (the rate limit)."""

    count: int
    until: datetime
    reason: str


def held_alerts(app: AppContext, now: datetime) -> list[Held]:
    """What ``alerts send`` leaves waiting, grouped by why: quiet hours first, then the rest."""
    immediate_cfg = app.config.alerts.immediate
    quiet_end = quiet_until(now, immediate_cfg.quiet_hours, ZoneInfo(app.config.settings.timezone))
    with app.session() as session:
        rows = dl.held_alerts(session, now)
    by_reason: dict[str, tuple[set[str], datetime]] = {}
    for key, until, why in rows:
        quiet = quiet_end is not None and until <= quiet_end and not why
        reason = f"quiet hours ({immediate_cfg.quiet_hours}) to end" if quiet else why.split(";")[0] or "a retry"
        keys, first = by_reason.setdefault(reason, (set(), until))
        keys.add(key)
        by_reason[reason] = (keys, min(first, until))
    return [Held(len(keys), first, reason) for reason, (keys, first) in by_reason.items()]


def send_admin_alert(
    app: AppContext, subject: str, body: str, key: str, now: datetime, environ: Mapping[str, str] | None = None
) -> list[dl.DeliveryResult]:
    """Email ``alerts.yaml`` admins once per ``key`` (e.g. ``admin:source-failing:SRC:2026-11-27``)."""
    require_current(app.engine)
    mask = masker(app.config.alerts.digest.mask_pii)
    view = AlertView(
        subject=mask(f"【系统告警】{subject}"),
        headline=mask(f"系统告警：{subject}"),
        lines=[mask(line) for line in body.splitlines()] or [""],
        footer="舆情监测系统自动告警（管理员）。",
    )
    outgoing = messages.alert_messages(
        environment(), app.config, view, messages.admin_targets(app.config), key, "admin", now
    )
    with app.session() as session:
        ids = dl.record(session, outgoing, now)
    return deliver_due(app.config, app.sessions, now, _env(environ), ids)
