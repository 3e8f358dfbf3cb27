"""Review: the relevant posts, filtered and searched; one post in full; labels that take effect at once
(``nlp.labels.record_label`` as ``yuqing label``, then the post is analysed again on the spot)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nlp.job import analyse_posts
from nlp.labels import record_label
from storage.posts import PostQuery, find_posts, post_detail
from web.auth import Visitor, console, guard
from web.console import Console
from yuqing.base.errors import YuqingError

PAGE = 50


def _int(value: str | None) -> int | None:
    """A query-string integer, or None: ``isdecimal`` (``"²"`` is a digit int() refuses) and at most
    nine digits (a larger offset overflows the database's integers: a 500 instead of an empty page)."""
    text = (value or "").strip()
    return int(text) if text.lstrip("-").isdecimal() and len(text) <= 9 else None


def scoped(con: Console, who: Visitor, query: PostQuery) -> PostQuery:
    """The query limited to what the visitor's unit may see."""
    scope = con.scope(who.user)
    if scope is None:
        return query
    return replace(query, source_ids=scope.source_ids, topic_ids=scope.topic_ids)


def list_query(con: Console, request: Request) -> tuple[PostQuery, dict[str, Any]]:
    """The listing's filters from the query string (unknown or malformed values are ignored)."""
    params = request.query_params
    form = {k: params.get(k, "") for k in ("q", "topic", "min_risk", "negative", "source", "days", "sort")}
    days = _int(form["days"]) or 1
    phrase = form["q"].strip()
    query = PostQuery(
        words=tuple(con.search_words(phrase)) if phrase else (),
        topic=form["topic"] or None,
        min_risk=_int(form["min_risk"]),
        negative={"1": True, "0": False}.get(form["negative"]),
        source=form["source"] or None,
        since=con.clock() - timedelta(days=max(1, min(days, 3650))),
        sort="risk" if form["sort"] == "risk" else "newest",
        limit=PAGE,
        offset=max(0, _int(params.get("offset")) or 0),
        relevant_only=not phrase,
    )
    form["days"] = str(days)
    return query, form


async def posts_page(request: Request) -> Response:
    who = await guard(request)
    con = console(request)
    query, form = list_query(con, request)
    with con.app.session() as session:
        posts = find_posts(session, scoped(con, who, query))
    context = {
        "who": who,
        "posts": posts,
        "form": form,
        "query": query,
        "topics": con.config.topics.topics,
        "sources": con.config.sources.sources,
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
    post_id = int(request.path_params["post_id"])
    detail = visible_post(con, who, post_id)
    return con.render(request, "post.html", {"who": who, "d": detail})


async def label_post(request: Request) -> Response:
    """Record a label and analyse the post again at once; answers the post's new row (htmx) or page."""
    who = await guard(request, "analyst")
    con = console(request)
    post_id = int(request.path_params["post_id"])
    visible_post(con, who, post_id)
    form = await request.form()
    verdict = str(form.get("verdict", ""))
    topic = str(form.get("topic", "")) or None
    relevant, negative = {
        "relevant": (True, None),
        "irrelevant": (False, None),
        "negative": (None, True),
        "not-negative": (None, False),
    }.get(verdict, (None, None))
    now = con.clock()
    try:
        with con.app.session() as session:
            detail = post_detail(session, post_id)
            matched = [h.topic for h in detail.hits] if detail else []
            record_label(
                session,
                post_id,
                topic=topic,
                relevant=relevant,
                negative=negative,
                by=who.user.name,
                now=now,
                known_topics={t.id for t in con.config.topics.topics},
                matched_topics=matched if topic else None,
            )
    except YuqingError as exc:
        raise HTTPException(400, exc.message) from None
    analyse_posts(con.app.sessions, con.analyzer(), con.config, [post_id], now)
    detail = visible_post(con, who, post_id)
    return con.render(
        request,
        "_post_row.html" if request.headers.get("hx-request") else "post.html",
        {"who": who, "d": detail, "p": detail.post},
    )


routes = [
    Route("/", posts_page, methods=["GET"]),
    Route("/posts/{post_id:int}", post_page, methods=["GET"]),
    Route("/posts/{post_id:int}/label", label_post, methods=["POST"]),
]
