"""The alert stage on what the real analysis job stores: posts → ``nlp.job.run_analysis`` →
digest and immediate alerts through a real SMTP server. Checks the contracts between the stages
(topics JSON with term offsets, risk levels, events) rather than fixture rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from alerts_testlib import WHISTLEBLOWER_ID, WHISTLEBLOWER_PHONE, SmtpServer, make_app, tiny_model
from sqlalchemy import select

from alerts.service import send_digests, send_immediate_alerts
from nlp import job
from storage.models import AnalysisRow, EventRow
from storage.repo import insert_post
from yuqing.base.post import Post

NOW = datetime(2026, 11, 27, 0, 30, tzinfo=timezone.utc)  # 08:30 local, after the 08:00 digest time
STORY = (
    "网传某地派出所民警在执法过程中殴打一名外卖骑手，视频显示骑手被按倒在地，围观群众纷纷拍摄。"
    f"发帖人留下身份证号{WHISTLEBLOWER_ID}和电话{WHISTLEBLOWER_PHONE}，称要讨个说法。太气愤了"
)


def _posts() -> list[Post]:
    at = NOW - timedelta(hours=3)
    return [
        Post(
            "forum",
            "https://bbs.example.cn/1",
            "<script>alert(1)</script>民警殴打外卖骑手",
            STORY,
            reposts=500,
            published_at=at,
            fetched_at=at,
        ),
        Post(
            "city",
            "https://city.example.cn/2",
            "民警殴打外卖骑手",
            "转发：" + STORY,
            published_at=at,
            fetched_at=at + timedelta(minutes=20),
        ),
        Post(
            "central",
            "https://central.example.cn/3",
            "民警殴打外卖骑手视频引关注",
            "转发：" + STORY,
            published_at=at,
            fetched_at=at + timedelta(minutes=40),
        ),
        Post(
            "province",
            "https://prov.example.cn/4",
            "法院公开审理诈骗案",
            "某市中级人民法院今天公开审理一起特大电信网络诈骗案，十二名被告人出庭受审。",
            fetched_at=at,
        ),
        Post("city", "https://city.example.cn/5", "今天天气不错", "和家人去公园散步，心情很好。", fetched_at=at),
    ]


def test_analysed_posts_reach_the_digest_and_alerts(config_dir: Path, tmp_path: Path, smtp_server: SmtpServer) -> None:
    app = make_app(config_dir, f"sqlite:///{tmp_path / 'p.db'}", smtp_server)
    tiny_model(app)
    with app.session() as session:
        ids = [insert_post(session, p) for p in _posts()]
    stats = job.run_analysis(app, NOW)
    assert stats.errors == 0 and stats.analyzed == 5
    with app.session() as session:
        rows = {r.post_id: r for r in session.scalars(select(AnalysisRow))}
        event = session.get(EventRow, rows[ids[0]].event_id)
        assert event is not None and event.post_count == 3  # the reposts were grouped
        first_level = max(rows[ids[0]].risk_level, event.risk_level)

    results = send_digests(app, NOW)
    assert {r.status for r in results} == {"sent"} and len(results) == 3
    [msg] = smtp_server.inbox.to("analyst@example.cn")
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'class="hit"' in html  # terms highlighted from the stored offsets
    for body in (html, text):
        assert WHISTLEBLOWER_ID not in body and WHISTLEBLOWER_PHONE not in body
    assert rows[ids[0]].negative and "同一事件共3篇，3个来源" in text

    # a beating on video, reposted by three sources: 较大 at least, so one alert for the whole event
    assert first_level >= 2
    alerts = send_immediate_alerts(app, NOW + timedelta(minutes=1))
    assert {(r.key, r.status) for r in alerts} == {(f"alert:event:{event.id}", "sent")}
    assert sorted(r.recipient for r in alerts) == ["analyst@example.cn", "chief@example.cn", "sz@example.cn"]
    assert send_immediate_alerts(app, NOW + timedelta(minutes=2)) == []
    app.close()
