"""Events and their handling: the list (``alerts.queries.find_events``, the digest's query) filtered by
handling status, topic, risk and time; one event with its timeline, 首发, spread and engagement (the
special report's sections, ``alerts.special``), the analyst's 研判 and the handling workflow
(``storage.handling``). The press office (analysts and admins of no unit) assesses and hands events
over (``alerts.handover``: the unit is notified on its channels); a unit's users move the events
handed to their unit on (处置中, 已回应, 已办结); viewers only read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from alerts import queries as q
from alerts.analyses import event_spread
from alerts.digest import masker
from alerts.gather import unit_names
from alerts.handover import hand_over
from alerts.special import build_special
from storage.handling import ASSIGNED, CLOSED, PENDING, STATUSES, Handling, advance, assess, handling, steps, unit_may
from web.auth import RANK, Visitor, console, guard
from web.console import Console
from web.review import path_id, query_int
from yuqing.base.errors import YuqingError

PAGE = 50
DAYS = (1, 3, 7, 30, 0)  # 0: any time
ACTIONS = {
    ASSIGNED: "交办",
    "处置中": "开始处置",
    "已回应": "已回应",
    CLOSED: "办结",
    PENDING: "重新研判",
}


def _int(value: str | None) -> int | None:
    return query_int(value)


def office(who: Visitor) -> bool:
    """The press office: analysts and admins of no unit (they assess and hand over)."""
    return not who.user.unit and RANK.get(who.user.role, -1) >= RANK["analyst"]


def allowed(who: Visitor, current: Handling) -> tuple[str, ...]:
    """The statuses this visitor may move the event to from where it stands."""
    if RANK.get(who.user.role, -1) < RANK["analyst"]:
        return ()
    if who.user.unit:
        return tuple(s for s in current.next if unit_may(current, who.user.unit, s))
    return current.next


def base_query(con: Console, who: Visitor) -> q.EventQuery:
    """What the visitor may see: a unit's scope (and the events handed to the unit), else everything."""
    scope = con.scope(who.user) or q.Scope(con.config.settings.freshness.max_age_delta)
    return q.EventQuery(scope, unit=who.user.unit)


def list_query(con: Console, who: Visitor, request: Request) -> tuple[q.EventQuery, dict[str, str]]:
    """The list's filters from the query string (unknown or malformed values are ignored)."""
    params = request.query_params
    form = {k: params.get(k, "") for k in ("status", "topic", "min_risk", "unit", "days", "sort")}
    days = _int(form["days"])
    days = days if days in DAYS else 7
    now = con.clock()
    query = base_query(con, who)
    query = q.EventQuery(
        query.scope,
        start=now - timedelta(days=days) if days else None,
        end=now + timedelta(seconds=1) if days else None,
        topic=form["topic"] or None,
        status=form["status"] if form["status"] in STATUSES else None,
        handed_to=form["unit"] or None,
        min_risk=_int(form["min_risk"]),
        unit=query.unit,
        sort="recent" if form["sort"] == "recent" else "risk",
        limit=PAGE,
        offset=max(0, _int(params.get("offset")) or 0),
    )
    form["days"] = str(days)
    return query, form


async def events_page(request: Request) -> Response:
    who = await guard(request)
    con = console(request)
    query, form = list_query(con, who, request)
    with con.app.session() as session:
        found = q.find_events(session, query)
    context = {
        "who": who,
        "events": found,
        "form": form,
        "query": query,
        "statuses": STATUSES,
        "topics": con.config.topics.topics,
        "units": unit_names(con.config),
        "days": DAYS,
    }
    return con.render(request, "events.html", context)


def visible_event(con: Console, who: Visitor, event_id: int) -> q.EventSummary:
    """The event, or 404 when it does not exist or lies outside the visitor's unit."""
    query = base_query(con, who)
    with con.app.session() as session:
        if who.user.unit:
            found = q.find_events(session, q.EventQuery(query.scope, event_id=event_id, unit=query.unit, limit=1))
            event = found[0] if found else None
        else:
            event = q.event_rows(session, [event_id]).get(event_id)
    if event is None:
        raise HTTPException(404, f"没有编号为 {event_id} 的事件，或不在本单位的范围内")
    return event


