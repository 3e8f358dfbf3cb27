"""Helpers of the console tests: a config with two units (the press office sees everything, 深圳's
unit only its region's police posts), real posts analysed by the real analysis job (with a sentiment
model trained in a second), accounts of every role, and a logged-in Starlette test client."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from starlette.testclient import TestClient

from nlp.job import run_analysis
from storage.context import AppContext
from storage.repo import insert_post
from storage.users import add_user
from tests.alerts.alerts_testlib import ALERTS_YAML, SOURCES_YAML, make_app, tiny_model
from web.app import create_app
from yuqing.base.post import Post

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
PASSWORD = "correct horse battery"
HOSTILE_TITLE = '<script>alert(1)</script><img src=x onerror="alert(2)">民警殴打群众'

POSTS = [
    # (key, source, title, text, hours before NOW)
    (
        "beating",
        "forum",
        "网友称某派出所民警执法时殴打群众",
        "网友发帖称其家属在派出所办事时被两名民警按倒在地殴打，要求公开执法记录仪视频，公安机关回应正在调查。",
        3,
    ),
    (
        "court",
        "province",
        "当事人反映某区法院执行局拖延执行",
        "当事人称胜诉两年仍未拿到执行款，多次到法院执行局反映无果，质疑法院消极执行。",
        5,
    ),
    (
        "praise",
        "central",
        "公安机关开展反诈宣传进社区活动",
        "市公安局民警走进社区开展反诈宣传，发放宣传资料，群众纷纷点赞。",
        6,
    ),
    (
        "hostile",
        "city",
        HOSTILE_TITLE,
        '<a href="javascript:alert(3)">点我</a> 网传辅警推搡老人，民警殴打群众视频流传，派出所称正在核实。',
        2,
    ),
    ("weather", "central", "明日全市晴转多云", "气象台预报明天晴转多云，气温回升。", 1),
]


@dataclass
class Site:
    """A console on a seeded database: its app context, the Starlette app, post ids by key."""

    app: AppContext
    web: object
    ids: dict[str, int] = field(default_factory=dict)

    def client(self, name: str | None = None) -> TestClient:
        client = TestClient(self.web, base_url="http://127.0.0.1")  # type: ignore[arg-type]
        if name:
            login(client, name)
        return client


def login(client: TestClient, name: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    answer = client.post(
        "/login", data={"name": name, "password": password, "csrf": token.group(1), "next": "/"}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def csrf_of(html: str) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', html) or re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def make_site(config_dir: Path, db_url: str) -> Site:
    app = make_app(config_dir, db_url, sources=SOURCES_YAML, alerts=ALERTS_YAML)
    tiny_model(app)
    ids: dict[str, int] = {}
    with app.session() as session:
        for key, source, title, text, hours in POSTS:
            at = NOW - timedelta(hours=hours)
            post = Post(source, f"https://{source}.example.cn/{key}.html", title, text, published_at=at, fetched_at=at)
            pid = insert_post(session, post)
            assert pid is not None
            ids[key] = pid
        for name, role, unit in [
            ("admin", "admin", None),
            ("analyst", "analyst", None),
            ("viewer", "viewer", None),
            ("sz", "analyst", "shenzhen"),
        ]:
            add_user(session, name, role=role, unit=unit, password=PASSWORD, by="test", now=NOW)
    run_analysis(app, NOW)
    return Site(app, create_app(app, clock=lambda: NOW), ids)
