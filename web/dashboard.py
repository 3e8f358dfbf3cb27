"""态势总览: today against yesterday, the daily trend, distributions, top events, source health and
deliveries, for the visitor's unit. Every figure comes from the digest's own queries
(``alerts.queries``, ``alerts.gather``, ``alerts.analyses``, ``storage.runs``); nothing is counted here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alerts import queries as q
from alerts.analyses import MEDIA_TYPES, POSITIVE_MAX, Share, by_source_attribute, sentiment_shares, shares
from alerts.deliveries import status_counts
from alerts.digest import MEDIA_LEVELS, UNKNOWN_LEVEL
from alerts.gather import health, high_level
from alerts.messages import group_targets
from config import Config
from storage.runs import last_runs
from storage.users import User
from web.auth import console, guard
from web.console import Console

PERIODS = (7, 30)
TOP_EVENTS = 10
TOP_SOURCES = 15
UNRATED = "未评级"
DELIVERY_STATES = (("pending", "待发送"), ("sent", "已发送"), ("failed", "发送失败"), ("cancelled", "已撤回"))


@dataclass(frozen=True)
class Figure:
    """One key figure: today's value and yesterday's."""

    key: str
    label: str
    today: int
    yesterday: int

    @property
    def delta(self) -> str:
        diff = self.today - self.yesterday
        return "持平" if diff == 0 else f"{'+' if diff > 0 else ''}{diff}"


def day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """Local midnight of ``now``'s day."""
    return datetime.combine(now.astimezone(tz).date(), time(0), tz)


def figures(session: Session, config: Config, scope: q.Scope, now: datetime, tz: ZoneInfo) -> list[Figure]:
    """今日 (since local midnight) against 昨日 (the whole previous day), as the digest counts."""
    today = day_start(now, tz)
    yesterday = today - timedelta(days=1)
    level = high_level(config)
    cur, prev = q.counts(session, today, now, scope, level), q.counts(session, yesterday, today, scope, level)
    return [
        Figure("relevant", "相关信息", cur.relevant, prev.relevant),
        Figure("negative", "负面信息", cur.negative, prev.negative),
        Figure("high_risk", "高风险信息", cur.high_risk, prev.high_risk),
        Figure(
            "new_events",
            "新增事件（转载合并）",
            q.new_event_count(session, today, now, scope),
            q.new_event_count(session, yesterday, today, scope),
        ),
    ]


def day_bounds(now: datetime, tz: ZoneInfo, days: int) -> list[datetime]:
    """The local midnights of the last ``days`` days (today included), then ``now``."""
    today = day_start(now, tz)
    return [today - timedelta(days=back) for back in range(days - 1, -1, -1)] + [now]


def trend(session: Session, scope: q.Scope, bounds: list[datetime], tz: ZoneInfo) -> list[tuple[str, int, int]]:
    """(day, relevant, negative) per local day, in one query (the reports' per-day series)."""
    per_day = q.relevant_per_interval(session, bounds, scope)
    return [(f"{day.astimezone(tz):%m-%d}", rel, neg) for day, (rel, neg) in zip(bounds, per_day, strict=False)]


def distributions(con: Console, session: Session, scope: q.Scope, start: datetime, end: datetime) -> dict[str, Any]:
    """By topic, sentiment, media type and level, source and risk over [start, end)."""
    config = con.config
    sources = {s.id: s for s in config.sources.sources}
    per_source = q.relevant_by_source(session, start, end, scope)
    per_topic = q.topic_counts(session, start, end, scope)
    topic_order = [t.id for t in config.topics.topics]
    topics = [
        (con.topic_name(topic), total, neg)
        for topic, (total, neg) in sorted(
            per_topic.items(), key=lambda kv: (-kv[1][0], topic_order.index(kv[0]) if kv[0] in topic_order else 99)
        )
    ]
    by_name = {sources[s].name if s in sources else s: n for s, n in per_source.items()}
    risks = {
        (con.risk(level) if level else UNRATED): n for level, n in q.risk_counts(session, start, end, scope).items()
    }
    return {
        "topics": topics,
        "sentiment": sentiment_shares(*q.sentiment_counts(session, start, end, scope, POSITIVE_MAX)),
        "media_types": shares(by_source_attribute(per_source, sources, "media_type", "其他"), MEDIA_TYPES),
        "media_levels": shares(
            by_source_attribute(per_source, sources, "media_level", UNKNOWN_LEVEL), [*MEDIA_LEVELS, UNKNOWN_LEVEL]
        ),
        "sources": shares(by_name)[:TOP_SOURCES],
        "risks": shares(risks, [*reversed(config.alerts.risk.names), UNRATED]),
    }


