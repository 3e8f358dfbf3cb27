"""Real crawls (``yuqing crawl`` in a subprocess) of the fixture site into a real database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import FAST, NOW, YUQING, crawl, run_yuqing, write_config
from sqlalchemy import select

from config import load_config
from storage import leases
from storage.db import make_engine, session_factory, upgrade
from storage.models import PostRow
from storage.repo import to_post
from storage.runs import last_runs, recent_runs
from tests.mockserver import MockServer


def stored(config_dir: Path, source_id: str | None = None) -> dict[str, tuple]:
    """canonical path → (title, text, author, published_at ISO +08:00, views, likes, comments)."""
    engine = make_engine(load_config(config_dir).database_url)
    with session_factory(engine)() as session:
        query = select(PostRow).order_by(PostRow.id)
        if source_id:
            query = query.where(PostRow.source_id == source_id)
        posts = [to_post(row) for row in session.scalars(query)]
    engine.dispose()
    result = {}
    for p in posts:
        path = p.canonical_url.split("/", 3)[3]
        when = p.published_at.astimezone(datetime.fromisoformat(NOW).tzinfo).isoformat() if p.published_at else None
        result[path] = (p.title, p.text, p.author, when, p.views, p.likes, p.comments)
    return result


def runs(config_dir: Path, source_id: str) -> list:
    engine = make_engine(load_config(config_dir).database_url)
    with session_factory(engine)() as session:
        found = recent_runs(session, source_id)
    engine.dispose()
    return found


def test_html_list_pages_to_article_pages(crawl_config: Path, site: MockServer) -> None:
    [summary] = crawl(crawl_config, "news-test")
    assert summary["new"] == 5 and summary["errors"] == 1  # the list links one deleted article (404)
    assert summary["status"] == "partial"
    posts = stored(crawl_config)
    assert posts["news/a1.html"] == (
        "全市开展夏季治安打击整治行动",
        "为切实维护社会治安稳定，市公安局自即日起在全市范围内开展夏季治安打击整治行动。\n"
        "行动期间，公安机关将重点打击电信网络诈骗、盗窃、涉黄涉赌等违法犯罪活动，全力守护群众生命财产安全。",
        "张三",
        "2023-03-04T10:20:00+08:00",
        None,
        None,
        None,
    )
    assert posts["news/a3.html"][3] == "2023-03-06T15:00:00+08:00"
    assert posts["news/a4.html"][3] == "2023-03-07T00:00:00+08:00"
    # UTF-8 bytes declaring gbk
    assert posts["news/a5.html"][:3] == ("检察机关依法惩治侵害未成年人犯罪", posts["news/a5.html"][1], "孙八")
    assert posts["news/a5.html"][1].startswith("检察机关坚持零容忍")
    assert all("不应出现的脚本文字" not in p[1] and "分享到微博" not in p[1] for p in posts.values())
    assert sorted(posts) == ["news/a1.html", "news/a2.html", "news/a3.html", "news/a4.html", "news/a5.html"]
    run = runs(crawl_config, "news-test")[0]
    assert (run.status, run.pages, run.new, run.errors) == ("partial", 9, 5, 1)
    assert "HTTP 404" in run.error_summary and "missing.html" in run.error_summary


def test_second_crawl_stores_nothing_new_and_fetches_no_known_article(crawl_config: Path, site: MockServer) -> None:
    crawl(crawl_config, "news-test")
    first_hits = len(site.hits)
    [again] = crawl(crawl_config, "news-test")
    assert again["new"] == 0
    second = site.hits[first_hits:]
    assert not [h for h in second if h.startswith("/news/a")], second  # stored articles not fetched again
    assert len(stored(crawl_config)) == 5


def test_refresh_fetches_stored_articles_again_without_storing_twice(crawl_config: Path, site: MockServer) -> None:
    crawl(crawl_config, "news-test")
    sources = (crawl_config / "sources.yaml").read_text(encoding="utf-8")
    (crawl_config / "sources.yaml").write_text(
        sources.replace("    name: 测试新闻\n", "    name: 测试新闻\n    refresh: true\n"), encoding="utf-8"
    )
    first_hits = len(site.hits)
    [again] = crawl(crawl_config, "news-test")
    assert (again["new"], again["duplicate"]) == (0, 5)
    assert len([h for h in site.hits[first_hits:] if h.startswith("/news/a")]) == 5


def test_gbk_forum_list_with_relative_times(crawl_config: Path) -> None:
    [summary] = crawl(crawl_config, "forum-test")
    assert (summary["status"], summary["new"]) == ("ok", 3)
    posts = stored(crawl_config)
    assert posts["forum/t1.html"] == (
        "小区门口夜市噪音扰民何时能管管",
        "每天晚上夜市一直开到凌晨两点，噪音很大，老人孩子都睡不好觉，多次反映给物业没有结果，希望有关部门管一管。",
        "居民甲",
        "2023-03-10T11:57:00+08:00",
        None,
        None,
        12,
    )
    assert posts["forum/t2.html"][0] == "反映：某路段红绿灯时间设置不合理"
    assert posts["forum/t2.html"][1].startswith("该路口南北方向绿灯只有十五秒")
    assert posts["forum/t2.html"][3:] == ("2023-03-09T14:20:00+08:00", None, None, 12000)
    assert posts["forum/t3.html"][3] == "2023-03-04T12:00:00+08:00"


def test_message_board_posts_on_the_list_page(crawl_config: Path) -> None:
    [summary] = crawl(crawl_config, "board-test")
    assert summary["new"] == 2
    posts = stored(crawl_config)
    assert posts["board/msg-1.html"] == (
        "关于小区停车难问题的建议",
        "我们小区车位严重不足，晚上很多车只能停在消防通道上，存在很大安全隐患，建议增加停车位。",
        "网友A",
        "2023-03-04T00:00:00+08:00",
        None,
        12000,
        None,
    )
    [other] = [v for k, v in posts.items() if k.startswith("board/?yuqing_item=")]
    assert other[0] == "咨询：户籍迁移需要哪些材料" and other[3] == "2023-03-05T09:30:00+08:00"
    [again] = crawl(crawl_config, "board-test")
    assert (again["new"], again["duplicate"]) == (0, 2)


def test_json_api_with_pagination(crawl_config: Path, site: MockServer) -> None:
    [summary] = crawl(crawl_config, "api-test")
    assert (summary["status"], summary["pages"], summary["new"]) == ("ok", 3, 2)
    posts = stored(crawl_config)
    assert posts["api/item/1"] == (
        "网民反映某景区门票价格过高",
        "五一假期某景区门票价格上涨明显，网民认为不合理。",
        "网民一",
        "2023-03-05T15:06:40+08:00",
        1024,
        12,
        None,
    )
    assert posts["api/item/2"][3] == "2023-03-05T18:00:00+08:00"
    assert [h for h in site.hits if h.startswith("/api/")] == [
        "/api/posts?page=1",
        "/api/posts?page=2",
        "/api/posts?page=3",
    ]


def test_rss_and_atom_feeds_follow_teasers(crawl_config: Path, site: MockServer) -> None:
    summaries = crawl(crawl_config, "rss-test")
    crawl(crawl_config, "atom-test")
    assert summaries[0]["new"] == 3
    posts = stored(crawl_config)
    title, text, author, when, *_ = posts["news/feed-1.html"]  # utm_source dropped from the key
    assert (title, author, when) == ("市公安局召开全市治安形势分析会", "宣传处", "2023-03-04T10:20:00+08:00")
    assert text.count("\n") == 1 and "alert" not in text
    # only the teaser entry was fetched, and its page gave the body and author
    assert [h for h in site.hits if h.startswith("/news/")] == ["/news/summary-only.html"]
    assert posts["news/summary-only.html"][2:4] == ("李四", "2023-03-06T16:45:00+08:00")
    assert posts["news/summary-only.html"][1].count("\n") == 2
    assert posts["news/atom-1.html"][0::2][:2] == ("司法局推进公共法律服务体系建设", "司法局")
    assert posts["news/atom-1.html"][3] == "2023-03-07T08:00:00+08:00"


def test_json_next_url_and_an_rss_1_0_feed_in_gb2312(crawl_config: Path) -> None:
    [api] = crawl(crawl_config, "api-next-test")
    [rdf] = crawl(crawl_config, "rdf-test")
    assert (api["pages"], api["new"], rdf["new"]) == (2, 2, 1)
    posts = stored(crawl_config)
    assert posts["api/s/10"][0::3][:2] == ("市政府召开新闻发布会通报防汛工作", "2023-03-10T06:13:20+08:00")
    assert posts["api/s/11"][1] == "受持续降雨影响，全市山区发生地质灾害的风险较高，请群众注意防范。"
    assert posts["news/rdf-1.html"][:4] == (
        "信访局开通网上信访绿色通道",
        posts["news/rdf-1.html"][1],
        "信访局",
        "2023-03-08T09:00:00+08:00",
    )
    assert posts["news/rdf-1.html"][1].startswith("市信访局近日开通网上信访绿色通道")


def test_news_sitemap_index(crawl_config: Path) -> None:
    [summary] = crawl(crawl_config, "sitemap-test")
    assert summary["new"] == 2
    posts = stored(crawl_config)
    assert posts["news/s1.html"][0] == "公安机关公布十起侵犯公民个人信息典型案例"
    assert posts["news/s1.html"][1].startswith("公安部今天公布十起") and posts["news/s1.html"][1].count("\n") == 2
    assert "热点新闻" not in posts["news/s1.html"][1] and "版权所有" not in posts["news/s1.html"][1]
    assert posts["news/s1.html"][3] == "2023-03-09T10:00:00+08:00"
    assert posts["news/s2.html"][0] == "最高检发布检察公益诉讼起诉典型案例"


def test_failures_are_recorded_and_do_not_stop_the_crawl(crawl_config: Path, site: MockServer) -> None:
    [summary] = crawl(crawl_config, "errors-test")
    assert summary["status"] == "partial"
    posts = stored(crawl_config)
    assert sorted(posts) == ["err/flaky.html", "news/a1.html"]  # 500 then 200: retried and stored
    assert posts["err/flaky.html"][0] == "故障恢复后的文章"
    run = runs(crawl_config, "errors-test")[0]
    assert run.errors == 5
    for expected in ("HTTP 404", "timeout", "redirect loop", "not a text response (image/png)", "max_page_bytes"):
        assert expected in run.error_summary, run.error_summary
    assert "/private/secret.html" not in site.hits  # robots.txt obeyed
    assert site.hits.count("/err/flaky.html") == 2


def test_all_continues_past_a_failing_source(crawl_config: Path) -> None:
    done = run_yuqing(crawl_config, "crawl", "--all", "--now", NOW, *[a for s in FAST for a in ("--set", s)])
    assert done.returncode == 1  # one source failed
    lines = {line.split(":", 1)[0]: line for line in done.stdout.splitlines() if ": " in line and "=" in line}
    assert "dead-test" in lines and "failed" in lines["dead-test"]
    assert "search-test" not in lines  # disabled
    for ok in (
        "rss-test",
        "atom-test",
        "forum-test",
        "board-test",
        "api-test",
        "api-next-test",
        "rdf-test",
        "sitemap-test",
    ):
        assert lines[ok].startswith(f"{ok}: ok "), lines[ok]
    engine = make_engine(load_config(crawl_config).database_url)
    with session_factory(engine)() as session:
        last = last_runs(session)
    engine.dispose()
    assert last["dead-test"].status == "failed" and "HTTP 404" in last["dead-test"].error_summary
    assert len(last) == 11 and all(r.finished_at for r in last.values())


def test_search_url_expands_topic_keywords(crawl_config: Path, site: MockServer) -> None:
    [summary] = crawl(crawl_config, "search-test", "--max-pages", "1")  # disabled, but asked by name
    searches = [h for h in site.hits if h.startswith("/search?q=")]
    assert "/search?q=%E6%B0%91%E8%AD%A6" in searches  # 民警, from topics.yaml
    assert summary["new"] == 1 and len(searches) > 10


def test_two_crawls_racing_store_each_post_once(crawl_config: Path) -> None:
    cmd = [
        YUQING,
        "--config",
        str(crawl_config),
        "crawl",
        "forum-test",
        "--json",
        "--now",
        NOW,
        *[a for s in FAST for a in ("--set", s)],
    ]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert sorted(p.returncode for p in procs) in ([0, 0], [0, 3]), outputs  # 3: the other held the lease
    assert len(stored(crawl_config)) == 3
    summaries = [__import__("json").loads(o.strip().splitlines()[-1]) for o in outputs]
    assert sum(s["new"] for s in summaries) == 3


def test_a_second_crawl_of_a_source_being_crawled_is_refused(crawl_config: Path, site: MockServer) -> None:
    """One crawl of a source at a time: the second says who holds it and exits 3, touching no run."""
    site.delays["/err/slow.html"] = 8
    sources = (crawl_config / "sources.yaml").read_text(encoding="utf-8")
    (crawl_config / "sources.yaml").write_text(
        sources.replace("    timeout: 1\n", "    timeout: 50\n", 1), encoding="utf-8"
    )
    cmd = [YUQING, "--config", str(crawl_config), "crawl", "errors-test", *[a for s in FAST for a in ("--set", s)]]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    engine = make_engine(load_config(crawl_config).database_url)
    deadline = time.monotonic() + 60
    while leases.holder(engine, "crawl:errors-test") is None:
        assert time.monotonic() < deadline and first.poll() is None, "the first crawl never took the lease"
        time.sleep(0.1)
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert second.returncode == 3, second.stdout + second.stderr
    assert "already being crawled (pid" in second.stdout and "already-running" in second.stdout
    first.communicate(timeout=120)
    assert first.returncode in (0, 1)
    found = runs(crawl_config, "errors-test")
    assert len(found) == 1 and found[0].status != "running"  # the refused crawl wrote and closed nothing
    assert leases.holder(engine, "crawl:errors-test") is None  # released when the crawl ended
    engine.dispose()


def test_headers_and_cookies_come_from_the_environment(
    crawl_config: Path, site: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = (crawl_config / "sources.yaml").read_text(encoding="utf-8")
    sources = sources.replace(
        "    name: 测试留言板\n",
        "    name: 测试留言板\n    headers_env: {X-Api-Token: BOARD_TOKEN}\n"
        "    cookies_env: {session: BOARD_SESSION}\n",
    )
    (crawl_config / "sources.yaml").write_text(sources, encoding="utf-8")
    monkeypatch.setenv("BOARD_TOKEN", "s3cret-token")
    monkeypatch.setenv("BOARD_SESSION", "abc123")
    crawl(crawl_config, "board-test")
    seen = site.last_request("/board/index.html").headers
    assert seen["X-Api-Token"] == "s3cret-token" and "session=abc123" in seen["Cookie"]
    assert seen["User-Agent"].startswith("yuqing/")
    assert "s3cret-token" not in (crawl_config / "sources.yaml").read_text(encoding="utf-8")


def test_a_crawl_process_past_its_timeout_is_killed_and_recorded(crawl_config: Path, site: MockServer) -> None:
    from crawlers.launch import crawl_source

    site.delays["/err/slow.html"] = 60
    sources = (crawl_config / "sources.yaml").read_text(encoding="utf-8")
    (crawl_config / "sources.yaml").write_text(
        sources.replace("    timeout: 1\n", "    timeout: 50\n", 1), encoding="utf-8"
    )
    summary = crawl_source(load_config(crawl_config), "errors-test", timeout=4, extra=FAST).summary()
    assert summary["status"] == "timeout"
    found = runs(crawl_config, "errors-test")
    assert all(r.status != "running" for r in found)
    assert not found or (found[0].status == "timeout" and "killed after 4 s" in found[0].error_summary)


@pytest.mark.postgres
def test_crawl_into_postgresql(config_dir: Path, site: MockServer, postgres_schema_url: str) -> None:
    write_config(config_dir, site.base, postgres_schema_url)
    engine = make_engine(postgres_schema_url)
    upgrade(engine)
    engine.dispose()
    [first] = crawl(config_dir, "forum-test")
    [second] = crawl(config_dir, "forum-test")
    assert (first["new"], second["new"]) == (3, 0)
    assert stored(config_dir)["forum/t1.html"][3] == "2023-03-10T11:57:00+08:00"


@pytest.mark.redis
def test_crawl_with_the_queue_in_redis(crawl_config: Path, redis_url: str) -> None:
    import redis

    settings = (crawl_config / "settings.yaml").read_text(encoding="utf-8")
    (crawl_config / "settings.yaml").write_text(
        settings.replace("\nredis_url:\n", f"\nredis_url: {redis_url}\n", 1), encoding="utf-8"
    )
    [first] = crawl(crawl_config, "news-test")
    [second] = crawl(crawl_config, "news-test")
    assert (first["new"], second["new"]) == (5, 0)
    client = redis.Redis.from_url(redis_url)
    assert not client.keys("yuqing:news-test:*")  # not persisted after the crawl
    client.close()


def test_stored_urls_do_not_use_up_max_items(crawl_config: Path) -> None:
    sources = (crawl_config / "sources.yaml").read_text(encoding="utf-8")
    sources = re.sub(r"(id: sitemap-test.*?)delay: 0", r"\1max_items: 1, delay: 0", sources)
    (crawl_config / "sources.yaml").write_text(sources, encoding="utf-8")
    runs_new = [crawl(crawl_config, "sitemap-test")[0]["new"] for _ in range(3)]
    assert runs_new == [1, 1, 0]
    assert sorted(stored(crawl_config)) == ["news/s1.html", "news/s2.html"]


def test_crawl_logs_carry_urls_never_post_text(config_dir: Path, site: MockServer) -> None:
    """Scrapy logs scraped items (DEBUG) and dropped ones (WARNING) with their whole content by
    default; ours name the URL and the reason only: posts name real people. What ``yuqing init`` and
    the crawl write is private whatever the umask they were started with."""
    write_config(config_dir, site.base)
    crawl_config = config_dir
    umask = os.umask(0o022)  # as a shell would start them
    try:
        assert run_yuqing(crawl_config, "init").returncode == 0
        done = subprocess.run(
            [
                sys.executable,
                "-P",
                "-m",
                "crawlers.run",
                "forum-test",
                "--config",
                str(crawl_config),
                "--now",
                NOW,
                "--log-level",
                "DEBUG",
                *[a for s in FAST for a in ("--set", s)],
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        os.umask(umask)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    posts = stored(crawl_config, "forum-test")
    assert posts and len(re.findall(r"Scraped http://\S+", log)) == len(posts), log[-3000:]
    for title, text, *_ in posts.values():
        assert title not in log and text[:20] not in log
    data_dir = load_config(crawl_config).data_dir
    for path in [data_dir, *data_dir.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is {oct(path.stat().st_mode)}"


def test_dropped_and_failed_items_are_logged_by_url_only() -> None:
    from scrapy.exceptions import DropItem

    from crawlers.logformat import PrivateLogFormatter
    from yuqing.base.post import Post

    post = Post(source_id="s", url="https://example.cn/a/1.html", title="举报人张三的遭遇", text="身份证号码见附件")

    class Spider:
        class crawler:  # noqa: N801 — stands in for the attribute Scrapy reads
            settings = {"DEFAULT_DROPITEM_LOG_LEVEL": "WARNING"}

    formatter = PrivateLogFormatter()
    for result in (
        formatter.dropped(post, DropItem("duplicate"), None, Spider()),  # type: ignore[arg-type]
        formatter.item_error(post, ValueError("x"), None, Spider()),  # type: ignore[arg-type]
        formatter.scraped(post, None, Spider()),
    ):  # type: ignore[arg-type]
        line = result["msg"] % result["args"]
        assert "https://example.cn/a/1.html" in line and "张三" not in line and "身份证" not in line