def event_context(con: Console, who: Visitor, event: q.EventSummary) -> dict[str, Any]:
    """Everything the event page shows."""
    now = con.clock()
    config = con.config
    mask = masker(config.alerts.digest.mask_pii)
    sources = {s.id: s for s in config.sources.sources}
    with con.app.session() as session:
        current = handling(session, event.id)
        # a unit sees the posts of its scope, and all of an event handed to it
        scope = con.scope(who.user) if who.user.unit and current.unit != who.user.unit else None
        report = build_special(session, config, event.id, now, current.assessment, scope=scope)
        posts = q.event_posts(
            session, [event.id], now + timedelta(seconds=1), config.settings.freshness.max_age_delta, scope
        )
        history = steps(session, event.id)
    return {
        "who": who,
        "e": event,
        "r": report,
        "h": current,
        "steps": history,
        "spread": event_spread(event, posts, sources, con.tz, now, mask),
        "negative": sum(1 for row in report.timeline if row.negative),
        "out_of_scope": max(0, event.post_count - len(report.timeline) - report.timeline_more) if scope else 0,
        "units": unit_names(config),
        "handover_units": [g for g in config.alerts.groups if g.enabled],
        "can_assess": office(who),
        "actions": [
            (s, "改派" if s == current.status == ASSIGNED else ACTIONS.get(s, s)) for s in allowed(who, current)
        ],
    }


async def event_page(request: Request) -> Response:
    who = await guard(request)
    con = console(request)
    event = visible_event(con, who, path_id(request, "event_id"))
    return con.render(request, "event.html", event_context(con, who, event))


def _back(event_id: int) -> Response:
    return RedirectResponse(f"/events/{event_id}", status_code=303)


async def assess_event(request: Request) -> Response:
    """Save the 研判 note (the press office only)."""
    who = await guard(request, "analyst")
    con = console(request)
    event = visible_event(con, who, path_id(request, "event_id"))
    if not office(who):
        raise HTTPException(403, "研判意见由宣传处分析员填写")
    form = await request.form()
    with con.app.session() as session:
        assess(session, event.id, str(form.get("assessment", "")).strip(), by=who.user.name, now=con.clock())
    return _back(event.id)


async def advance_event(request: Request) -> Response:
    """Move the event to the next status (已交办: to a unit, which is notified at once)."""
    who = await guard(request, "analyst")
    con = console(request)
    event = visible_event(con, who, path_id(request, "event_id"))
    form = await request.form()
    status, note = str(form.get("status", "")), str(form.get("note", "")).strip()
    with con.app.session() as session:
        current = handling(session, event.id)
    if status not in allowed(who, current):
        raise HTTPException(403, f"当前状态为{current.status}，您不能将该事件改为“{status}”")
    try:
        if status == ASSIGNED:
            unit = str(form.get("unit", ""))
            if unit not in {g.id for g in con.config.alerts.groups if g.enabled}:
                raise HTTPException(400, "请选择承办单位" if not unit else f"没有启用的承办单位“{unit}”")
            # the notice is sent at once (SMTP or a webhook): off the event loop
            await run_in_threadpool(
                lambda: hand_over(con.app, event.id, unit, by=who.user.name, now=con.clock(), note=note)
            )
        else:
            with con.app.session() as session:
                advance(session, event.id, status, by=who.user.name, now=con.clock(), note=note)
    except YuqingError as exc:
        raise HTTPException(400, f"{exc.message}（{exc.hint}）" if exc.hint else exc.message) from None
    return _back(event.id)


routes = [
    Route("/events", events_page, methods=["GET"]),
    Route("/events/{event_id:int}", event_page, methods=["GET"]),
    Route("/events/{event_id:int}/assess", assess_event, methods=["POST"]),
    Route("/events/{event_id:int}/advance", advance_event, methods=["POST"]),
]
