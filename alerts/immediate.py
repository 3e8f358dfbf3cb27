"""Immediate alerts (重要舆情及时通报): posts or events at or above ``immediate.min_level`` and topic
surges, planned as recorded messages. An event alerts once (key ``alert:event:ID``), a post
without an event once (``alert:post:ID``), a surge once per topic and time slot
(``alert:surge:TOPIC:2026-11-27T06``). In quiet hours a message below ``bypass_level`` is recorded
with ``next_attempt_at`` at the end of the quiet period, so it is sent then, not lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy.orm import Session

from alerts import digest as d
from alerts import queries as q
from alerts.deliveries import Outgoing, known_keys
from alerts.gather import group_scope, viewer
from alerts.messages import Target, alert_messages, group_targets
from alerts.render import AlertView
from alerts.windows import quiet_until, surge_slot
from config import Config

SURGE_TOP = 3


@dataclass
class Unit:
    """One thing to alert on: an event (with its posts seen) or a lone post, or a surge."""

    key: str
    level: int
    view: AlertView
    items: list[q.Item] = field(default_factory=list)
    topic_id: str | None = None


def _level(config: Config, name: str) -> int:
    return config.alerts.risk.names.index(name) + 1


def post_units(session: Session, config: Config, now: datetime) -> list[Unit]:
    """Events and lone posts at or above the immediate level, collected in the last
    ``lookback_hours``, that have not alerted before."""
    tz = ZoneInfo(config.settings.timezone)
    since = now - timedelta(hours=config.alerts.immediate.lookback_hours)
    max_age = config.settings.freshness.max_age_delta
    items = q.alert_candidates(session, since, _level(config, config.alerts.immediate.min_level), max_age)
    events = q.event_rows(session, [i.event_id for i in items if i.event_id is not None])
    grouped: dict[str, list[q.Item]] = {}
    for item in items:
        event = events.get(item.event_id) if item.event_id is not None else None
        grouped.setdefault(f"alert:event:{event.id}" if event else f"alert:post:{item.id}", []).append(item)
    for key in known_keys(session, list(grouped)):
        del grouped[key]
    texts = q.texts(session, [members[0].id for members in grouped.values()])
    units = []
    for key, members in grouped.items():
        first = members[0]
        first.text = texts.get(first.id, "")
        event = events.get(first.event_id) if first.event_id is not None else None
        level = max(first.risk_level, event.risk_level if event else 0)
        units.append(Unit(key, level, post_view(config, first, event, level, tz, now), members))
    return units


def post_view(
    config: Config, item: q.Item, event: q.EventSummary | None, level: int, tz: ZoneInfo, now: datetime
) -> AlertView:
    """The short alert of a post or of the event it belongs to (masked)."""
    view = viewer(config, tz, now)(item)
    risk = d.risk_name(level, config.alerts.risk.names)
    lines = [f"来源：{view.source}　时间：{view.time}　风险等级：{risk}"]
    if view.topics:
        lines.append(f"专题：{'、'.join(view.topics)}")
    if view.terms:
        lines.append(f"命中：{'、'.join(view.terms)}")
    if event:
        lines.append(
            f"事件：已合并{event.post_count}篇转载，涉及{event.source_count}个来源，"
            f"首现{d.local_time(event.first_seen, tz, now)}"
        )
    excerpt = "".join(s.text for s in view.excerpt)
    if excerpt:
        lines.append(f"摘要：{excerpt}")
    return AlertView(
        subject=f"【舆情快报·{risk}】{view.title_plain}",
        headline=f"[{risk}] {view.title_plain}",
        lines=lines,
        url=view.url,
    )


def surge_units(session: Session, config: Config, now: datetime) -> list[Unit]:
    """Topics whose negative volume in the last ``window_hours`` reaches ``factor`` × the average
    of same-length windows over the previous ``baseline_days`` (and at least ``min_count``)."""
    surge = config.alerts.surge
    if not surge.enabled:
        return []
    tz = ZoneInfo(config.settings.timezone)
    window = timedelta(hours=surge.window_hours)
    baseline_span = timedelta(days=surge.baseline_days)
    windows_in_baseline = baseline_span / window
    everything = q.Scope(config.settings.freshness.max_age_delta)
    units = []
    for topic in config.topics.topics:
        if not topic.enabled:
            continue
        current = q.negative_topic_count(session, now - window, now, everything, topic.id)
        if current < surge.min_count:
            continue
        baseline = q.negative_topic_count(session, now - window - baseline_span, now - window, everything, topic.id)
        average = baseline / windows_in_baseline
        if current < surge.factor * average:
            continue
        key = f"alert:surge:{topic.id}:{surge_slot(now, surge.window_hours, tz)}"
        view = surge_view(session, config, topic.id, topic.name, current, average, now, tz)
        units.append(Unit(key, _level(config, config.alerts.immediate.min_level), view, topic_id=topic.id))
    return units


def surge_view(
    session: Session,
    config: Config,
    topic_id: str,
    name: str,
    current: int,
    average: float,
    now: datetime,
    tz: ZoneInfo,
) -> AlertView:
    """The surge alert: the counts against the baseline and the top negative posts (masked)."""
    surge = config.alerts.surge
    lines = [
        f"近{surge.window_hours}小时负面信息{current}篇，前{surge.baseline_days}天同长度时段平均{average:.1f}篇"
        f"（阈值：{surge.factor:g}倍且不少于{surge.min_count}篇）。"
    ]
    everything = q.Scope(config.settings.freshness.max_age_delta)
    top = q.topic_items(
        session, now - timedelta(hours=surge.window_hours), now, everything, topic_id, SURGE_TOP, collected=True
    )
    view = viewer(config, tz, now)
    for n, item in enumerate((i for i in top if i.negative), 1):
        shown = view(item)
        lines.append(f"{n}. {shown.title_plain}（{shown.source} {shown.time}）{shown.url}")
    return AlertView(
        subject=f"【舆情快报·激增】{name}：{surge.window_hours}小时内负面{current}篇",
        headline=f"[激增] {name}负面信息激增",
        lines=lines,
    )


def _in_scope(config: Config, scope: q.Scope, unit: Unit) -> bool:
    if unit.topic_id is not None:
        return scope.topic_ids is None or unit.topic_id in scope.topic_ids
    for item in unit.items:
        topics = {t.get("topic") for t in item.topics or [] if isinstance(t, dict)}
        if (scope.source_ids is None or item.source_id in scope.source_ids) and (
            scope.topic_ids is None or topics & scope.topic_ids
        ):
            return True
    return False


def unit_targets(config: Config, unit: Unit) -> list[Target]:
    """Every target of every group with immediate alerts on whose scope covers the unit, once."""
    seen: dict[tuple[str, str], Target] = {}
    for group in config.alerts.groups:
        if group.enabled and group.immediate and _in_scope(config, group_scope(config, group), unit):
            for target in group_targets(config, group):
                seen.setdefault((target.channel, target.recipient), target)
    return list(seen.values())


def plan(session: Session, config: Config, env: Environment, now: datetime) -> list[Outgoing]:
    """The messages to record for alerts not recorded before."""
    units = post_units(session, config, now) + surge_units(session, config, now)
    known = known_keys(session, [u.key for u in units if u.topic_id is not None])
    tz = ZoneInfo(config.settings.timezone)
    quiet_end = quiet_until(now, config.alerts.immediate.quiet_hours, tz)
    bypass = _level(config, config.alerts.immediate.bypass_level)
    out: list[Outgoing] = []
    for unit in units:
        if unit.key in known:
            continue
        not_before = quiet_end if quiet_end is not None and unit.level < bypass else None
        out += alert_messages(env, config, unit.view, unit_targets(config, unit), unit.key, "alert", now, not_before)
    return out
