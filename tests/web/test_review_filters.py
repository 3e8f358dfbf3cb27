"""The review list's filters (media, region, dates, handling), its pages and count, labels per topic
that take a post out of the list it was labelled in, units that stay in their scope, and the CLI's
search and reindex on the same full-text index."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from starlette.testclient import TestClient
from webtestlib import NOW, Site, csrf_of

from nlp.job import run_analysis
from storage.audit import history
from storage.handling import ASSIGNED, advance
from storage.posts import NO_EVENT, PostQuery, count_posts, find_posts
from storage.repo import insert_post
from yuqing.base.post import Post
from yuqing.cli import cli

ROW = re.compile(r'<tr id="post-(\d+)" class="post')


def listed(client: TestClient, **params: str) -> set[int]:
    page = client.get("/", params=params)
    assert page.status_code == 200, page.text
    return {int(pid) for pid in ROW.findall(page.text)}


def add_posts(site: Site, posts: list[tuple[str, str, str, timedelta]]) -> list[int]:
    """Store and analyse more posts: (source, title, text, age at NOW)."""
    ids = []
    with site.app.session() as session:
        for n, (source, title, text, age) in enumerate(posts):
            at = NOW - age
            pid = insert_post(
                session,
                Post(source, f"https://{source}.example.cn/more{n}.html", title, text, published_at=at, fetched_at=at),
            )
            assert pid is not None
            ids.append(pid)
    run_analysis(site.app, NOW)
    return ids


def label(client: TestClient, pid: int, current: str | None, **data: str):  # type: ignore[no-untyped-def]
    headers = {"X-CSRF-Token": csrf_of(client.get("/").text), "HX-Request": "true"}
    if current is not None:
        headers["HX-Current-URL"] = current
    return client.post(f"/posts/{pid}/label", data=data, headers=headers)


def test_media_type_level_and_region_filter_by_the_posts_sources(site: Site) -> None:
    client = site.client("analyst")
    ids = site.ids
    everything = listed(client)
    assert {ids["beating"], ids["court"], ids["hostile"]} <= everything
    assert listed(client, media_type="论坛") == {ids["beating"]}
    assert listed(client, media_type="新闻") == everything - {ids["beating"]}
    assert listed(client, media_level="省级") == {ids["court"]}
    assert listed(client, media_level="市级") == {ids["beating"], ids["hostile"]}
    assert listed(client, region="深圳市") == {ids["beating"], ids["hostile"]}
    assert listed(client, region="广东省") == {ids["court"]}
    assert listed(client, region="深圳市", media_type="新闻") == {ids["hostile"]}
    assert listed(client, media_level="境外") == set()
    assert listed(client, media_type="<script>", region="火星") == everything  # unknown choices are ignored


def test_a_date_range_replaces_the_quick_choice_of_days(site: Site) -> None:
    (old,) = add_posts(
        site,
        [
            (
                "forum",
                "网友称派出所民警殴打群众后删帖",
                "网友发帖称派出所民警殴打群众，要求公开执法记录仪视频。",
                timedelta(days=5),
            )
        ],
    )
    client = site.client("analyst")
    today = listed(client)
    assert old not in today and today  # the default: the last 24 hours
    assert old in listed(client, days="7") and today <= listed(client, days="7")
    day = (NOW - timedelta(days=5)).date().isoformat()  # 10:00 in Shanghai: the same local date
    assert listed(client, **{"from": day, "to": day}) == {old}
    assert listed(client, **{"from": day}) == today | {old}
    assert listed(client, to=(NOW - timedelta(days=1)).date().isoformat()) == {old}
    assert listed(client, **{"from": day, "days": "1"}) == today | {old}  # dates win over days
    page = client.get("/", params={"from": day, "to": "不是日期"})
    assert 'name="from" value="' + day + '"' in page.text and 'name="to" value=""' in page.text


def test_the_handling_status_of_the_posts_event(site: Site) -> None:
    client = site.client("analyst")
    everything = listed(client)
    pid = site.ids["court"]
    with site.app.session() as session:
        event_id = find_posts(session, PostQuery(post_id=pid))[0].event_id
        assert event_id is not None
        advance(session, event_id, ASSIGNED, by="analyst", now=NOW, unit="shenzhen")
    assert listed(client, handling=ASSIGNED) == {pid}
    assert listed(client, handling="待研判") == everything - {pid}  # untouched events are 待研判
    assert listed(client, handling="已办结") == set()
    assert listed(client, handling=NO_EVENT) == set()  # every analysed post has its event
    assert '<span class="status">已交办</span>' in client.get("/", params={"handling": ASSIGNED}).text
    with site.app.session() as session:  # a post not analysed yet belongs to no event
        fresh = insert_post(
            session, Post("forum", "https://forum.example.cn/new.html", "新帖", "派出所", published_at=NOW)
        )
        query = PostQuery(handling=NO_EVENT, relevant_only=False)
        assert [p.id for p in find_posts(session, query)] == [fresh] and count_posts(session, query) == 1


def test_pages_and_the_total_count(site: Site) -> None:
    more = add_posts(
        site,
        [
            (
                "forum",
                f"网友称第{n}派出所民警殴打群众",
                f"网友称第{n}派出所民警执法时殴打群众，公安机关称正在调查。",
                timedelta(hours=n + 1),
            )
            for n in range(9)
        ],
    )
    client = site.client("analyst")
    everything = listed(client)
    assert set(more) <= everything and len(everything) > 10
    first = client.get("/", params={"per": "10"})
    assert f"共 {len(everything)} 条，第 1–10 条" in first.text
    assert len(ROW.findall(first.text)) == 10 and 'rel="prev"' not in first.text
    link = re.search(r'href="(/\?[^"]+)"[^>]*rel="next"', first.text)
    assert link and "offset=10" in link.group(1) and "per=10" in link.group(1)
    second = client.get(link.group(1).replace("&amp;", "&"), headers={"HX-Request": "true", "HX-Target": "rows"})
    assert second.text.lstrip().startswith('<div id="rows">')  # htmx: only the rows and the pager
    rest = {int(pid) for pid in ROW.findall(second.text)}
    assert rest | {int(pid) for pid in ROW.findall(first.text)} == everything and len(rest) == len(everything) - 10
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    with site.app.session() as session:
        assert count_posts(session, PostQuery(source="forum", since=NOW - timedelta(days=1))) == len(more) + 1
        assert count_posts(session, PostQuery(source="forum", limit=2, offset=5)) == len(more) + 1


def test_a_label_on_one_topic_takes_the_post_out_of_that_topics_list(site: Site) -> None:
    client = site.client("analyst")
    pid = site.ids["beating"]
    with site.app.session() as session:
        topics = find_posts(session, PostQuery(post_id=pid))[0].topics
    assert "police" in topics and len(topics) > 1, topics  # another topic keeps it in the whole list
    assert pid in listed(client, topic="police")
    page = client.get("/", params={"topic": "police"})
    assert '"topic": "police"' in page.text  # x on a topic's list labels that topic only
    answer = label(client, pid, "http://127.0.0.1/?topic=police&days=3", verdict="irrelevant", topic="police")
    assert answer.status_code == 200, answer.text
    assert "已移出列表" in answer.text
    assert pid not in listed(client, topic="police")
    assert pid in listed(client)  # still relevant to its other topics
    with site.app.session() as session:
        assert "police" not in find_posts(session, PostQuery(post_id=pid))[0].topics
        entries = [e for e in history(session, f"post:{pid}") if e.action == "post.label"]
    assert [(e.actor, e.detail["topic"], e.detail["relevant"]) for e in entries] == [("analyst", "police", False)]


def test_a_label_keeps_the_row_when_the_post_still_matches_the_list(site: Site) -> None:
    client = site.client("analyst")
    pid = site.ids["court"]
    answer = label(client, pid, "http://127.0.0.1/?days=3", verdict="negative")
    assert answer.status_code == 200 and f'<tr id="post-{pid}" class="post neg"' in answer.text
    answer = label(client, pid, "http://127.0.0.1/?negative=1", verdict="not-negative")
    assert "已移出列表" in answer.text  # no longer negative: out of the negative list
    assert pid not in listed(client, negative="1") and pid in listed(client, negative="0")
    answer = label(client, pid, "http://127.0.0.1/", verdict="irrelevant", topic="police")
    assert answer.status_code == 400  # a topic the post does not match


def test_a_viewer_can_neither_label_nor_see_the_buttons(site: Site) -> None:
    client = site.client("viewer")
    page = client.get("/")
    assert "hx-post" not in page.text
    for data in ({"verdict": "irrelevant", "topic": "police"}, {"verdict": "negative"}):
        answer = client.post(
            f"/posts/{site.ids['beating']}/label", data=data, headers={"X-CSRF-Token": csrf_of(page.text)}
        )
        assert answer.status_code == 403
    with site.app.session() as session:
        assert not [e for e in history(session, f"post:{site.ids['beating']}") if e.action == "post.label"]


def test_a_units_user_stays_in_its_scope_whatever_the_filters(site: Site) -> None:
    client = site.client("sz")
    mine = listed(client)
    assert site.ids["beating"] in mine and site.ids["court"] not in mine
    outside = [
        {"region": "广东省"},
        {"source": "province"},
        {"media_level": "省级"},
        {"topic": "courts"},
        {"q": "执行局"},
        {"days": "30", "sort": "risk", "per": "100"},
        {"from": "2020-01-01", "to": "2030-01-01"},
        {"handling": "待研判"},
    ]
    for params in outside:
        assert site.ids["court"] not in listed(client, **params), params
        assert listed(client, **params) <= mine | {site.ids["hostile"]}
    assert "共 0 条" in client.get("/", params={"region": "广东省"}).text
    answer = label(client, site.ids["court"], "http://127.0.0.1/", verdict="negative")
    assert answer.status_code == 404


def run(config_dir: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--config", str(config_dir), *args], catch_exceptions=False)


def test_the_cli_searches_the_consoles_index_and_reindexes_older_posts(site: Site, config_dir: Path) -> None:
    found = run(config_dir, "posts", "search", "执行局", "--json")
    assert found.exit_code == 0, found.output
    assert [json.loads(line)["id"] for line in found.output.splitlines()] == [site.ids["court"]]
    with site.app.session() as session:  # stored, never analysed: not in the index yet
        older = insert_post(
            session,
            Post(
                "city", "https://city.example.cn/old.html", "旧帖", "检察院公益诉讼案件办理情况通报", published_at=NOW
            ),
        )
    assert run(config_dir, "posts", "search", "公益诉讼", "--json").output == ""
    done = run(config_dir, "posts", "reindex")
    assert done.exit_code == 0 and "indexed 1 post(s)" in done.output
    found = run(config_dir, "posts", "search", "公益诉讼", "--json")
    assert [json.loads(line)["id"] for line in found.output.splitlines()] == [older]
    again = run(config_dir, "posts", "reindex")
    assert "indexed 0 post(s)" in again.output
    assert f"indexed {len(site.ids) + 1} post(s)" in run(config_dir, "posts", "reindex", "--all").output
    assert site.ids["court"] in {
        int(p) for p in ROW.findall(site.client("analyst").get("/", params={"q": "执行局"}).text)
    }
