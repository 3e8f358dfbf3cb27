"""Digest content: counts, ranking, events, topics, coverage, source health, 零舆情, routing."""

from __future__ import annotations

from datetime import timedelta

from alerts_testlib import SEND_AT, WHISTLEBLOWER_ID, WHISTLEBLOWER_PHONE, Seed, seed_day

from alerts.service import build_digest, digest_period_end, select_groups
from storage.context import AppContext


def _group(app: AppContext, group_id: str):  # type: ignore[no-untyped-def]
    return select_groups(app, group_id)[0]


def test_send_time_is_the_latest_due_in_local_time(sqlite_app: AppContext) -> None:
    group = _group(sqlite_app, "press-office")
    assert digest_period_end(sqlite_app, group, SEND_AT + timedelta(minutes=1)) == SEND_AT
    assert digest_period_end(sqlite_app, group, SEND_AT - timedelta(minutes=1)) == SEND_AT - timedelta(days=1)


def test_digest_of_a_realistic_day(app: AppContext) -> None:
    with app.session() as session:
        seed = Seed(session)
        ids = seed_day(seed, SEND_AT)
        seed.post(
            "昨天的旧帖：民警殴打群众",
            source="central",
            at=SEND_AT - timedelta(hours=30),
            negative=True,
            risk=3,
            topics={"police": ["民警"]},
        )
        seed.post(
            "窗口之后：民警",
            source="central",
            at=SEND_AT + timedelta(minutes=1),
            published=SEND_AT + timedelta(minutes=1),
            negative=True,
            risk=3,
            topics={"police": ["民警"]},
        )
    d = build_digest(app, _group(app, "press-office"), SEND_AT, SEND_AT)
    summary = {c.label: (c.value, c.previous) for c in d.summary}
    assert summary["采集"] == (23, 1)
    assert summary["相关"] == (11, 1)
    assert summary["负面"] == (8, 1)
    assert summary["高风险"] == (7, 1)  # risk >= 较大
    assert not d.zero
    # ranked by risk: the 重大 post first, the 一般 one last
    assert d.items[0].id == ids["beating"] and d.items[0].risk == "重大"
    assert d.items[-1].risk == "一般"
    assert len(d.items) == 3 and d.items[0].event_note == "同一事件共6篇，4个来源"  # reposts are one item
    first = d.items[0]
    assert first.source == "本地论坛" and first.time == "11-26 23:55"
    assert [s.text for s in first.title if s.hit] == ["派出所民警", "殴打"]  # adjacent terms merge
    excerpt = "".join(s.text for s in first.excerpt)
    assert WHISTLEBLOWER_ID not in excerpt and WHISTLEBLOWER_PHONE not in excerpt
    assert [s.text for s in first.excerpt if s.hit][:2] == ["派出所", "民警"]
    assert len(excerpt) <= 80 + 2
    # events: reposts merged with their counts
    assert len(d.events) == 1 and d.events[0].post_count == 6 and d.events[0].source_count == 4
    assert d.events[0].source == "本地论坛"
    # topic sections, most negative first; topics without posts listed as quiet
    names = [t.name for t in d.topics]
    assert names[0] == "公安" and "法院" in names
    police = d.topics[0]
    assert police.relevant == 7 and police.negative == 6
    # each post is shown once: the key negative post is referred to by id, reposts folded into it
    assert [i.title_plain[:6] for i in police.items] == ["深圳交警开展"]
    assert police.refs == [ids["beating"]]
    assert "暴力执法" in names and "执法不公" in d.quiet_topics
    # coverage by media level, in the office's wording
    assert d.coverage_text == "中央级媒体2篇，省级媒体3篇，市级媒体6篇"
    # source health: enabled sources only, problems first; silence is visible
    health = {s.id: s for s in d.sources}
    assert set(health) == {"central", "province", "city", "forum"}
    assert health["city"].problem and health["city"].status == "采集失败" and "503" in health["city"].error
    assert health["forum"].problem and health["forum"].status == "窗口内未运行"
    assert not health["central"].problem and not health["province"].problem
    assert d.sources[0].problem and d.source_problems == 2
    # 7-day series ends with the window itself
    assert len(d.series) == 7 and d.series[-1][1:] == (11, 8) and d.series[-2][1:] == (1, 1)
    assert d.chart and [(b.label, b.relevant, b.negative) for b in d.chart.bars] == d.series


def test_masking_everywhere_in_the_digest(sqlite_app: AppContext) -> None:
    with sqlite_app.session() as session:
        Seed(session).post(
            f"举报人电话{WHISTLEBLOWER_PHONE}：民警殴打群众",
            f"身份证{WHISTLEBLOWER_ID}，民警殴打群众。",
            negative=True,
            risk=3,
            topics={"police": ["民警"]},
        )
    d = build_digest(sqlite_app, _group(sqlite_app, "press-office"), SEND_AT, SEND_AT, chart=False)
    item = d.items[0]
    assert item.title_plain == "举报人电话138****5678：民警殴打群众"
    assert [s.text for s in item.title if s.hit] == ["民警"]
    assert "".join(s.text for s in item.excerpt).startswith("身份证440301********1230")


