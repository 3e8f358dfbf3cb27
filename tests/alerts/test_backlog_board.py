"""A message board's history on its first crawl, for real: 600 complaints about the police published
two years ago, crawled from the mock server (``yuqing crawl``), analysed, then alerts and the digest.
All 600 are stored; none is alerted (no post alert, no surge); the digest has one line,
「补采历史信息600条」, and no items. The same complaints posted today (a second board, dated the way
boards date today's posts: ``08:15``, ``昨天 23:40``) do alert: the backlog rule is what keeps the old
ones quiet."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from alerts_testlib import SEND_AT, tiny_model, write_config
from sqlalchemy import func, select

from alerts.render import digest_html, digest_text, environment
from alerts.service import build_digest, select_groups, send_immediate_alerts
from nlp import job
from storage.context import AppContext
from storage.db import make_engine, upgrade
from storage.models import AnalysisRow, DeliveryRow, PostRow
from tests.mockserver import MockServer, Request, Response, html

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = SEND_AT + timedelta(hours=1)  # 2026-11-27 09:00 in Shanghai, after quiet hours
OLD_POSTS, PER_PAGE = 600, 20
FRESH_POSTS = 8
PLACES = ("城关", "东湖", "青山", "临江", "西城", "南岸", "北湖", "新港", "河西", "江北")
COMPLAINTS = (
    "派出所民警执法时推搡七旬老人，还殴打上前劝阻的群众",
    "辅警暴力执法，当街殴打摆摊的小贩",
    "派出所接警后迟迟不出警，民警还对报警人态度恶劣",
    "民警办案拖延，报案三个月无人过问，群众非常愤怒",
    "派出所民警收受好处，包庇打人者，受害人投诉无门",
)
SOURCES = """
sources:
  - id: board-old
    name: 市长信箱留言板
    kind: html
    media_type: 政务
    start_urls: ["{base}/old/list-1.html"]
    delay: 0
    timeout: 5
    max_pages: 40
    max_items: 1000
    selectors: {{item: "div.msg", links: "h3 a", title: "h3", body: "p.content", time: "span.date",
                author: "span.user", next_page: "a.next"}}
  - id: board-new
    name: 百姓留言板
    kind: html
    media_type: 政务
    start_urls: ["{base}/new/list.html"]
    delay: 0
    timeout: 5
    selectors: {{item: "div.msg", links: "h3 a", title: "h3", body: "p.content", time: "span.date",
                author: "span.user"}}
"""


def complaint(n: int) -> tuple[str, str]:
    place, issue = PLACES[n % len(PLACES)], COMPLAINTS[n % len(COMPLAINTS)]
    title = f"投诉{place}派出所：{issue}（第{n}号）"
    text = f"网友{n}反映：我在{place}派出所办事时看到，{issue}。请上级公安机关严肃调查处理涉事民警，并公开调查结果。"
    return title, text


def message(n: int, prefix: str, date: str) -> str:
    title, text = complaint(n)
    return (
        f'<div class="msg"><h3><a href="/{prefix}/msg-{n}.html">{title}</a></h3><p class="content">{text}</p>'
        f'<span class="date">{date}</span><span class="user">网友{n}</span></div>'
    )


def old_date(n: int) -> str:
    """Two years before the crawl, a few hours apart, as the board writes them."""
    when = (NOW - timedelta(days=730, hours=3 * n)).astimezone(SHANGHAI)
    return when.strftime("%Y-%m-%d %H:%M") if n % 2 else f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}"


def old_page(request: Request) -> Response:
    assert request.match is not None
    page = int(request.match.group(1))
    first = (page - 1) * PER_PAGE
    rows = "".join(message(n, "old", old_date(n)) for n in range(first, min(first + PER_PAGE, OLD_POSTS)))
    more = f'<a class="next" href="/old/list-{page + 1}.html">下一页</a>' if first + PER_PAGE < OLD_POSTS else ""
    return html(f"<html><head><title>留言板 第{page}页</title></head><body>{rows}{more}</body></html>")


FRESH_DATES = ("08:15", "08:40", "07:55", "昨天 23:40", "06:30", "08:05", "07:20", "08:50")


def new_page(request: Request) -> Response:
    rows = "".join(message(1000 + n, "new", FRESH_DATES[n]) for n in range(FRESH_POSTS))
    return html(f"<html><head><title>百姓留言板</title></head><body>{rows}</body></html>")


def board_app(config_dir: Path, db_url: str, base: str) -> AppContext:
    """The alert tests' config (groups, channels, outbox) with the two boards as its sources."""
    write_config(config_dir, db_url)
    (config_dir / "sources.yaml").write_text(SOURCES.format(base=base), encoding="utf-8")
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    return AppContext.create(config_dir)


