"""The notice a unit gets when an event is handed to it (交办通知).

Handing over (``storage.handling.advance`` to 已交办) and recording its notice happen in one
transaction: one delivery per target of the unit's recipient group (its emails and webhook channels,
as its digest goes), keyed ``handover:EVENT:STEP``, so each handover is notified exactly once (a
second handover to another unit is a new step, hence a new notice). The notice is sent at once; a
failure stays ``failed`` and the daemon's delivery job retries it like any other delivery
(``yuqing status``, ``yuqing deliveries list``). Crawled text is masked here and escaped by each
renderer (HTML autoescape, markdown escapes, header-safe subject)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from alerts import deliveries as dl
from alerts import queries as q
from alerts.digest import TITLE_MAX, clean, clean_url, local_time, masker, risk_name
from alerts.dispatch import deliver_due
from alerts.messages import alert_messages, group_targets
from alerts.render import AlertView, environment
from config import Config
from config.alerts_model import Group
from storage.context import AppContext
from storage.handling import ASSIGNED, Handling, advance, handling, steps
from yuqing.base.errors import YuqingError

KIND = "handover"
FOOTER = (
    "舆情监测系统交办通知：请登录舆情监测平台，在事件页面反馈处置进展（处置中、已回应、已办结）。个人信息已做脱敏处理。"
)


def handover_key(event_id: int, step_id: int) -> str:
    return f"handover:{event_id}:{step_id}"


@dataclass(frozen=True)
class Handover:
    """A handover done: where the event stands now, its step's key and what the notice did."""

    handling: Handling
    key: str
    results: list[dl.DeliveryResult] = field(default_factory=list)


def unit_group(config: Config, unit: str) -> Group:
    """The recipient group of a unit (events are handed to units by group id)."""
    group = next((g for g in config.alerts.groups if g.id == unit and g.enabled), None)
    if group is None:
        known = ", ".join(g.id for g in config.alerts.groups if g.enabled) or "none"
        raise YuqingError(f"no enabled recipient group {unit!r} to hand the event to", f"alerts.yaml defines: {known}")
    return group


def notice_view(
    config: Config, event: q.EventSummary, current: Handling, note: str, by: str, now: datetime
) -> AlertView:
    """The notice of one handover (masked; each renderer escapes for its format)."""
    mask = masker(config.alerts.digest.mask_pii)
    tz = ZoneInfo(config.settings.timezone)
    title = mask(clean(event.title))[:TITLE_MAX] or f"事件{event.id}"
    risk = risk_name(event.risk_level, config.alerts.risk.names) or "-"
    lines = [
        f"事件：{title}（编号{event.id}）",
        f"风险等级：{risk}　篇数：{event.post_count}　来源数：{event.source_count}",
        f"首现：{local_time(event.first_seen, tz, now)}　最新：{local_time(event.last_seen, tz, now)}",
        f"交办人：{by}　交办时间：{local_time(now, tz, now)}",
    ]
    if current.assessment.strip():
        lines.append(f"研判意见：{mask(clean(current.assessment))}")
    if note.strip():
        lines.append(f"交办要求：{mask(clean(note))}")
    return AlertView(
        subject=f"【舆情交办·{risk}】{title}",
        headline=f"[交办] {title}",
        lines=lines,
        url=mask(clean_url(event.url)),
        footer=FOOTER,
    )


def queue_notice(
    session: Session, config: Config, event_id: int, step_id: int, unit: str, note: str, by: str, now: datetime
) -> list[int]:
    """Record the notice of handover step ``step_id`` to ``unit`` (once); returns new delivery ids."""
    group = unit_group(config, unit)
    event = q.event_rows(session, [event_id])[event_id]
    view = notice_view(config, event, handling(session, event_id), note, by, now)
    key = handover_key(event_id, step_id)
    return dl.record(
        session, alert_messages(environment(), config, view, group_targets(config, group), key, KIND, now), now
    )


def hand_over(
    app: AppContext,
    event_id: int,
    unit: str,
    *,
    by: str,
    now: datetime,
    note: str = "",
    environ: Mapping[str, str] | None = None,
) -> Handover:
    """Hand an event to a unit (已交办, audited) and notify the unit's group on its channels at once;
    raises ``YuqingError`` for an unknown unit or a step the workflow does not allow."""
    unit_group(app.config, unit)
    with app.session() as session:
        current = advance(session, event_id, ASSIGNED, by=by, now=now, note=note, unit=unit)
        step = steps(session, event_id)[-1]
        ids = queue_notice(session, app.config, event_id, step.id, unit, note, by, now)
    results = deliver_due(app.config, app.sessions, now, os.environ if environ is None else environ, ids)
    return Handover(current, handover_key(event_id, step.id), results)
