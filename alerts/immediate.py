"""Immediate alerts (重要舆情及时通报): posts or events at or above ``immediate.min_level`` and topic
surges, planned as recorded messages. An event alerts once (key ``alert:event:ID``), a post
without an event once (``alert:post:ID``), a surge once per topic and time slot
(``alert:surge:TOPIC:2026-11-27T06``). In quiet hours a message below ``bypass_level`` is recorded
with ``next_attempt_at`` at the end of the quiet period, so it is sent then, not lost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerts import digest as d
from alerts import queries as q
from alerts.deliveries import Outgoing, known_keys
from alerts.deliveries import cancel as dl_cancel
from alerts.deliveries import open_alerts as dl_open
from alerts.gather import group_scope, viewer
from alerts.messages import Target, alert_messages, group_targets
from alerts.render import AlertView
from alerts.windows import quiet_until, surge_slot
from config import Config
from nlp.labels import corrections
from storage.models import AnalysisRow

SURGE_TOP = 3
POST_KEY, EVENT_KEY = "alert:post:", "alert:event:"


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
        console_url=d.console_link(config.settings.web.base_url, "events", event.id) if event else view.console_url,
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
        console = f" 控制台：{shown.console_url}" if shown.console_url else ""
        lines.append(f"{n}. {shown.title_plain}（{shown.source} {shown.time}）{shown.url}{console}")
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


def _key_ids(keys: list[tuple[int, str]], prefix: str) -> dict[int, int]:
    """delivery id → the post or event id in its key (keys that do not parse are left out)."""
    out = {}
    for row_id, key in keys:
        tail = key[len(prefix) :]
        if tail.isdigit():
            out[row_id] = int(tail)
    return out


def withdrawal_reason(session: Session, config: Config, post_ids: set[int], event_ids: set[int]) -> Callable[..., str]:
    """A function telling why the alert of a post (``post=``) or event (``event=``) no longer stands
    ("" when it does): it stands while one of its posts is relevant, at or above ``immediate.min_level``
    and not labelled irrelevant or not negative by an analyst."""
    stmt = select(AnalysisRow.post_id, AnalysisRow.event_id, AnalysisRow.relevant, AnalysisRow.risk_level).where(
        or_(AnalysisRow.post_id.in_(sorted(post_ids)), AnalysisRow.event_id.in_(sorted(event_ids)))
    )
    rows = list(session.execute(stmt))
    labels = corrections(session, [r.post_id for r in rows])
    level = _level(config, config.alerts.immediate.min_level)

    def why(post_id: int) -> str:
        label = labels.get(post_id)
        if label is not None and label.withdrawn:
            return f"post {post_id} was labelled {'not negative' if label.negative is False else 'irrelevant'}"
        row = next((r for r in rows if r.post_id == post_id), None)
        if row is None or not row.relevant or row.risk_level < level:
            return f"post {post_id} is below {config.alerts.immediate.min_level} after re-analysis"
        return ""

    def reason(post: int | None = None, event: int | None = None) -> str:
        members = [post] if post is not None else [r.post_id for r in rows if r.event_id == event]
        reasons = [why(m) for m in members]
        if all(reasons):
            return "; ".join(reasons) or f"event {event} has no analysed post"
        return ""

    return reason


def withdraw(session: Session, config: Config, now: datetime) -> int:
    """Cancel the post and event alerts not sent yet whose posts no longer warrant them (an analyst's
    label, or a re-analysis below the alert level); returns how many deliveries were cancelled."""
    posts = _key_ids(dl_open(session, POST_KEY), POST_KEY)
    events = _key_ids(dl_open(session, EVENT_KEY), EVENT_KEY)
    if not posts and not events:
        return 0
    reason = withdrawal_reason(session, config, set(posts.values()), set(events.values()))
    cancelled = 0
    for row_id, post_id in posts.items():
        why = reason(post=post_id)
        cancelled += bool(why) and dl_cancel(session, row_id, now, why)
    for row_id, event_id in events.items():
        why = reason(event=event_id)
        cancelled += bool(why) and dl_cancel(session, row_id, now, why)
    return cancelled