def crawl(config_dir: Path, source: str) -> dict[str, object]:
    """``yuqing crawl SOURCE --json`` in a subprocess, at ``NOW``; its summary."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_") or k.startswith("YUQING_TEST")}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("yuqing")), "--config", str(config_dir), "crawl", source, "--json"]
        + ["--now", NOW.isoformat(), "--set", "AUTOTHROTTLE_ENABLED=False"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no summary:\n{done.stdout}\n{done.stderr[-3000:]}"
    summary: dict[str, object] = json.loads(lines[-1])
    return summary


def alert_keys(app: AppContext) -> list[str]:
    with app.session() as session:
        return list(session.scalars(select(DeliveryRow.key).where(DeliveryRow.key.like("alert:%"))))


def test_a_boards_history_is_stored_but_sends_only_the_backlog_line(
    config_dir: Path, tmp_path: Path, mockserver: MockServer
) -> None:
    mockserver.route(re.compile(r"/old/list-(\d+)\.html"), old_page)
    mockserver.route("/new/list.html", new_page)
    app = board_app(config_dir, f"sqlite:///{tmp_path / 'board.db'}", mockserver.base)
    try:
        tiny_model(app)
        summary = crawl(config_dir, "board-old")
        assert (summary["status"], summary["new"]) == ("ok", OLD_POSTS)
        assert job.run_analysis(app, NOW).errors == 0
        with app.session() as session:
            assert session.scalar(select(func.count()).select_from(PostRow)) == OLD_POSTS
            undated = session.scalar(select(func.count()).where(PostRow.published_at.is_(None)))
            negative = session.scalar(
                select(func.count()).where(AnalysisRow.relevant.is_(True), AnalysisRow.negative.is_(True))
            )
        assert undated == 0
        assert negative and negative >= 5  # enough for a surge, were they news

        send_immediate_alerts(app, NOW + timedelta(minutes=1))
        assert alert_keys(app) == []  # no post alert, no surge alert

        group = select_groups(app, "press-office")[0]
        d = build_digest(app, group, SEND_AT + timedelta(days=1), NOW + timedelta(minutes=1), chart=False)
        assert d.backlog == OLD_POSTS and not d.items and not d.topics and not d.events
        assert [c.value for c in d.summary] == [0, 0, 0, 0]
        env = environment()
        for rendered in (digest_text(env, d), digest_html(env, d)):
            assert rendered.count("补采历史信息600条") == 1

        # the same complaints dated today, the way boards date them, are news
        summary = crawl(config_dir, "board-new")
        assert (summary["status"], summary["new"]) == ("ok", FRESH_POSTS)
        with app.session() as session:
            rows = session.execute(select(PostRow.url, PostRow.published_at).where(PostRow.source_id == "board-new"))
            local = {url.rsplit("/", 1)[1]: t.astimezone(SHANGHAI).strftime("%m-%d %H:%M") for url, t in rows}
        assert local["msg-1000.html"] == "11-27 08:15" and local["msg-1003.html"] == "11-26 23:40"
        assert job.run_analysis(app, NOW + timedelta(minutes=2)).errors == 0
        send_immediate_alerts(app, NOW + timedelta(minutes=3))
        keys = set(alert_keys(app))
        assert keys, "fresh complaints must alert (else this test proves nothing)"
        with app.session() as session:
            new_ids = set(session.scalars(select(PostRow.id).where(PostRow.source_id == "board-new")))
        post_keys = {k for k in keys if k.startswith("alert:post:")}
        assert {int(k.rsplit(":", 1)[1]) for k in post_keys} <= new_ids

        # by published time: the four posted since 08:00 are in the running period (非完整), the four
        # posted before it in the digest that ended at 08:00, though collected at 09:00
        d = build_digest(app, group, SEND_AT + timedelta(days=1), NOW + timedelta(minutes=4), chart=False)
        assert d.backlog == OLD_POSTS and d.summary[0].value == 4 and d.partial_until == "11-27 09:04"
        assert d.items and all(i.id in new_ids for i in d.items)
        ended = build_digest(app, group, SEND_AT, NOW + timedelta(minutes=4), chart=False)
        assert ended.summary[0].value == FRESH_POSTS - 4 and not ended.partial_until and ended.backlog == 0
        assert ended.items and all(i.id in new_ids for i in ended.items)
    finally:
        app.close()
