"""The one freshness rule, as SQL: a post published more than ``max_age`` before it was collected is
backlog (补采历史信息, e.g. a message board's history on its first crawl): stored and searchable, but
never alerted and never counted as news. A post whose publication time is unknown is news (its time
is the time it was collected). Every query that counts or lists news filters with ``is_news``.

The same rule gives a post's time in reports (``post_time``): published, else collected. A digest's
period holds the posts whose post time falls in it (``post_time_in``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, func, not_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from storage.models import PostRow


class seconds_between(FunctionElement[float]):  # noqa: N801 - used like an SQL function
    """``later - earlier`` in seconds, for two timestamp columns (SQLite or PostgreSQL)."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _sqlite_seconds(element: seconds_between, compiler: Any, **kw: Any) -> str:
    # whole seconds, exact (julianday differences are floats: three days could be 259200.00001)
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST(strftime('%s', {later}) AS INTEGER) - CAST(strftime('%s', {earlier}) AS INTEGER))"


@compiles(seconds_between, "postgresql")
def _postgresql_seconds(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


def is_backlog(max_age: timedelta) -> ColumnElement[bool]:
    """Published more than ``max_age`` before it was collected."""
    return and_(
        PostRow.published_at.is_not(None),
        seconds_between(PostRow.fetched_at, PostRow.published_at) > max_age.total_seconds(),
    )


def is_news(max_age: timedelta) -> ColumnElement[bool]:
    """Not backlog: published within ``max_age`` of its collection, or when unknown."""
    return not_(is_backlog(max_age))


def post_time() -> ColumnElement[datetime]:
    """A post's time as reports count it: published, else (unknown) collected."""
    return func.coalesce(PostRow.published_at, PostRow.fetched_at)


def post_time_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    """``start <= post_time() < end``. (A range over ``coalesce`` beat an OR of two indexed ranges
    by 2x in ``bench/digest_100k.py`` on SQLite: the day's posts are most of what is scanned anyway.)"""
    when = post_time()
    return and_(when >= start, when < end)
