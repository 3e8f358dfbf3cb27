"""SQLAlchemy 2 typed models. These classes stay inside ``storage/``; other stages use ``Post``
and the functions of ``storage.repo``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite (which forgets zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware datetimes")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class PostRow(Base):
    """A collected post, stored once per canonical URL."""

    __tablename__ = "posts"
    # a post's time (storage.posts.POST_TIME): the console's newest-first list and its window
    __table_args__ = (Index("ix_posts_time", text("coalesce(published_at, fetched_at)")),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url_hash: Mapped[str] = mapped_column(String(40), unique=True)
    source_id: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(255))
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    fetched_at: Mapped[datetime] = mapped_column(index=True)
    language: Mapped[str] = mapped_column(String(16), default="zh")
    views: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    reposts: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EventRow(Base):
    """Near-duplicate posts (reposts, copies across sources) grouped into one event."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    representative_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime] = mapped_column(index=True)
    last_seen: Mapped[datetime] = mapped_column(index=True)
    post_count: Mapped[int] = mapped_column(Integer, default=1)
    source_count: Mapped[int] = mapped_column(Integer, default=1)
    risk_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    risk_score: Mapped[float] = mapped_column(Float, default=0.0)
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AnalysisRow(Base):
    """The latest analysis of one post: topics, negativity, event and risk."""

    __tablename__ = "analyses"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    analyzed_at: Mapped[datetime] = mapped_column(index=True)
    relevant: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    topics: Mapped[list[Any]] = mapped_column(default=list)
    negative_score: Mapped[float] = mapped_column(Float, default=0.0)
    negative: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    risk_level: Mapped[int] = mapped_column(SmallInteger, default=0, index=True)
    risk_score: Mapped[float] = mapped_column(Float, default=0.0)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), index=True)
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    rules_version: Mapped[str] = mapped_column(String(64), default="")
    model_version: Mapped[str] = mapped_column(String(64), default="")
    # places named in the post (``广东省/深圳市`` or ``广东省``, nlp.places), for 地域分布
    places: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")


class PostWordRow(Base):
    """One distinct word of a relevant post (nlp.keywords), for 热词: document frequencies by SQL."""

    __tablename__ = "post_words"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    word: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class PostTopicRow(Base):
    """One (post, topic) match, for per-topic queries (digest sections, backtests, routing)."""

    __tablename__ = "post_topics"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    terms: Mapped[list[Any]] = mapped_column(default=list)
    relevance: Mapped[float] = mapped_column(Float, default=1.0)


class FingerprintRow(Base):
    """LSH band keys of a post's fingerprint: finds near-duplicates by index, not pairwise."""

    __tablename__ = "fingerprints"
    __table_args__ = (Index("ix_fingerprints_band_value", "band", "value"),)

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class CrawlRunRow(Base):
    """One crawl of one source, with its counts: the basis of source health."""

    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    dropped: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_summary: Mapped[str] = mapped_column(Text, default="")
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DeliveryRow(Base):
    """One digest or alert to one recipient on one channel; the key makes it exactly once."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("key", "channel", "recipient"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LabelRow(Base):
    """An analyst's feedback on a post: relevant to a topic or not, negative or not."""

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    topic_id: Mapped[str | None] = mapped_column(String(64))
    relevant: Mapped[bool | None] = mapped_column(Boolean)
    negative: Mapped[bool | None] = mapped_column(Boolean)
    labelled_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime]


class AuditRow(Base):
    """Who changed what in the configuration, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="", index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobRunRow(Base):
    """The last run of each daemon job (``crawl:SOURCE``, ``digest:GROUP`` …): what ``yuqing status``
    shows, so a failed job is visible without reading logs."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    finished_at: Mapped[datetime]
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")
    last_ok_at: Mapped[datetime | None]


class LockRow(Base):
    """A named lease (e.g. the daemon's single-instance lock), renewed by its holder."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class UserRow(Base):
    """A console user: admin, analyst or viewer, optionally of one unit (a recipient group's id)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class WebSessionRow(Base):
    """A console login: the cookie carries the token, the database keeps only its hash."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class HandlingRow(Base):
    """Where an event stands in its handling (待研判 → 已交办 → 处置中 → 已回应 → 已办结)."""

    __tablename__ = "event_handling"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    unit: Mapped[str | None] = mapped_column(String(64), index=True)
    assessment: Mapped[str] = mapped_column(Text, default="")  # the analyst's 研判 note
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(128), default="")


class HandlingStepRow(Base):
    """One step of an event's handling: who moved it to which status, when, with what note."""

    __tablename__ = "event_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]


# Tables owned by other libraries (APScheduler's job store) are not ours to migrate; the full-text
# index (``storage.search``) differs by database (SQLite FTS5, PostgreSQL tsvector): migration 0004
# makes it, no model describes it.
FOREIGN_TABLES = frozenset(
    {
        "apscheduler_jobs",
        "post_search",
        "post_fts",
        "post_fts_data",
        "post_fts_idx",
        "post_fts_docsize",
        "post_fts_config",
        "post_fts_content",
    }
)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic filter: leave other libraries' tables alone."""
    return not (type_ == "table" and name in FOREIGN_TABLES)
