"""Freshness: posts published long before they were collected (a board's history on its first crawl)
are backlog (补采历史信息): stored, never alerted, never counted as the day's news, one line in the
digest. Times outside the current year show their year."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from alerts_testlib import SEND_AT, Seed, make_app
from sqlalchemy import update

from alerts import queries as q
from alerts.digest import local_time
from alerts.docx_export import build_docx
from alerts.render import digest_html, digest_markdown, digest_text, environment
from alerts.service import build_digest, select_groups, send_immediate_alerts
from storage.context import AppContext
from storage.models import PostRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
TWO_YEARS = timedelta(days=730)
BACKLOG = 30


def _police(seed: Seed, title: str, at: datetime, published: datetime | None = None, risk: int = 3) -> int:
    return seed.post(
        title,
        "网传派出所民警执法时殴打群众，视频引发网友愤怒。",
        at=at,
        published=published,
        negative=True,
        risk=risk,
        topics={"police": ["派出所", "民警"]},
        source="forum",
    )


def _seed_backlog(app: AppContext) -> int:
    """Thirty 重大 negative posts published two years ago, collected an hour before the digest, and one
    fresh 较大 one: the fresh one is the day's only news."""
    collected = SEND_AT - timedelta(hours=1)
    with app.session() as session:
        seed = Seed(session)
        for n in range(BACKLOG):
            _police(seed, f"旧帖{n}：派出所民警殴打群众", collected, collected - TWO_YEARS - timedelta(hours=n))
        fresh = _police(seed, "今日：派出所民警殴打群众", collected, risk=2)
        seed.run("forum", items=BACKLOG + 1, new=BACKLOG + 1)
    return fresh


def test_backlog_is_neither_news_nor_alerted(app: AppContext) -> None:
    fresh = _seed_backlog(app)
    d = build_digest(app, select_groups(app, "press-office")[0], SEND_AT, SEND_AT, chart=False)
    summary = {c.label: c.value for c in d.summary}
    assert summary == {"采集": 1, "相关": 1, "负面": 1, "高风险": 1}
    assert [i.id for i in d.items] == [fresh]
    assert [(t.id, t.relevant, t.negative) for t in d.topics] == [("police", 1, 1)]
    assert [[i.id for i in t.items] + t.refs for t in d.topics] == [[fresh]]  # shown above: referred to by id
    assert d.series[-1][1:] == (1, 1)  # the chart counts the news only
    assert d.coverage_text == "市级媒体1篇"
    assert d.backlog == BACKLOG
    assert {s.id: s.collected for s in d.sources}["forum"] == BACKLOG + 1  # the source did collect them
    line = f"补采历史信息{BACKLOG}条"
    env = environment()
    for rendered in (digest_text(env, d), digest_html(env, d), digest_markdown(env, d), _docx_text(d)):
        assert rendered.count(line) == 1

    results = send_immediate_alerts(app, SEND_AT)
    assert {r.key for r in results} == {f"alert:post:{fresh}"}  # thirty 重大 posts, no alert, no surge


def test_a_first_crawl_of_history_sends_only_the_backlog_line(app: AppContext) -> None:
    collected = SEND_AT - timedelta(hours=1)
    with app.session() as session:
        seed = Seed(session)
        for n in range(BACKLOG):
            _police(seed, f"旧帖{n}：派出所民警殴打群众", collected, collected - TWO_YEARS)
    assert send_immediate_alerts(app, SEND_AT) == []
    d = build_digest(app, select_groups(app, "press-office")[0], SEND_AT, SEND_AT, chart=False)
    assert d.zero and not d.items and not d.topics and not d.events
    assert [c.value for c in d.summary] == [0, 0, 0, 0]
    assert d.backlog_text.startswith(f"补采历史信息{BACKLOG}条（发布时间早于采集时间3天以上")


