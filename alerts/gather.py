"""Run the digest's queries for one group and window and assemble the ``Digest``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from alerts import digest as d
from alerts import queries as q
from alerts.analyses import build_analyses
from alerts.chart import bar_chart
from config import Config
from config.alerts_model import Group
from config.sources_model import Source
from nlp.places import Gazetteer
from storage.runs import health_of, window_runs

TOPIC_ITEMS = 3
MAX_EVENTS = 10
SERIES_DAYS = 7
OVERFETCH = 5  # posts fetched per item shown, so reposts folded into one still fill the list


def group_scope(config: Config, group: Group) -> q.Scope:
    """The sources (by region) and topics a group is responsible for; empty lists mean all."""
    sources = None
    if group.regions:
        sources = frozenset(s.id for s in config.sources.sources if (s.region or "") in group.regions)
    topics = frozenset(group.topics) if group.topics else None
    return q.Scope(config.settings.freshness.max_age_delta, sources, topics)


def unit_names(config: Config) -> dict[str, str]:
    """Group id → name: the units events are handed to."""
    return {g.id: g.name for g in config.alerts.groups}


def high_level(config: Config) -> int:
    """The risk level counted as high (the immediate-alert level, 较大 by default)."""
    return config.alerts.risk.names.index(config.alerts.immediate.min_level) + 1


def scoped_sources(config: Config, scope: q.Scope) -> list[Source]:
    return [s for s in config.sources.sources if s.enabled and (scope.source_ids is None or s.id in scope.source_ids)]


def digest_title(config: Config, group: Group) -> str:
    title = config.alerts.digest.title
    if group.frequency == "weekly":
        return title.replace("日报", "周报") if "日报" in title else f"{title}（周报）"
    return title


def series(
    session: Session, end: datetime, scope: q.Scope, level: int, tz: ZoneInfo, days: int = SERIES_DAYS
) -> list[tuple[str, int, int]]:
    """(label, relevant, negative) for each of the last ``days`` 24-hour windows ending at ``end``."""
    out = []
    for back in range(days - 1, -1, -1):
        stop = end - timedelta(days=back)
        c = q.counts(session, stop - timedelta(days=1), stop, scope, level)
        out.append(((stop - timedelta(seconds=1)).astimezone(tz).strftime("%m-%d"), c.relevant, c.negative))
    return out


View = Callable[[q.Item], d.ItemView]


def viewer(config: Config, tz: ZoneInfo, now: datetime) -> View:
    """Item → view with the configured masking, risk names and excerpt length (years shown when not ``now``'s)."""
    opts, names = config.alerts.digest, config.alerts.risk.names
    sources = {s.id: s for s in config.sources.sources}
    topic_names = {t.id: t.name for t in config.topics.topics}
    mask, console = d.masker(opts.mask_pii), config.settings.web.base_url
    return lambda item: d.item_view(item, sources, topic_names, names, tz, opts.excerpt_chars, mask, now, console)


def one_per_event(session: Session, items: list[q.Item], limit: int) -> list[q.Item]:
    """The best-ranked post of each event (reposts are one item), with the event's counts."""
    kept: list[q.Item] = []
    seen: set[int] = set()
    for item in items:
        if item.event_id is not None:
            if item.event_id in seen:
                continue
            seen.add(item.event_id)
        kept.append(item)
        if len(kept) == limit:
            break
    events = q.event_rows(session, [i.event_id for i in kept if i.event_id is not None])
    for item in kept:
        if (event := events.get(item.event_id or -1)) is not None:
            item.event_posts, item.event_sources = event.post_count, event.source_count
    return kept


def fill_texts(session: Session, items: list[q.Item]) -> None:
    texts = q.texts(session, [i.id for i in items])
    for item in items:
        item.text = texts.get(item.id, "")


def topic_sections(
    session: Session,
    config: Config,
    scope: q.Scope,
    start: datetime,
    end: datetime,
    view: View,
    shown: list[q.Item] = (),  # type: ignore[assignment]
) -> tuple[list[d.TopicSection], list[str]]:
    """A section per topic with posts (most negative first), and the names of the quiet ones. Each
    post is shown once: one already shown (in ``shown`` or an earlier section, or another post of
    its event) is referred to by id."""
    per_topic = q.topic_counts(session, start, end, scope)
    sections, quiet = [], []
    seen = {i.id: i.id for i in shown}
    events = {i.event_id: i.id for i in shown if i.event_id is not None}
    for topic in config.topics.topics:
        if not topic.enabled or (scope.topic_ids is not None and topic.id not in scope.topic_ids):
            continue
        relevant, negative = per_topic.get(topic.id, (0, 0))
        if not relevant:
            quiet.append(topic.name)
            continue
        items = one_per_event(
            session, q.topic_items(session, start, end, scope, topic.id, TOPIC_ITEMS * OVERFETCH), TOPIC_ITEMS
        )
        new, refs = [], []
        for item in items:
            earlier = seen.get(item.id) or (events.get(item.event_id) if item.event_id is not None else None)
            if earlier is not None:
                refs.append(earlier)
                continue
            new.append(item)
            seen[item.id] = item.id
            if item.event_id is not None:
                events[item.event_id] = item.id
        fill_texts(session, new)
        sections.append(d.TopicSection(topic.id, topic.name, relevant, negative, [view(i) for i in new], refs))
    sections.sort(key=lambda s: (-s.negative, -s.relevant))
    return sections, quiet


def health(session: Session, config: Config, scope: q.Scope, start: datetime, end: datetime) -> list[d.SourceHealth]:
    """Every enabled source of the scope with its runs and posts in the window, problems first."""
    runs = window_runs(session, start, end)
    collected = q.collected_by_source(session, start, end)
    sources = scoped_sources(config, scope)
    daemon = config.settings.daemon
    rows = [
        d.source_health(
            s,
            runs.get(s.id),
            collected.get(s.id, 0),
            health_of(session, s.id, daemon.fail_runs_alert, daemon.empty_runs_alert, before=end)[0],
        )
        for s in sources
    ]
    return sorted(rows, key=lambda h: (not h.problem, h.name))


def gather_digest(
    session: Session,
    config: Config,
    group: Group,
    start: datetime,
    end: datetime,
    now: datetime,
    chart: bool = True,
    gazetteer: Gazetteer | None = None,
    series_days: int = SERIES_DAYS,
) -> d.Digest:
    """The digest of ``group`` for the window [start, end) by post time; a window not ended at
    ``now`` is marked 非完整 (counted until ``now``). ``gazetteer`` places sources by region for
    地域分布 (``nlp.places.load_gazetteer``)."""
    tz = ZoneInfo(config.settings.timezone)
    scope, level, view = group_scope(config, group), high_level(config), viewer(config, tz, now)
    sources = {s.id: s for s in config.sources.sources}
    current = q.counts(session, start, end, scope, level)
    previous = q.counts(session, start - (end - start), start, scope, level)
    limit = config.alerts.digest.max_items
    items = one_per_event(session, q.negative_items(session, start, end, scope, limit * OVERFETCH), limit)
    fill_texts(session, items)
    sections, quiet = topic_sections(session, config, scope, start, end, view, items)
    sources_health = health(session, config, scope, start, end)
    healthy = sum(1 for h in sources_health if not h.problem)
    levels = d.coverage(q.relevant_by_source(session, start, end, scope), sources)
    points = series(session, end, scope, level, tz, series_days)
    mask = d.masker(config.alerts.digest.mask_pii)
    events = q.find_events(session, q.EventQuery(scope, start, end, min_posts=2, limit=MAX_EVENTS))
    backlog = q.backlog_count(session, start, end, scope)
    analyses = build_analyses(
        session, scoped_sources(config, scope), scope, start, end, events, tz, now, gazetteer=gazetteer, mask=mask
    )
    return d.Digest(
        title=digest_title(config, group),
        group_id=group.id,
        group_name=group.name,
        period=d.period_text(start.astimezone(tz), end.astimezone(tz), now.astimezone(tz)),
        start=start.astimezone(tz),
        end=end.astimezone(tz),
        generated=now.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        partial_until=now.astimezone(tz).strftime("%m-%d %H:%M") if now < end else "",
        summary=d.summary(current, previous),
        zero=current.negative == 0,
        zero_text=d.zero_text(current, healthy, len(sources_health)),
        items=[view(i) for i in items],
        events=[
            d.event_view(
                e, sources, config.alerts.risk.names, tz, mask, now, unit_names(config), config.settings.web.base_url
            )
            for e in events
        ],
        topics=sections,
        quiet_topics=quiet,
        coverage=levels,
        coverage_text=d.coverage_text(levels),
        # Crawl errors quote the URLs they failed on, which may carry personal data.
        sources=[replace(h, error=mask(h.error)) for h in sources_health],
        source_problems=len(sources_health) - healthy,
        series=points,
        chart=bar_chart(points) if chart else None,
        backlog=backlog,
        backlog_text=d.backlog_text(backlog, scope.max_age),
        analyses=analyses,
    )
