"""Storage on SQLite and PostgreSQL: migrations, exactly-once posts, UTC times."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, select

from storage.db import current_revision, head_revision, make_engine, table_names, upgrade
from storage.models import Base, PostRow, include_object
from storage.repo import get_post, insert_post, known_hashes
from yuqing.base.post import Post

CST = timezone(timedelta(hours=8))


def sample(n: int = 0, **kw: object) -> Post:
    values: dict = dict(
        source_id="demo",
        url=f"https://news.example.cn/a/{n}.html?utm_source=wx",
        title=f"民警救助落水群众 {n}",
        text="正文" * 10,
        published_at=datetime(2026, 11, 26, 9, 30, tzinfo=CST),
        views=10,
    )
    values.update(kw)
    return Post(**values)  # type: ignore[arg-type]


def count_posts(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(PostRow)).scalar_one()


def test_empty_database_upgrades_to_head(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    before, after = upgrade(engine)
    assert before is None and after == head_revision() == current_revision(engine)
    assert {"posts", "analyses", "events", "crawl_runs", "deliveries", "labels"} <= set(table_names(engine))
    assert upgrade(engine) == (after, after)  # idempotent
    engine.dispose()


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_same_post_twice_leaves_one_row(engine: Engine) -> None:
    with engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            first = insert_post(session, sample(1))
            again = insert_post(session, sample(1, url="https://NEWS.example.cn/a/1.html#comments"))
            session.flush()
    assert isinstance(first, int) and again is None
    assert count_posts(engine) == 1


def test_times_round_trip_as_utc(engine: Engine) -> None:
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        post_id = insert_post(session, sample(2))
        session.commit()
        assert post_id is not None
        stored = get_post(session, post_id)
        assert stored is not None
        assert stored.published_at == datetime(2026, 11, 26, 1, 30, tzinfo=timezone.utc)
        assert stored.published_at.tzinfo is not None and stored.fetched_at.tzinfo is not None
        assert stored.title == "民警救助落水群众 2" and stored.views == 10
        assert known_hashes(session, [stored.key, "0" * 40]) == {stored.key}


def _insert_many(url: str, barrier: multiprocessing.synchronize.Barrier, queue: multiprocessing.Queue) -> None:
    from sqlalchemy.orm import Session

    engine = make_engine(url)
    barrier.wait()
    new = 0
    for n in range(100):
        with Session(engine) as session:
            if insert_post(session, sample(n)) is not None:
                new += 1
            session.commit()
    queue.put(new)
    engine.dispose()


def test_two_processes_inserting_the_same_posts_store_each_once(engine: Engine, db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_insert_many, args=(db_url, barrier, queue)) for _ in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    assert queue.get(timeout=5) + queue.get(timeout=5) == 100
    assert count_posts(engine) == 100


def test_nul_characters_in_crawled_text_are_dropped_not_fatal(engine: Engine) -> None:
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        post_id = insert_post(
            session, sample(3, title="标题\x00坏", text="正文\x00", author="作\x00者", extras={"raw\x00": ["x\x00y"]})
        )
        session.commit()
        stored = get_post(session, post_id)
    assert stored is not None
    assert (stored.title, stored.text, stored.author, stored.extras) == ("标题坏", "正文", "作者", {"raw": ["xy"]})