def test_zero_day_says_so_with_coverage(sqlite_app: AppContext) -> None:
    with sqlite_app.session() as session:
        seed = Seed(session)
        seed.post("深圳交警开展夜查", topics={"police": ["交警"]}, source="city")
        seed.post("天气预报", source="city")
        for source in ("central", "province", "city"):
            seed.run(source)
    d = build_digest(sqlite_app, _group(sqlite_app, "press-office"), SEND_AT, SEND_AT, chart=False)
    assert d.zero and not d.items
    assert "零舆情" in d.zero_text and "4个信息源中3个运行正常" in d.zero_text and "共采集2篇" in d.zero_text
    assert "1个信息源采集异常" in d.zero_text


def test_group_filters_by_region_and_topic(sqlite_app: AppContext) -> None:
    with sqlite_app.session() as session:
        seed_day(Seed(session), SEND_AT)
    d = build_digest(sqlite_app, _group(sqlite_app, "shenzhen"), SEND_AT, SEND_AT, chart=False)
    # only 深圳市 sources (city, forum) and only the police topic
    assert {s.id for s in d.sources} == {"city", "forum"}
    assert all(i.source in ("深圳新闻网", "本地论坛") for i in d.items)
    assert [t.id for t in d.topics] == ["police"]
    summary = {c.label: c.value for c in d.summary}
    assert summary["采集"] == 18 and summary["相关"] == 5 and summary["负面"] == 4


def test_weekly_digest_covers_seven_days(sqlite_app: AppContext) -> None:
    from alerts.gather import digest_title
    from alerts.windows import window_for

    group = _group(sqlite_app, "press-office").model_copy(update={"frequency": "weekly", "weekday": "fri"})
    start, end = window_for(group, SEND_AT, 24)
    assert end - start == timedelta(days=7)
    assert digest_title(sqlite_app.config, group) == "舆情周报"
    tz_send = digest_period_end(sqlite_app, group, SEND_AT + timedelta(days=3))
    assert tz_send == SEND_AT  # 2026-11-27 is a Friday


def test_coverage_shows_the_daemons_source_health(sqlite_app: AppContext) -> None:
    """A source the daemon alerts on (no new posts for far longer than usual, or failing its latest runs)
    is a problem in the digest's coverage section even though the window also holds successful runs."""
    with sqlite_app.session() as session:
        seed = Seed(session)
        for hour in range(40, 10, -1):  # central: new posts on every run for a day and more …
            seed.run("central", new=5, at=SEND_AT - timedelta(hours=hour))
        for hour in range(10, 0, -1):  # … then 10 runs in a row with nothing new
            seed.run("central", new=0, at=SEND_AT - timedelta(hours=hour, minutes=30))
        for hour in (9, 4, 3, 2):  # province: one success, then its last 3 runs failed
            seed.run(
                "province",
                status="ok" if hour == 9 else "failed",
                at=SEND_AT - timedelta(hours=hour),
                error="" if hour == 9 else "HTTP 503",
            )
        for hour in range(30, 0, -1):  # city: quiet now and then, as usual for it
            seed.run("city", new=5 if hour % 3 == 0 else 0, at=SEND_AT - timedelta(hours=hour))
    d = build_digest(sqlite_app, _group(sqlite_app, "press-office"), SEND_AT, SEND_AT, chart=False)
    health = {s.id: s for s in d.sources}
    assert health["central"].problem and health["central"].status == "连续无新内容"
    assert health["province"].problem and health["province"].status == "连续采集失败"
    assert not health["city"].problem and health["city"].status == "正常"


def test_every_item_shows_its_post_id(sqlite_app: AppContext) -> None:
    """Analysts label by id (`yuqing label ID`): the digest gives it in HTML, text, chat and Word."""
    import io

    from docx import Document

    from alerts.docx_export import build_docx
    from alerts.render import digest_html, digest_markdown, digest_text, environment

    with sqlite_app.session() as session:
        ids = seed_day(Seed(session), SEND_AT)
    d = build_digest(sqlite_app, _group(sqlite_app, "press-office"), SEND_AT, SEND_AT, chart=False)
    mark = f"「#{ids['beating']}」"
    assert d.items[0].id == ids["beating"]
    env = environment()
    assert mark in digest_html(env, d) and mark in digest_text(env, d) and mark in digest_markdown(env, d)
    for item in d.items:
        assert f"「#{item.id}」" in digest_text(env, d)
    word = "\n".join(p.text for p in Document(io.BytesIO(build_docx(d))).paragraphs)
    assert mark in word
