"""Corrections take effect at once: label → next analysis (no retraining) → topics, negativity, risk,
the event's risk, the digest and queued alerts change. On SQLite and PostgreSQL, with the real
analysis, the real alert planner and the real digest."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import select, update

from alerts.service import build_digest, send_immediate_alerts
from nlp.corrections import Correction, apply_correction
from nlp.job import run_analysis
from nlp.relevance import TopicLabel, train_relevance
from storage.models import AnalysisRow, DeliveryRow, EventRow, PostRow
from storage.repo import insert_post
from yuqing.base.post import Post
from yuqing.cli import cli

NIGHT = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)  # 23:00 in Asia/Shanghai: quiet hours
MORNING = datetime(2026, 11, 27, 23, 1, tzinfo=timezone.utc)  # 07:01: the held alerts go out
SEND_AT = datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc)  # the 08:00 digest
# A drama discussed as if it were news: it matches (公检法 near 保护伞), and an analyst marks it irrelevant.
UMBRELLA_TEXT = "网友热议电视剧《狂飙》：剧中环保局长勾结公检法内部人员充当黑恶势力保护伞，纵容涉黑团伙非法排污多年，看得群众愤怒，强烈要求严查！"
POSTS = [
    Post("forum", "https://bbs.example/umbrella", "环保局长充当黑恶势力保护伞", UMBRELLA_TEXT),
    Post("weibo", "https://weibo.example/umbrella", "环保局长充当黑恶势力保护伞", "转发：" + UMBRELLA_TEXT),
    Post(
        "news",
        "https://news.example/beating",
        "派出所民警殴打上访群众",
        "网传某派出所民警殴打前来反映问题的上访群众，致其头部受伤，群众愤怒质疑执法粗暴，要求严惩打人者！",
    ),
    Post("news", "https://news.example/court", "法院公开审理诈骗案", "某市中级人民法院今天公开审理一起电信诈骗案。"),
]


def run(config_dir, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--config", str(config_dir), *args], catch_exceptions=False)


def insert(app, posts: list[Post], at: datetime) -> list[int]:  # type: ignore[no-untyped-def]
    with app.session() as session:
        return [insert_post(session, replace(p, fetched_at=at)) for p in posts]  # type: ignore[misc]


def analyses(app) -> dict[int, AnalysisRow]:  # type: ignore[no-untyped-def]
    with app.session() as session:
        rows = {r.post_id: r for r in session.scalars(select(AnalysisRow))}
        session.expunge_all()
        return rows


def event_level(app, event_id: int) -> int:  # type: ignore[no-untyped-def]
    with app.session() as session:
        return session.get(EventRow, event_id).risk_level  # type: ignore[union-attr]


def deliveries(app) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    with app.session() as session:
        out: dict[str, set[str]] = {}
        for row in session.scalars(select(DeliveryRow)):
            out.setdefault(row.key, set()).add(row.status)
        return out


def digest_ids(app) -> list[int]:  # type: ignore[no-untyped-def]
    group = app.config.alerts.groups[0]
    return [item.id for item in build_digest(app, group, SEND_AT, SEND_AT, chart=False).items]


def test_labels_change_the_next_analysis_digest_and_queued_alerts(app, config_dir) -> None:  # type: ignore[no-untyped-def]
    umbrella, copy, beating, court = insert(app, POSTS, NIGHT - timedelta(hours=1))
    run_analysis(app, NIGHT)
    before = analyses(app)
    assert [t["topic"] for t in before[umbrella].topics] == ["protective-umbrella"]
    assert before[copy].event_id == before[umbrella].event_id != before[beating].event_id
    assert before[umbrella].negative and before[beating].negative and before[beating].risk_level >= 2
    umbrella_event, beating_event = before[umbrella].event_id, before[beating].event_id
    assert event_level(app, umbrella_event) >= 2
    assert send_immediate_alerts(app, NIGHT) == []  # 较大 at night: held until 07:00
    held = {f"alert:event:{umbrella_event}", f"alert:event:{beating_event}"}
    assert {k: s for k, s in deliveries(app).items() if k in held} == {k: {"pending"} for k in held}
    listed = set(digest_ids(app))
    assert beating in listed and {umbrella, copy} & listed  # one item per event

    refused = run(config_dir, "label", str(umbrella), "--irrelevant", "--topic", "police")
    assert refused.exit_code == 1
    assert 'does not match topic "police"' in refused.output and "protective-umbrella" in refused.output
    assert f"yuqing posts show {umbrella}" in refused.output
    ok = run(config_dir, "label", str(umbrella), "--irrelevant", "--topic", "protective-umbrella", "--by", "王敏")
    assert ok.exit_code == 0, ok.output
    assert "环保局长充当黑恶势力保护伞" in ok.output and "topics: protective-umbrella" in ok.output
    assert run(config_dir, "label", str(beating), "--not-negative").exit_code == 0
    trained = run(config_dir, "train", "relevance").output
    assert "protective-umbrella  0 relevant, 1 irrelevant" in trained and "no retraining" in trained

    stats = run_analysis(app, NIGHT + timedelta(minutes=10))  # no retraining in between
    assert stats.reanalyzed >= 2
    after = analyses(app)
    assert not after[umbrella].relevant and after[umbrella].topics == []
    assert not after[copy].relevant  # the unlabelled near-copy follows the label (learned relevance)
    assert not after[beating].negative and after[beating].negative_score == 0.0 and after[beating].risk_level == 0
    assert after[court].topics == before[court].topics
    assert event_level(app, umbrella_event) == 0 and event_level(app, beating_event) == 0
    assert not {umbrella, copy, beating} & set(digest_ids(app))

    assert send_immediate_alerts(app, NIGHT + timedelta(minutes=15)) == []
    assert {k: s for k, s in deliveries(app).items() if k in held} == {k: {"cancelled"} for k in held}
    assert send_immediate_alerts(app, MORNING) == []  # nothing goes out in the morning either
    listing = run(config_dir, "deliveries", "list")
    assert f"alert:event:{beating_event}" in listing.output and "cancelled" in listing.output
    assert f"post {beating} was labelled not negative" in listing.output
    shown = json.loads(run(config_dir, "posts", "show", str(beating), "--json").output)
    assert shown["negative"] is False and {d["status"] for d in shown["deliveries"]} == {"cancelled"}
    assert [lab["negative"] for lab in shown["labels"]] == [False]


def test_posts_search_list_and_show(app, config_dir) -> None:  # type: ignore[no-untyped-def]
    umbrella, copy, beating, court = insert(app, POSTS, NIGHT - timedelta(hours=1))
    with app.session() as session:
        old = insert_post(session, Post("news", "https://news.example/old", "旧闻", "派出所民警调解邻里纠纷"))
        weather = insert_post(session, Post("forum", "https://bbs.example/sun", "天气", "今天天气不错，去公园散步"))
    run_analysis(app, NIGHT)

    found = run(config_dir, "posts", "search", "上访群众")
    assert (
        f"#{beating}" in found.output
        and f"#{umbrella}" not in found.output
        and "times in Asia/Shanghai" in found.output
    )
    wild = run(config_dir, "posts", "search", "100%_", "--json")
    assert wild.exit_code == 0 and wild.output == ""  # wildcards are taken literally
    rows = [json.loads(line) for line in run(config_dir, "posts", "search", "黑恶势力", "--json").output.splitlines()]
    assert {r["id"] for r in rows} == {umbrella, copy} and all(r["timezone"] == "Asia/Shanghai" for r in rows)

    def ids(*args: str) -> list[int]:
        result = run(config_dir, "posts", "list", "--json", *args)
        assert result.exit_code == 0, result.output
        return [json.loads(line)["id"] for line in result.output.splitlines()]

    assert set(ids("--topic", "courts")) == {court}
    assert set(ids("--source", "forum")) == {umbrella}
    negative = {pid for pid, row in analyses(app).items() if row.relevant and row.negative}
    assert set(ids("--negative")) == negative and beating in negative
    assert set(ids("--not-negative")) == {umbrella, copy, beating, court, old} - negative
    assert set(ids("--min-risk", "较大")) >= {umbrella, beating}
    assert all(analyses(app)[pid].risk_level == 2 for pid in ids("--risk", "较大"))
    risky = ids("--sort", "risk")
    assert [analyses(app)[pid].risk_score for pid in risky] == sorted(
        (analyses(app)[pid].risk_score for pid in risky), reverse=True
    )
    assert ids("--limit", "1") == ids()[:1]
    assert old in ids() and weather not in ids() and weather in ids("--all")  # relevant only by default
    with app.session() as session:  # collected a month before: --since leaves it out, --until finds it
        session.execute(update(PostRow).where(PostRow.id == old).values(fetched_at=NIGHT - timedelta(days=30)))
    assert old not in ids("--since", "2026-11-20") and ids("--until", "2026-11-01") == [old]
    both = CliRunner().invoke(
        cli, ["--config", str(config_dir), "posts", "list", "--since", "2026-11-01", "--days", "3"]
    )
    assert both.exit_code == 2 and "--since or --days" in both.output
    bad = CliRunner().invoke(cli, ["--config", str(config_dir), "posts", "list", "--topic", "nope"])
    assert bad.exit_code == 1 and 'unknown topic "nope"' in bad.output

    shown = run(config_dir, "posts", "show", str(beating)).output
    assert f"post #{beating}: 派出所民警殴打上访群众" in shown
    assert "https://news.example/beating" in shown and "(Asia/Shanghai)" in shown
    assert "police (公安)" in shown and "民警" in shown and "event      #" in shown and "alerts     none" in shown
    missing = CliRunner().invoke(cli, ["--config", str(config_dir), "posts", "show", "999999"])
    assert missing.exit_code == 1 and "yuqing posts search" in missing.output


def test_one_label_moves_near_copies_not_unrelated_posts() -> None:
    doc = "某县环保局局长充当黑恶势力保护伞纵容涉黑团伙非法排污"
    models = train_relevance([TopicLabel("protective-umbrella", doc, False)])
    p = models.probabilities(
        "protective-umbrella", ["转发：" + doc, "扫黑办通报：某村霸团伙背后的保护伞被查处，涉黑团伙成员全部落网"]
    )
    assert p is not None and p[0] < 0.5 < p[1]
    assert models.counts == {"protective-umbrella": (0, 1)}


def test_the_latest_label_per_field_wins() -> None:
    from nlp.analyzer import PostAnalysis
    from nlp.rules import TopicMatch

    rules = [TopicMatch("police", []), TopicMatch("courts", [])]
    result = PostAnalysis([rules[0]], {}, 0.9, True, ["打人"], None)
    labels = Correction()
    labels.add(None, False, None)
    labels.add("courts", True, None)
    labels.add(None, None, False)
    out = apply_correction(result, labels, lambda: rules)
    assert [m.topic for m in out.topics] == ["courts"] and not out.negative and out.negative_score == 0.0
    labels.add(None, True, True)
    out = apply_correction(result, labels, lambda: rules)
    assert [m.topic for m in out.topics] == ["police", "courts"] and out.negative and out.negative_score == 1.0
    assert not labels.withdrawn
    labels.add(None, False, None)
    assert labels.withdrawn