def test_the_age_limit_is_the_setting_and_inclusive(app: AppContext) -> None:
    collected = SEND_AT - timedelta(hours=1)
    with app.session() as session:
        seed = Seed(session)
        _police(seed, "发布三天整", collected, collected - timedelta(days=3))
        _police(seed, "发布三天零一分", collected, collected - timedelta(days=3, minutes=1))
        undated = seed.post("发布时间不明", at=collected, topics={"police": ["民警"]})
        session.execute(update(PostRow).where(PostRow.id == undated).values(published_at=None))
    start, end = SEND_AT - timedelta(days=4), SEND_AT  # a window by post time holding every publication
    with app.session() as session:
        three_days = q.Scope(timedelta(days=3))
        assert q.counts(session, start, end, three_days, 2).collected == 2  # exactly 3 days, and unknown
        assert q.backlog_count(session, start, end, three_days) == 1
        one_day = q.Scope(timedelta(days=1))
        assert q.counts(session, start, end, one_day, 2).collected == 1  # only the undated one
        assert q.backlog_count(session, start, end, one_day) == 2


def test_a_shorter_max_age_in_settings_applies_to_alerts(config_dir: Path, tmp_path: Path) -> None:
    settings = config_dir / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("max_age: 3d", "max_age: 12h"), encoding="utf-8")
    app = make_app(config_dir, f"sqlite:///{tmp_path / 'f.db'}")
    try:
        collected = SEND_AT - timedelta(hours=1)
        with app.session() as session:
            seed = Seed(session)
            _police(seed, "昨天发布今天才采到", collected, collected - timedelta(days=1))
            fresh = _police(seed, "两小时前发布", collected, collected - timedelta(hours=2))
        assert {r.key for r in send_immediate_alerts(app, SEND_AT)} == {f"alert:post:{fresh}"}
        d = build_digest(app, select_groups(app, "press-office")[0], SEND_AT, SEND_AT, chart=False)
        assert d.backlog == 1 and "补采历史信息1条（发布时间早于采集时间12小时以上" in d.backlog_text
    finally:
        app.close()


def test_times_outside_the_current_year_show_the_year() -> None:
    now = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    assert local_time(datetime(2026, 6, 27, 4, 11, tzinfo=timezone.utc), SHANGHAI, now) == "06-27 12:11"
    assert local_time(datetime(2018, 6, 27, 4, 11, tzinfo=timezone.utc), SHANGHAI, now) == "2018-06-27 12:11"
    # the year is the local one: 31 December 20:00 UTC is already 1 January in Shanghai
    new_year = datetime(2027, 1, 1, 1, 0, tzinfo=timezone.utc)
    assert local_time(datetime(2026, 12, 31, 15, 50, tzinfo=timezone.utc), SHANGHAI, new_year) == "2026-12-31 23:50"
    assert local_time(datetime(2026, 12, 31, 16, 10, tzinfo=timezone.utc), SHANGHAI, new_year) == "01-01 00:10"
    assert local_time(None, SHANGHAI, now) == ""


def test_digest_and_alerts_show_last_years_dates_with_the_year(sqlite_app: AppContext) -> None:
    """A digest sent on 1 January: the item published on 31 December carries its year."""
    send_at = datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)  # 1 January 2027, 00:00 local
    with sqlite_app.session() as session:
        seed = Seed(session)
        seed.post(  # the digest time in this test config is 08:00 local
            "跨年夜派出所民警殴打群众",
            "网传派出所民警殴打群众。",
            at=send_at + timedelta(hours=7),
            published=datetime(2026, 12, 31, 15, 50, tzinfo=timezone.utc),
            negative=True,
            risk=3,
            topics={"police": ["派出所", "民警"]},
        )
    d = build_digest(sqlite_app, select_groups(sqlite_app, "press-office")[0], send_at + timedelta(hours=8), send_at)
    assert d.items[0].time == "2026-12-31 23:50"
    results = send_immediate_alerts(sqlite_app, send_at + timedelta(hours=8))
    assert results and all(r.status == "sent" for r in results)
    outbox = sorted((sqlite_app.config.data_dir / "outbox").glob("*.eml"))
    assert outbox and all("2026-12-31 23:50" in _plain(p) for p in outbox)


def _plain(path: Path) -> str:
    import email
    import email.policy

    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = message.get_body(("plain",))  # type: ignore[attr-defined]
    return str(body.get_content()) if body is not None else ""


def _docx_text(d: object) -> str:
    from docx import Document

    document = Document(io.BytesIO(build_docx(d)))  # type: ignore[arg-type]
    return "\n".join(p.text for p in document.paragraphs)
