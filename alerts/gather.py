"""Run the digest's queries for one group and window and assemble the ``Digest``."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from alerts import digest as d
from alerts import queries as q
from alerts.chart import render_chart
from config import Config
from config.alerts_model import Group
from config.sources_model import Source

TOPIC_ITEMS = 3
MAX_EVENTS = 10
SERIES_DAYS = 7


def group_scope(config: Config, group: Group) -> q.Scope:
    """The sources (by region) and topics a group is responsible for; empty lists mean all."""
    sources = None
    if group.regions:
        sources = frozenset(s.id for s in config.sources.sources if (s.region or "") in group.regions)
    topics = frozenset(group.topics) if group.topics else None
    return q.Scope(sources, topics)


def high_level(config: Config) -> int:
    """The risk level counted as high (the immediate-alert level, 较大 by default)."""
    return config.alerts.risk.names.index(config.alerts.immediate.min_level) + 1


def scoped_sources(config: Config, scope: q.Scope) -> list[Source]:
    return [s for s in config.sources.sources
            if s.enabled and (scope.source_ids is None or s.id in scope.source_ids)]


def digest_title(config: Config, group: Group) -> str:
    title = config.alerts.digest.title
    if group.frequency == "weekly":
        return title.replace("日报", "周报") if "日报" in title else f"{title}（周报）"
    return title


def series(session: Session, end: datetime, scope: q.Scope, level: int, tz: ZoneInfo) -> list[tuple[str, int, int]]:
    """(label, relevant, negative) for each of the last seven 24-hour windows ending at ``end``."""
    out = []
    for back in range(SERIES_DAYS - 1, -1, -1):
        stop = end - timedelta(days=back)
        c = q.counts(session, stop - timedelta(days=1), stop, scope, level)
        out.append(((stop - timedelta(seconds=1)).astimezone(tz).strftime("%m-%d"), c.relevant, c.negative))
    return out


def gather_digest(session: Session, config: Config, group: Group, start: datetime, end: datetime,
                  now: datetime, chart: bool = True) -> d.Digest:
    """The digest of ``group`` for the window [start, end)."""
    tz = ZoneInfo(config.settings.timezone)
    opts = config.alerts.digest
    scope, level = group_scope(config, group), high_level(config)
    mask = d.masker(opts.mask_pii)
    names = config.alerts.risk.names
    sources = {s.id: s for s in config.sources.sources}
    topic_names = {t.id: t.name for t in config.topics.topics}
    current = q.counts(session, start, end, scope, level)
    previous = q.counts(session, start - (end - start), start, scope, level)

    items = q.negative_items(session, start, end, scope, opts.max_items)
    per_topic = q.topic_counts(session, start, end, scope)
    topic_items = {tid: q.topic_items(session, start, end, scope, tid, TOPIC_ITEMS) for tid in per_topic}
    everything = [*items, *(i for lst in topic_items.values() for i in lst)]
    texts = q.texts(session, [i.id for i in everything])
    for item in everything:
        item.text = texts.get(item.id, "")

    def view(item: q.Item) -> d.ItemView:
        return d.item_view(item, sources, topic_names, names, tz, opts.excerpt_chars, mask)

    sections, quiet = [], []
    for topic in config.topics.topics:
        if not topic.enabled or (scope.topic_ids is not None and topic.id not in scope.topic_ids):
            continue
        relevant, negative = per_topic.get(topic.id, (0, 0))
        if relevant:
            sections.append(d.TopicSection(topic.id, topic.name, relevant, negative,
                                           [view(i) for i in topic_items[topic.id]]))
        else:
            quiet.append(topic.name)
    sections.sort(key=lambda s: (-s.negative, -s.relevant))

    runs = q.source_runs(session, start, end)
    collected = q.collected_by_source(session, start, end)
    health = [d.source_health(s, runs.get(s.id), collected.get(s.id, 0)) for s in scoped_sources(config, scope)]
    health.sort(key=lambda h: (not h.problem, h.name))
    healthy = sum(1 for h in health if not h.problem)
    levels = d.coverage(q.relevant_by_source(session, start, end, scope), sources)
    points = series(session, end, scope, level, tz)
    return d.Digest(
        title=digest_title(config, group), group_id=group.id, group_name=group.name,
        period=f"{start.astimezone(tz):%Y-%m-%d %H:%M} 至 {end.astimezone(tz):%Y-%m-%d %H:%M}",
        start=start.astimezone(tz), end=end.astimezone(tz), generated=now.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        summary=d.summary(current, previous), zero=current.negative == 0,
        zero_text=d.zero_text(current, healthy, len(health)),
        items=[view(i) for i in items],
        events=[d.event_view(e, sources, names, tz, mask) for e in q.events(session, start, end, scope, MAX_EVENTS)],
        topics=sections, quiet_topics=quiet, coverage=levels, coverage_text=d.coverage_text(levels),
        sources=health, source_problems=len(health) - healthy, series=points,
        chart_png=render_chart(points) if chart else None,
    )