def unit_targets(config: Config, user: User) -> list[tuple[str, str]] | None:
    """The (channel, recipient) pairs of the visitor's unit; ``None``: everyone's (no unit)."""
    if not user.unit:
        return None
    group = next((g for g in config.alerts.groups if g.id == user.unit), None)
    return [(t.channel, t.recipient) for t in group_targets(config, group)] if group else []


def deliveries(session: Session, config: Config, user: User) -> list[tuple[str, str, int]]:
    """(status, label, count) of the deliveries, the unit's own for a unit's user."""
    counts = status_counts(session, unit_targets(config, user))
    return [(key, label, counts.get(key, 0)) for key, label in DELIVERY_STATES]


def source_health(session: Session, con: Console, scope: q.Scope, now: datetime) -> list[dict[str, Any]]:
    """The digest's source health over the last 24 hours, with each source's last run."""
    last = last_runs(session)
    rows = []
    for h in health(session, con.config, scope, now - timedelta(days=1), now):
        run = last.get(h.id)
        rows.append(
            {
                "h": h,
                "last_run": run.started_at if run else None,
                "last_status": run.status if run else "",
                "error": con.text(h.error),
            }
        )
    return rows


def chart_data(points: list[tuple[str, int, int]], dist: dict[str, Any]) -> dict[str, Any]:
    """What dashboard.js draws (labels are configured names, never crawled text)."""

    def pairs(rows: list[Share]) -> list[list[Any]]:
        return [[s.label, s.count] for s in rows]

    return {
        "trend": {
            "days": [p[0] for p in points],
            "relevant": [p[1] for p in points],
            "negative": [p[2] for p in points],
        },
        "topics": [[name, total] for name, total, _ in dist["topics"]],
        "sentiment": pairs(dist["sentiment"]),
        "media_types": pairs(dist["media_types"]),
        "media_levels": pairs(dist["media_levels"]),
        "risks": pairs(dist["risks"]),
        "sources": pairs(dist["sources"]),
    }


async def dashboard_page(request: Request) -> Response:
    who = await guard(request)
    con = console(request)
    days = int(request.query_params.get("days", "7")) if request.query_params.get("days") in ("7", "30") else 7
    now, tz = con.clock(), con.tz
    scope = con.scope(who.user) or q.Scope(con.config.settings.freshness.max_age_delta)
    bounds = day_bounds(now, tz, days)
    with con.app.session() as session:
        context: dict[str, Any] = {
            "who": who,
            "days": days,
            "periods": PERIODS,
            "figures": figures(session, con.config, scope, now, tz),
            "trend": trend(session, scope, bounds, tz),
            "dist": distributions(con, session, scope, bounds[0], now),
            "events": q.find_events(
                session, q.EventQuery(scope, bounds[0], now, min_posts=2, limit=TOP_EVENTS, unit=who.user.unit)
            ),
            "health": source_health(session, con, scope, now),
            "deliveries": deliveries(session, con.config, who.user),
        }
    context["charts"] = chart_data(context["trend"], context["dist"])
    return con.render(request, "dashboard.html", context)


routes = [Route("/dashboard", dashboard_page, methods=["GET"])]
