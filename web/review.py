"""Review: the relevant posts, filtered, searched and paged; one post in full; labels that take effect
at once (``nlp.labels.record_label`` as ``yuqing label``, then the post is analysed again on the spot,
and the list's row goes when the post no longer matches the list's filters)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any, get_args
from urllib.parse import urlencode, urlsplit

from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.sources_model import MediaLevel, MediaType
from nlp.job import analyse_posts
from nlp.labels import matched_topics, record_label
from storage.handling import STATUSES, Handling, handlings
from storage.posts import NO_EVENT, PostQuery, PostSummary, count_posts, find_posts, post_detail
from web.auth import Visitor, console, guard
from web.console import Console
from web.zh import zh
from yuqing.base.errors import YuqingError

PAGE = 50
FIELDS = (
    "q",
    "topic",
    "min_risk",
    "negative",
    "source",
    "media_type",
    "media_level",
    "region",
    "handling",
    "days",
    "from",
    "to",
    "sort",
    "per",
)
DAYS = (1, 3, 7, 30)
PER_PAGE = (10, 20, 50, 100)
VERDICTS = {
    "relevant": (True, None),
    "irrelevant": (False, None),
    "negative": (None, True),
    "not-negative": (None, False),
}


MAX_ID = 2**63 - 1
MIN_YEAR, MAX_YEAR = 1900, 2999  # a date filter outside these is ignored (0001-01-01 underflows at +08:00)


def query_int(value: str | None) -> int | None:
    """A query-string integer, or None: ``isdecimal`` (``"²"`` is a digit int() refuses) and at most
    nine digits (a larger offset overflows the database's integers: a 500 instead of an empty page)."""
    text = (value or "").strip()
    return int(text) if text.lstrip("-").isdecimal() and len(text) <= 9 else None


def path_id(request: Request, name: str) -> int:
    """An id from the path (``{name:int}``): 404 past the database's integers (SQLite and
    PostgreSQL refuse a 20-digit id with an overflow, not an empty answer)."""
    value = int(request.path_params[name])
    if value > MAX_ID:
        raise HTTPException(404, f"没有编号为 {value} 的记录")
    return value


def _date(value: str) -> date | None:
    """A date of the filter form, or None (also for years the window's arithmetic cannot reach)."""
    try:
        day = date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None
    return day if day is None or MIN_YEAR <= day.year <= MAX_YEAR else None


def scoped(con: Console, who: Visitor, query: PostQuery) -> PostQuery:
    """The query limited to what the visitor's unit may see."""
    scope = con.scope(who.user)
    if scope is None:
        return query
    return replace(query, source_ids=scope.source_ids, topic_ids=scope.topic_ids)


def regions(con: Console) -> list[str]:
    """The regions one can filter by: those of the sources (as the units' ``regions`` name them)."""
    return sorted({s.region for s in con.config.sources.sources if s.region})


def chosen_sources(con: Console, form: Mapping[str, str]) -> frozenset[str] | None:
    """The sources of the chosen media type, media level and region (None: no such filter)."""
    media_type, media_level, region = form["media_type"], form["media_level"], form["region"]
    if not (media_type or media_level or region):
        return None
    return frozenset(
        s.id
        for s in con.config.sources.sources
        if (not media_type or s.media_type == media_type)
        and (not media_level or s.media_level == media_level)
        and (not region or (s.region or "") == region)
    )


def _clean(con: Console, form: dict[str, str]) -> None:
    """Unknown choices are dropped (the list shows every post rather than none for a stale link)."""
    allowed = {
        "media_type": set(get_args(MediaType)),
        "media_level": set(get_args(MediaLevel)),
        "region": set(regions(con)),
        "handling": {*STATUSES, NO_EVENT},
    }
    for key, values in allowed.items():
        if form[key] not in values:
            form[key] = ""


def _window(con: Console, form: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    """since/until: the from/to local dates (``to`` included) when given, else the last ``days``."""
    start, end = _date(form["from"]), _date(form["to"])
    form["from"], form["to"] = (start.isoformat() if start else ""), (end.isoformat() if end else "")
    if start or end:
        form["days"] = ""
        since = datetime.combine(start, time(), con.tz) if start else None
        until = datetime.combine(end + timedelta(days=1), time(), con.tz) if end else None
        return since, until
    days = max(1, min(query_int(form["days"]) or DAYS[0], 3650))
    form["days"] = str(days)
    return con.clock() - timedelta(days=days), None


def list_query(con: Console, params: Mapping[str, str]) -> tuple[PostQuery, dict[str, str]]:
    """The listing's filters from a query string (unknown or malformed values are ignored)."""
    form = {k: params.get(k, "") for k in FIELDS}
    _clean(con, form)
    per = query_int(form["per"]) or PAGE
    per = per if per in PER_PAGE else PAGE
    form["per"] = "" if per == PAGE else str(per)
    since, until = _window(con, form)
    phrase = form["q"].strip()
    words = tuple(con.search_words(phrase)) if phrase else ()
    query = PostQuery(
        words=words,
        topic=form["topic"] or None,
        min_risk=query_int(form["min_risk"]),
        negative={"1": True, "0": False}.get(form["negative"]),
        source=form["source"] or None,
        among_sources=chosen_sources(con, form),
        handling=form["handling"] or None,
        since=since,
        until=until,
        sort="risk" if form["sort"] == "risk" else "newest",
        limit=per,
        offset=max(0, query_int(params.get("offset")) or 0),
        relevant_only=not words,  # a search finds every post; a phrase of no words (only "*") searches nothing
    )
    return query, form


def pages(form: Mapping[str, str], query: PostQuery, total: int) -> dict[str, Any]:
    """共 N 条 and the links to the previous and next pages (the same filters)."""

    def link(offset: int) -> str:
        params = {k: v for k, v in form.items() if v}
        return "/?" + urlencode({**params, "offset": offset} if offset else params)

    start = min(query.offset + 1, total)
    end = min(query.offset + query.limit, total)
    return {
        "total": total,
        "start": start,
        "end": end,
        "prev": link(max(0, query.offset - query.limit)) if query.offset > 0 else None,
        "next": link(query.offset + query.limit) if end < total else None,
    }


def statuses(session: Session, posts: list[PostSummary]) -> dict[int, Handling]:
    """Where each post's event stands in its handling."""
    return handlings(session, sorted({p.event_id for p in posts if p.event_id is not None}))


def _context(con: Console, who: Visitor, form: Mapping[str, str]) -> dict[str, Any]:
    return {
        "who": who,
        "form": form,
        "topics": con.config.topics.topics,
        "sources": con.config.sources.sources,
        "media_types": get_args(MediaType),
        "media_levels": get_args(MediaLevel),
        "regions": regions(con),
        "handling_statuses": STATUSES,
        "no_event": NO_EVENT,
        "days_choices": DAYS,
        "per_page": PER_PAGE,
    }


async def posts_page(request: Request) -> Response:
    who = await guard(request)
    con = console(request)
    query, form = list_query(con, request.query_params)
    with con.app.session() as session:
        query = scoped(con, who, query)
        posts = find_posts(session, query)
        total = count_posts(session, query)
        found = statuses(session, posts)
    context = {
        **_context(con, who, form),
        "posts": posts,
        "statuses": found,
        "pages": pages(form, query, total),
        "no_words": bool(form["q"].strip()) and not query.words,
    }
    name = (
        "_post_rows.html"
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "rows"
        else "posts.html"
    )
    return con.render(request, name, context)


def visible_post(con: Console, who: Visitor, post_id: int) -> Any:
    """The post's detail, or 404 when it does not exist or lies outside the visitor's unit."""
    with con.app.session() as session:
        if not find_posts(session, scoped(con, who, PostQuery(post_id=post_id, relevant_only=False, limit=1))):
            raise HTTPException(404, f"没有编号为 {post_id} 的信息，或不在本单位的范围内")
        return post_detail(session, post_id)


async def post_page(request: Request) -> Response:
    who = await guard(request)
    con = console(request)
    post_id = path_id(request, "post_id")
    detail = visible_post(con, who, post_id)
    return con.render(request, "post.html", {"who": who, "d": detail})


def _record(con: Console, who: Visitor, post_id: int, verdict: str, topic: str | None) -> None:
    relevant, negative = VERDICTS.get(verdict, (None, None))
    analyzer = con.analyzer()
    try:
        with con.app.session() as session:
            detail = post_detail(session, post_id)
            title, text = (detail.post.title, detail.text) if detail else ("", "")
            matched = matched_topics(session, analyzer.rules, analyzer.segmenter.normalize, post_id, title, text)
            record_label(
                session,
                post_id,
                topic=topic,
                relevant=relevant,
                negative=negative,
                by=who.user.name,
                now=con.clock(),
                known_topics={t.id for t in con.config.topics.topics},
                matched_topics=matched,
            )
    except YuqingError as exc:
        raise HTTPException(400, zh(exc.message)) from None


def listed_params(request: Request) -> QueryParams | None:
    """The filters of the list the label was given from (htmx's HX-Current-URL), if it was the list."""
    current = request.headers.get("hx-current-url")
    if not current:
        return None
    url = urlsplit(current)
    return QueryParams(url.query) if url.path in ("", "/") else None


async def label_post(request: Request) -> Response:
    """Record a label and analyse the post again at once; answers the post's new row (htmx: removed
    when the post no longer matches the list it was labelled in) or its page."""
    who = await guard(request, "analyst")
    con = console(request)
    post_id = path_id(request, "post_id")
    visible_post(con, who, post_id)
    if not who.user.can_label:
        raise HTTPException(
            403, "信息标注由宣传处分析员进行（标注会改变所有单位看到的结果）；本单位用户负责处置交办给本单位的事件"
        )
    form = await request.form()
    _record(con, who, post_id, str(form.get("verdict", "")), str(form.get("topic", "")) or None)
    analyse_posts(con.app.sessions, con.analyzer(), con.config, [post_id], con.clock())
    detail = visible_post(con, who, post_id)
    if not request.headers.get("hx-request"):
        return con.render(request, "post.html", {"who": who, "d": detail})
    params = listed_params(request)
    query, shown = list_query(con, params if params is not None else QueryParams(""))
    with con.app.session() as session:
        listed = find_posts(session, scoped(con, who, replace(query, post_id=post_id, offset=0, limit=1)))
        found = statuses(session, [detail.post])
    gone = not listed if params is not None else not detail.post.relevant  # no list known: the default one
    context = {**_context(con, who, shown), "p": detail.post, "gone": gone, "statuses": found}
    return con.render(request, "_post_row.html", context)


routes = [
    Route("/", posts_page, methods=["GET"]),
    Route("/posts/{post_id:int}", post_page, methods=["GET"]),
    Route("/posts/{post_id:int}/label", label_post, methods=["POST"]),
]
