"""The analysis job end to end on SQLite and PostgreSQL: results, idempotency, resume, re-analysis."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

import nlp.job as job
from nlp.job import run_analysis
from storage.models import AnalysisRow, EventRow, FingerprintRow, PostRow, PostTopicRow
from storage.repo import insert_post
from yuqing.base.post import Post

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
STORY = (
    "网传某地派出所民警在执法过程中殴打一名外卖骑手，视频显示骑手被按倒在地，围观群众纷纷拍摄。"
    "当地公安局回应称已成立调查组，将依法依规处理。太气愤了[怒]"
)
POSTS = [
    Post(
        "weibo",
        "https://weibo.example/1",
        "民警殴打外卖骑手",
        STORY,
        likes=120,
        reposts=300,
        published_at=NOW - timedelta(hours=2),
        fetched_at=NOW - timedelta(hours=1),
    ),
    Post(
        "news",
        "https://news.example/2",
        "民警殴打外卖骑手",
        "转发：" + STORY + "//@某网友:必须严查",
        published_at=NOW - timedelta(hours=1),
        fetched_at=NOW - timedelta(minutes=30),
    ),
    Post(
        "news",
        "https://news.example/3",
        "法院公开审理诈骗案",
        "某市中级人民法院今天公开审理一起特大电信网络诈骗案，十二名被告人出庭受审，涉案金额超过三亿元。",
        fetched_at=NOW - timedelta(minutes=20),
    ),
    Post(
        "forum",
        "https://bbs.example/4",
        "<script>alert(1)</script>",
        "\ufffd\u202e\u200b" + "啊" * 5000,
        fetched_at=NOW - timedelta(minutes=10),
    ),
    Post("forum", "https://bbs.example/5", "今天天气不错", "和家人去公园散步，心情很好[哈哈]", fetched_at=NOW),
]


def insert(app, posts=POSTS) -> list[int]:  # type: ignore[no-untyped-def]
    with app.session() as session:
        return [insert_post(session, p) for p in posts]  # type: ignore[misc]


def snapshot(app) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with app.session() as session:
        analyses = session.execute(
            select(
                AnalysisRow.post_id,
                AnalysisRow.topics,
                AnalysisRow.negative_score,
                AnalysisRow.event_id,
                AnalysisRow.risk_level,
            ).order_by(AnalysisRow.post_id)
        ).all()
        events = session.execute(
            select(EventRow.id, EventRow.post_count, EventRow.source_count, EventRow.representative_post_id).order_by(
                EventRow.id
            )
        ).all()
        topics = session.execute(
            select(PostTopicRow.post_id, PostTopicRow.topic_id).order_by(PostTopicRow.post_id, PostTopicRow.topic_id)
        ).all()
        prints = session.scalar(select(func.count()).select_from(FingerprintRow))
    return {
        "analyses": [tuple(r) for r in analyses],
        "events": [tuple(r) for r in events],
        "topics": [tuple(r) for r in topics],
        "fingerprints": prints,
    }


def test_analysis_end_to_end(app) -> None:  # type: ignore[no-untyped-def]
    ids = insert(app)
    stats = run_analysis(app, NOW)
    assert (stats.analyzed, stats.new, stats.errors) == (5, 5, 0)
    with app.session() as session:
        rows = {r.post_id: r for r in session.scalars(select(AnalysisRow))}
        first, repost, court, hostile, happy = (rows[i] for i in ids)
        assert {t["topic"] for t in first.topics} >= {"police", "violent-enforcement"}
        term = next(t for t in first.topics[0]["terms"] if t["field"] == "title")
        assert "民警殴打外卖骑手"[term["start"] : term["end"]] == term["term"]
        assert first.relevant and first.negative and first.risk_level >= 1 and first.reasons
        assert repost.event_id == first.event_id != court.event_id
        assert [t["topic"] for t in court.topics] == ["courts"]
        assert not hostile.relevant and 0 <= hostile.negative_score <= 1 and hostile.risk_level == 0
        assert not happy.relevant and not happy.negative and happy.risk_level == 0
        event = session.get(EventRow, first.event_id)
        assert (event.post_count, event.source_count) == (2, 2)
        assert event.first_seen == NOW - timedelta(hours=2) and event.last_seen == NOW - timedelta(hours=1)
        assert event.representative_post_id == ids[0]  # the most engaging copy
        assert event.risk_level >= first.risk_level
        pairs = set(session.execute(select(PostTopicRow.post_id, PostTopicRow.topic_id)).all())
        assert (ids[0], "violent-enforcement") in pairs and (ids[2], "courts") in pairs
        assert (
            session.scalar(select(func.count()).select_from(FingerprintRow).where(FingerprintRow.post_id == ids[0]))
            == 16
        )


def test_second_run_changes_nothing(app) -> None:  # type: ignore[no-untyped-def]
    insert(app)
    run_analysis(app, NOW)
    before = snapshot(app)
    stats = run_analysis(app, NOW + timedelta(minutes=5))
    assert stats.analyzed == 0
    assert snapshot(app) == before


def test_resumes_after_a_kill_mid_batch(app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    settings = app.config.settings.analysis.model_copy(update={"batch_size": 2})
    object.__setattr__(app.config.settings, "analysis", settings)
    insert(app)
    real_save = job.save_post
    calls = {"n": 0}

    def dying_save(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:  # inside the second batch: as if the process were killed
            raise KeyboardInterrupt
        return real_save(*args, **kwargs)

    monkeypatch.setattr(job, "save_post", dying_save)
    with pytest.raises(KeyboardInterrupt):
        run_analysis(app, NOW)
    assert len(snapshot(app)["analyses"]) == 2  # the first batch was committed, the second rolled back
    monkeypatch.setattr(job, "save_post", real_save)
    stats = run_analysis(app, NOW)
    assert stats.analyzed == 3
    resumed = snapshot(app)
    with app.session() as session:
        event = session.get(EventRow, resumed["analyses"][0][3])
        assert event.post_count == 2  # the repost joined once, not twice
    assert len(resumed["analyses"]) == 5


def test_reanalyses_recent_posts_when_rules_change(app, config_dir) -> None:  # type: ignore[no-untyped-def]
    ids = insert(app)
    with app.session() as session:  # one post is older than the re-analysis window
        session.execute(update(PostRow).where(PostRow.id == ids[2]).values(fetched_at=NOW - timedelta(days=30)))
    run_analysis(app, NOW)
    path = config_dir / "topics.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("keywords: [法院, 法官,", "keywords: [公园, 法院, 法官,", 1),
        encoding="utf-8",
    )
    app.reload()
    stats = run_analysis(app, NOW)
    assert stats.reanalyzed == 4  # every post but the old one
    with app.session() as session:
        happy = session.get(AnalysisRow, ids[4])
        assert [t["topic"] for t in happy.topics] == ["courts"]
        assert session.get(AnalysisRow, ids[2]).rules_version != happy.rules_version


def test_learned_relevance_demotes_what_analysts_marked_irrelevant(app) -> None:  # type: ignore[no-untyped-def]
    from nlp.labels import record_label

    object.__setattr__(
        app.config.settings, "analysis", app.config.settings.analysis.model_copy(update={"relevance_min_labels": 8})
    )
    relevant = [
        f"{place}派出所民警{act}，群众质疑执法粗暴"
        for place, act in zip("东西南北中", ["推搡老人", "辱骂摊贩", "拖拽女子", "掌掴司机", "踢打学生"])
    ]
    irrelevant = [
        f"{place}派出所民警走进{school}，为师生讲授防诈骗安全课"
        for place, school in zip("东西南北中", ["实验小学", "第一中学", "幼儿园", "职业学校", "外国语学校"])
    ]
    posts = [
        Post("weibo", f"https://w.example/{i}", "", text, fetched_at=NOW)
        for i, text in enumerate(relevant + irrelevant)
    ]
    ids = insert(app, posts)
    run_analysis(app, NOW)
    with app.session() as session:
        for post_id, text in zip(ids, relevant + irrelevant):
            record_label(
                session,
                post_id,
                topic="police",
                relevant=text in relevant,
                negative=None,
                by="test",
                now=NOW,
                known_topics={"police"},
            )
    new = insert(
        app,
        [
            Post(
                "weibo",
                "https://w.example/new",
                "",
                "新区派出所民警来到希望小学，给孩子们上了一堂防诈骗安全课",
                fetched_at=NOW,
            )
        ],
    )
    stats = run_analysis(app, NOW)
    assert stats.analyzed == 11  # labels changed the model version: recent posts analysed again
    with app.session() as session:
        assert "police" not in [t["topic"] for t in session.get(AnalysisRow, new[0]).topics]
        assert "police" in [t["topic"] for t in session.get(AnalysisRow, ids[0]).topics]
        assert session.get(PostTopicRow, (new[0], "police")) is None
