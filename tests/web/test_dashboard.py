"""The dashboard over HTTP: its figures are the digest queries' own, for the whole office and for a
unit; the source health shows a failed run's cause; the charts' data is JSON, not script."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from webtestlib import NOW, Site

from alerts import queries as q
from alerts.deliveries import Outgoing, record
from alerts.gather import group_scope, high_level
from nlp.job import run_analysis
from storage.repo import insert_post
from storage.runs import finish_run, start_run
from yuqing.base.post import Post

TZ = ZoneInfo("Asia/Shanghai")
TODAY = datetime(2026, 11, 27, tzinfo=TZ)  # NOW is 10:00 on the 27th in Shanghai
YESTERDAY_POSTS = [
    (
        "forum",
        "网友反映派出所民警办案态度恶劣",
        "网友称到派出所报案时民警态度恶劣，推诿不予立案，要求公安机关调查。",
        20,
    ),
    ("province", "当事人称法院判决不公要求再审", "当事人称法院判决不公，法官偏袒对方，要求上级法院再审。", 15),
]
# a repost of the seeded "beating" post: with it, an event of two posts first seen today
REPOST = (
    "city",
    "网友称某派出所民警执法时殴打群众",
    "网友发帖称其家属在派出所办事时被两名民警按倒在地殴打，要求公开执法记录仪视频，公安机关回应正在调查。",
    1,
)


def add_yesterdays_posts(site: Site) -> None:
    with site.app.session() as session:
        for n, (source, title, text, hours) in enumerate([*YESTERDAY_POSTS, REPOST]):
            at = NOW - timedelta(hours=hours)
            assert insert_post(
                session,
                Post(source, f"https://{source}.example.cn/y{n}.html", title, text, published_at=at, fetched_at=at),
            )
    run_analysis(site.app, NOW)


def figures(html: str) -> dict[str, tuple[int, int]]:
    rows = re.findall(r'<tr data-figure="(\w+)"><td>[^<]+</td><td>(\d+)</td><td>(\d+)</td>', html)
    return {key: (int(today), int(yesterday)) for key, today, yesterday in rows}


def charts(html: str) -> dict:  # type: ignore[type-arg]
    found = re.search(r'<script type="application/json" id="dash-data">(.*?)</script>', html, re.S)
    assert found, html
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def expected(site: Site, scope: q.Scope) -> dict[str, tuple[int, int]]:
    level = high_level(site.app.config)
    with site.app.session() as session:
        today = q.counts(session, TODAY, NOW, scope, level)
        yesterday = q.counts(session, TODAY - timedelta(days=1), TODAY, scope, level)
        events = (
            q.new_event_count(session, TODAY, NOW, scope),
            q.new_event_count(session, TODAY - timedelta(days=1), TODAY, scope),
        )
    return {
        "new_events": events,
        "relevant": (today.relevant, yesterday.relevant),
        "negative": (today.negative, yesterday.negative),
        "high_risk": (today.high_risk, yesterday.high_risk),
    }


def office_scope(site: Site) -> q.Scope:
    config = site.app.config
    return group_scope(config, next(g for g in config.alerts.groups if g.id == "press-office"))


def test_the_figures_are_the_digest_queries_counts(site: Site) -> None:
    add_yesterdays_posts(site)
    page = site.client("analyst").get("/dashboard")
    assert page.status_code == 200, page.text
    shown = figures(page.text)
    want = expected(site, office_scope(site))
    for key, value in want.items():
        assert shown[key] == value, key
    assert shown["relevant"][0] > 0 and shown["relevant"][1] > 0  # both days have posts: the test can fail
    assert shown["new_events"][0] == 1  # the repost merged with the post it copies
    data = charts(page.text)
    assert len(data["trend"]["days"]) == 7 and data["trend"]["days"][-1] == "11-27"
    assert data["trend"]["relevant"][-2:] == [want["relevant"][1], want["relevant"][0]]
    with site.app.session() as session:
        topics = q.topic_counts(session, TODAY - timedelta(days=6), NOW, office_scope(site))
    names = {t.id: t.name for t in site.app.config.topics.topics}
    assert sorted(data["topics"]) == sorted([names[t], n] for t, (n, _) in topics.items())


def test_thirty_days_and_an_unknown_period_falls_back_to_seven(site: Site) -> None:
    client = site.client("viewer")
    assert len(charts(client.get("/dashboard", params={"days": "30"}).text)["trend"]["days"]) == 30
    assert len(charts(client.get("/dashboard", params={"days": "9999"}).text)["trend"]["days"]) == 7


def test_a_units_user_sees_the_units_figures(site: Site) -> None:
    add_yesterdays_posts(site)
    config = site.app.config
    unit = group_scope(config, next(g for g in config.alerts.groups if g.id == "shenzhen"))
    shown = figures(site.client("sz").get("/dashboard").text)
    want = expected(site, unit)
    for key, value in want.items():
        assert shown[key] == value, key
    office = expected(site, office_scope(site))
    assert want["relevant"][0] < office["relevant"][0]  # the unit sees less than the office
    page = site.client("sz").get("/dashboard").text
    assert "南方网" not in page  # a 广东省 source, outside 深圳's region


def test_source_health_shows_a_failed_runs_cause(site: Site) -> None:
    with site.app.session() as session:
        run = start_run(session, "forum", NOW - timedelta(hours=1))
        finish_run(
            session,
            run,
            "failed",
            NOW - timedelta(minutes=59),
            {"errors": 1},
            "DNS lookup failed: https://bbs.example.cn/",
        )
    page = site.client("analyst").get("/dashboard").text
    row = re.search(r'<tr class="problem" data-source="forum">(.*?)</tr>', page, re.S)
    assert row, page
    assert "采集失败" in row.group(1) and "DNS lookup failed" in row.group(1) and "failed" in row.group(1)


def test_deliveries_are_counted_and_a_unit_sees_its_own(site: Site) -> None:
    with site.app.session() as session:
        record(
            session,
            [
                Outgoing("digest:2026-11-27:press-office", "digest", "mail", "analyst@example.cn", "日报", {}),
                Outgoing("digest:2026-11-27:press-office", "digest", "mail", "chief@example.cn", "日报", {}),
                Outgoing("digest:2026-11-27:shenzhen", "digest", "mail", "sz@example.cn", "日报", {}),
            ],
            NOW,
        )

    def pending(name: str) -> int:
        found = re.search(r'<td data-status="pending">(\d+)</td>', site.client(name).get("/dashboard").text)
        assert found
        return int(found.group(1))

    assert pending("analyst") == 3
    assert pending("sz") == 1


def test_the_chart_data_is_json_and_every_script_is_a_file(site: Site) -> None:
    page = site.client("analyst").get("/dashboard").text
    for tag in re.findall(r"<script[^>]*>", page):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert '<script src="/static/dashboard.js" defer></script>' in page
    assert site.client("analyst").get("/static/dashboard.js").status_code == 200


def test_the_dashboard_needs_a_login(site: Site) -> None:
    assert site.client().get("/dashboard", follow_redirects=False).status_code == 303
