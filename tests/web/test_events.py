"""Events over HTTP: the list and one event, unit scope, the handling workflow (assess, hand over,
the unit moves it on, the press office closes it), who may do what, the handover notice through a
real SMTP server, and the handling status in the digest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webtestlib import HOSTILE_TITLE, NOW, POSTS, Site, csrf_of, make_site

from alerts import deliveries as dl
from alerts.render import digest_markdown, digest_text, environment
from alerts.reports import build_for, period_for, report_text
from alerts.service import build_digest, digest_period_end, retry_pending, select_groups
from alerts.special import build_special, special_html
from nlp.job import run_analysis
from storage.audit import history
from storage.posts import post_detail
from storage.repo import insert_post
from tests.alerts.alerts_testlib import (
    ALERTS_YAML,
    SOURCES_YAML,
    Inbox,
    PortZeroController,
    SmtpServer,
    start_smtp,
    write_config,
)
from yuqing.base.post import Post


def event_of(site: Site, key: str) -> int:
    with site.app.session() as session:
        detail = post_detail(session, site.ids[key])
        assert detail is not None and detail.event is not None
        return detail.event.id


def repost(site: Site, key: str, source: str) -> None:
    """Another source copies a seeded post word for word: the analysis merges it into its event."""
    _, _, title, text, hours = next(p for p in POSTS if p[0] == key)
    at = NOW - timedelta(hours=hours) + timedelta(minutes=30)
    with site.app.session() as session:
        insert_post(session, Post(source, f"https://{source}.example.cn/copy-{key}.html", title, text, at, at))
    run_analysis(site.app, NOW)


def post_form(client: TestClient, url: str, data: dict[str, str], page: str | None = None) -> int:
    """POST a form as the page's form does (with the CSRF token of ``page``, default: ``url``'s page)."""
    html = client.get(page or url.rsplit("/", 1)[0]).text
    return client.post(url, data={**data, "csrf": csrf_of(html)}, follow_redirects=False).status_code


def test_the_list_and_an_event_render(site: Site) -> None:
    repost(site, "beating", "city")
    eid = event_of(site, "beating")
    client = site.client("analyst")
    listing = client.get("/events")
    assert listing.status_code == 200
    assert f'href="/events/{eid}"' in listing.text and "网友称某派出所民警执法时殴打群众" in listing.text
    assert "待研判" in listing.text
    page = client.get(f"/events/{eid}")
    assert page.status_code == 200
    assert "首发" in page.text and "本地论坛（市级）" in page.text  # the forum posted first, the city site copied it
    assert "深圳新闻网" in page.text and "传播时间线" in page.text
    assert 'href="https://forum.example.cn/beating.html"' in page.text
    assert "信息源未提供互动数据" in page.text
    assert "2篇" in page.text


def test_crawled_strings_are_escaped_and_links_checked(site: Site) -> None:
    eid = event_of(site, "hostile")
    page = site.client("analyst").get(f"/events/{eid}")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and 'onerror="alert(2)"' not in page.text
    assert "&lt;script&gt;" in page.text
    listing = site.client("analyst").get("/events")
    assert HOSTILE_TITLE not in listing.text


def test_filters_by_status_topic_and_risk(site: Site) -> None:
    client = site.client("analyst")
    beating, court = event_of(site, "beating"), event_of(site, "court")
    assert post_form(client, f"/events/{court}/advance", {"status": "已办结", "note": "无需处置"}) == 303
    closed = client.get("/events", params={"status": "已办结"}).text
    assert f"#{court}<" in closed and f"#{beating}<" not in closed
    pending = client.get("/events", params={"status": "待研判"}).text
    assert f"#{beating}<" in pending and f"#{court}<" not in pending
    police = client.get("/events", params={"topic": "police"}).text
    assert f"#{beating}<" in police and f"#{court}<" not in police
    risky = client.get("/events", params={"min_risk": "2"}).text  # 较大 and above
    assert f"#{beating}<" in risky and f"#{event_of(site, 'praise')}<" not in risky
    assert f"#{event_of(site, 'praise')}<" in client.get("/events").text


def test_a_units_user_sees_only_its_scope(site: Site) -> None:
    client = site.client("sz")
    court, beating = event_of(site, "court"), event_of(site, "beating")
    assert client.get(f"/events/{court}").status_code == 404  # 广东省 court: not 深圳 police
    assert client.get(f"/events/{beating}").status_code == 200
    listing = client.get("/events").text
    assert f"#{beating}<" in listing and f"#{court}<" not in listing


def test_a_units_user_sees_only_the_events_posts_of_its_scope_until_it_is_handed_over(site: Site) -> None:
    """南方网 (广东省) reposts the 深圳 forum's post: the unit sees the event, not the provincial copy,
    until the press office hands the event to the unit."""
    repost(site, "beating", "province")
    eid = event_of(site, "beating")
    sz = site.client("sz")
    page = sz.get(f"/events/{eid}").text
    assert "本地论坛" in page and "南方网" not in page and "province.example.cn" not in page
    assert "另有1篇不在本单位范围内，未列出。" in page
    office = site.client("analyst").get(f"/events/{eid}").text
    assert "南方网" in office and "不在本单位范围内" not in office
    assert post_form(site.client("analyst"), f"/events/{eid}/advance", {"status": "已交办", "unit": "shenzhen"}) == 303
    handed = sz.get(f"/events/{eid}").text
    assert "南方网" in handed and "不在本单位范围内" not in handed


def test_assess_hand_over_unit_moves_it_on_and_the_office_closes(site: Site) -> None:
    eid = event_of(site, "beating")
    analyst, sz = site.client("analyst"), site.client("sz")
    # a unit's user cannot hand over or touch an event not handed to it
    assert post_form(sz, f"/events/{eid}/advance", {"status": "处置中"}) == 403
    assert post_form(sz, f"/events/{eid}/advance", {"status": "已交办", "unit": "shenzhen"}) == 403
    assert post_form(sz, f"/events/{eid}/assess", {"assessment": "x"}) == 403
    assert post_form(analyst, f"/events/{eid}/assess", {"assessment": "涉警负面，需核实回应"}) == 303
    assert (
        post_form(analyst, f"/events/{eid}/advance", {"status": "已交办", "unit": "shenzhen", "note": "请当日回应"})
        == 303
    )
    assert "已交办" in sz.get("/events", params={"status": "已交办"}).text
    assert post_form(sz, f"/events/{eid}/advance", {"status": "已回应"}) == 403  # 处置中 comes first
    assert post_form(sz, f"/events/{eid}/advance", {"status": "处置中", "note": "已约谈当事民警"}) == 303
    assert post_form(sz, f"/events/{eid}/advance", {"status": "已回应", "note": "已发布警情通报"}) == 303
    assert post_form(analyst, f"/events/{eid}/advance", {"status": "已办结", "note": "舆情平息"}) == 303
    page = analyst.get(f"/events/{eid}").text
    assert "涉警负面，需核实回应" in page
    steps = re.findall(r'<span class="status">([^<]+)</span>', page.split('id="steps"')[1])
    assert steps == ["已交办", "处置中", "已回应", "已办结"]
    assert "已约谈当事民警" in page and "深圳市委政法委" in page
    with site.app.session() as session:
        audited = [(e.actor, e.action, e.detail.get("status")) for e in history(session, f"event:{eid}")]
    assert ("sz", "event.handling", "已回应") in audited and ("analyst", "event.assess", None) in audited
    assert ("analyst", "event.handling", "已办结") in audited


def test_a_unit_cannot_move_another_units_event(site: Site) -> None:
    eid = event_of(site, "beating")
    analyst = site.client("analyst")
    assert post_form(analyst, f"/events/{eid}/advance", {"status": "已交办", "unit": "press-office"}) == 303
    assert post_form(site.client("sz"), f"/events/{eid}/advance", {"status": "处置中"}) == 403


def test_a_viewer_changes_nothing_and_the_csrf_token_is_required(site: Site) -> None:
    eid = event_of(site, "beating")
    viewer = site.client("viewer")
    assert viewer.get(f"/events/{eid}").status_code == 200
    assert post_form(viewer, f"/events/{eid}/assess", {"assessment": "x"}) == 403
    assert post_form(viewer, f"/events/{eid}/advance", {"status": "已办结"}) == 403
    analyst = site.client("analyst")
    assert analyst.post(f"/events/{eid}/advance", data={"status": "已办结"}).status_code == 403
    assert analyst.post(f"/events/{eid}/assess", data={"assessment": "x"}).status_code == 403
    assert "待研判" in analyst.get(f"/events/{eid}").text


def test_an_unknown_unit_is_refused(site: Site) -> None:
    eid = event_of(site, "beating")
    analyst = site.client("analyst")
    assert post_form(analyst, f"/events/{eid}/advance", {"status": "已交办", "unit": "nowhere"}) == 400
    page = analyst.get(f"/events/{eid}").text
    assert '<option value="" selected>请选择</option>' in page  # no unit chosen for the analyst
    empty = analyst.post(f"/events/{eid}/advance", data={"status": "已交办", "unit": "", "csrf": csrf_of(page)})
    assert empty.status_code == 400 and "请选择承办单位" in empty.text


@pytest.fixture
def smtp_site(config_dir: Path, db_url: str) -> Iterator[tuple[Site, SmtpServer]]:
    """The console with mail going to a real SMTP server (aiosmtpd)."""
    server = start_smtp()
    write_config(config_dir, db_url, server, sources=SOURCES_YAML, alerts=ALERTS_YAML)
    made = make_site(config_dir, db_url)
    yield made, server
    made.app.close()
    if server.controller._thread is not None:
        server.controller.stop()


def test_the_handover_notice_goes_once_to_the_units_group(smtp_site: tuple[Site, SmtpServer]) -> None:
    site, server = smtp_site
    eid = event_of(site, "hostile")
    analyst = site.client("analyst")
    assert post_form(analyst, f"/events/{eid}/assess", {"assessment": "当事人电话13812345678，需核实"}) == 303
    assert post_form(analyst, f"/events/{eid}/advance", {"status": "已交办", "unit": "shenzhen"}) == 303
    [msg] = server.inbox.to("sz@example.cn")
    assert not server.inbox.to("analyst@example.cn")  # only the unit's group
    assert "舆情交办" in msg["Subject"]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "13812345678" not in html + text and "138****5678" in text
    with site.app.session() as session:
        steps = [r for r in dl.listing(session) if r.key.startswith(f"handover:{eid}:")]
    assert [(r.kind, r.recipient, r.status) for r in steps] == [("handover", "sz@example.cn", "sent")]
    retry_pending(site.app, NOW + timedelta(hours=1))
    assert len(server.inbox.to("sz@example.cn")) == 1  # exactly once


def test_a_failed_notice_is_retried_by_the_delivery_job(smtp_site: tuple[Site, SmtpServer]) -> None:
    site, server = smtp_site
    eid = event_of(site, "beating")
    server.controller.stop()  # the mail server is down: the handover still happens
    assert post_form(site.client("analyst"), f"/events/{eid}/advance", {"status": "已交办", "unit": "shenzhen"}) == 303
    with site.app.session() as session:
        [row] = [r for r in dl.listing(session) if r.key.startswith(f"handover:{eid}:")]
        assert row.status == "failed"
    inbox = Inbox()
    back = PortZeroController(inbox, hostname="127.0.0.1", port=server.port)  # the server is back
    back.start()
    try:
        results = retry_pending(site.app, NOW + timedelta(hours=1))
        assert retry_pending(site.app, NOW + timedelta(hours=2)) == []
    finally:
        back.stop()
    assert [r.status for r in results if r.key.startswith("handover:")] == ["sent"]
    assert [rcpts for rcpts, _ in inbox.messages] == [["sz@example.cn"]]


def test_the_digest_shows_each_events_handling(site: Site) -> None:
    repost(site, "beating", "city")
    eid = event_of(site, "beating")
    assert post_form(site.client("analyst"), f"/events/{eid}/advance", {"status": "已交办", "unit": "shenzhen"}) == 303
    [group] = select_groups(site.app, "press-office")
    d = build_digest(site.app, group, digest_period_end(site.app, group, NOW), NOW, chart=False)
    [event] = [e for e in d.events if e.post_count == 2]
    assert event.handling == "已交办（深圳市委政法委）"
    env = environment()
    assert "已交办（深圳市委政法委）" in digest_text(env, d)
    assert "已交办（深圳市委政法委）" in digest_markdown(env, d)
    later = NOW + timedelta(days=4)  # the week of NOW has ended
    weekly = report_text(env, build_for(site.app, group, period_for(site.app, "week", later, None), later))
    assert "已交办（深圳市委政法委）" in weekly
    with site.app.session() as session:
        special = build_special(session, site.app.config, eid, NOW)
    assert "处置情况：已交办（深圳市委政法委）" in special_html(env, special)
