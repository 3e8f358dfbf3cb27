"""What a crawled post can make an output do: nothing. A post carrying Slack and Feishu mentions,
a disguised link, a script tag, control and bidi characters and a URL with \\x01 goes through every
channel and format (webhook receiver, outbox .eml parsed by ``email``, .docx opened by python-docx)
unharmed but inert; one bad attachment never costs the digest; webhook secrets never reach a
message, the deliveries table or ``status --json``."""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from alerts_testlib import SEND_AT, Seed, WebhookServer, make_app
from click.testing import CliRunner
from docx import Document
from sqlalchemy import update

import alerts.service
from alerts.service import send_digests, send_immediate_alerts
from storage.context import AppContext
from storage.models import CrawlRunRow, DeliveryRow, PostRow
from yuqing.cli import cli

NOW = SEND_AT + timedelta(minutes=1)  # 08:01 local: the digest is due, outside quiet hours
HOSTILE_TITLE = (
    '<!channel> <https://evil.example|官方通知> <at user_id="all">所有人</at> <script>alert(1)</script> '
    "民警殴打群众\x01\x07\x1b[31m\u202e\u2066\x85"
)
HOSTILE_TEXT = "民警殴打群众\x0b，<!here> [点我](https://evil.example) <b>加粗</b>\x00\x1f 视频流传。"
HOSTILE_URL = "https://news.example.cn/forum/\x01abc\u202e.html?id=7"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

ALERTS = """
digest: {title: 舆情日报, send_empty: true, max_items: 20, excerpt_chars: 80, docx: true, mask_pii: true}
risk: {names: [一般, 较大, 重大]}
immediate: {enabled: true, min_level: 较大, quiet_hours: "22:00-07:00", bypass_level: 重大}
channels:
  - {id: mail, type: email}
  - {id: wecom, type: wecom, url_env: TEST_WECOM_URL}
  - {id: ding, type: dingtalk, url_env: TEST_DING_URL, secret_env: TEST_DING_SECRET}
  - {id: feishu, type: feishu, url_env: TEST_FEISHU_URL}
  - {id: slack, type: slack, url_env: TEST_SLACK_URL}
groups:
  - {id: duty, name: 值班室, emails: [duty@example.cn], channels: [mail, wecom, ding, feishu, slack], digest_time: "08:00"}
admins: [admin@example.cn]
"""
DING_TOKEN = "0123456789abcdef0123456789abcdef"


def environ(server: WebhookServer) -> dict[str, str]:
    return {
        "TEST_WECOM_URL": f"{server.url}/wecom?key=wecomkey",
        "TEST_DING_URL": f"{server.url}/ding?access_token={DING_TOKEN}",
        "TEST_DING_SECRET": "SECdingsecret",
        "TEST_FEISHU_URL": f"{server.url}/feishu",
        "TEST_SLACK_URL": f"{server.url}/slack",
    }


def hostile_app(config_dir: Path, tmp_path: Path) -> AppContext:
    app = make_app(config_dir, f"sqlite:///{tmp_path / 'h.db'}", alerts=ALERTS)
    with app.session() as session:
        seed = Seed(session)
        seed.post(
            HOSTILE_TITLE,
            HOSTILE_TEXT,
            source="forum",
            at=NOW - timedelta(minutes=30),
            negative=True,
            risk=3,
            topics={"police": ["民警"]},
            url=HOSTILE_URL,
        )
        seed.run("forum", error="GET https://news.example.cn/\x01bad failed\x1b[0m")
        session.commit()
    return app


def outbox_mails(app: AppContext) -> list[EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for p in sorted(app.config.outbox_dir.glob("*.eml"))
    ]


def body(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


def docx_text(msg: EmailMessage) -> str | None:
    for part in msg.iter_attachments():
        if str(part.get_filename() or "").endswith(".docx"):
            doc = Document(io.BytesIO(part.get_content()))
            return "\n".join(p.text for p in doc.paragraphs)
    return None


def requests_by_path(server: WebhookServer) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in server.requests:
        out.setdefault(r.path, []).append(r.json())
    return out


def test_hostile_post_is_inert_on_every_channel_and_format(
    config_dir: Path, tmp_path: Path, webhook_server: WebhookServer
) -> None:
    """Item 7 (and the format half of item 8): each channel escapes for its own syntax."""
    app = hostile_app(config_dir, tmp_path)
    with app.session() as session:  # stored once without control or bidi characters
        row = session.query(PostRow).one()
        assert not CONTROL.search(row.title + row.text + row.url)
        assert row.url == "https://news.example.cn/forum/abc.html?id=7" and "\n" not in row.title
    env = environ(webhook_server)
    alerts_sent = send_immediate_alerts(app, NOW, environ=env)
    digests_sent = send_digests(app, NOW, environ=env)
    assert {r.status for r in alerts_sent + digests_sent} == {"sent"}, alerts_sent + digests_sent
    assert len(alerts_sent) == len(digests_sent) == 5

    sent = requests_by_path(webhook_server)
    assert sorted(sent) == ["/ding", "/feishu", "/slack", "/wecom"] and all(len(v) == 2 for v in sent.values())
    for path, bodies in sent.items():
        for payload in bodies:
            raw = json.dumps(payload, ensure_ascii=False)
            assert not CONTROL.search(json.dumps(payload, ensure_ascii=False).replace("\\n", "")), path
            assert "民警殴打群众" in raw, path
            for live in ("<!channel>", "<!here>", "<https://evil.example|", '<at user_id="all">', "<script", "<b>"):
                assert live not in raw, (path, live)
            if path != "/slack":  # Slack does not know [label](url): shown as typed, its links are <url|label>
                assert "](https://evil.example)" not in raw, path
    for payload in sent["/slack"]:  # Slack: & < > as &amp; &lt; &gt;, still readable
        assert "&lt;!channel&gt;" in payload["text"] and "&lt;https://evil.example|官方通知&gt;" in payload["text"]
    for payload in sent["/feishu"]:  # Feishu: no tag, no [label](url) link
        text = payload["content"]["text"]
        assert '＜at user_id="all"＞' in text and "＜script＞" in text
    for payload in sent["/wecom"]:  # WeCom/DingTalk markdown: full-width, as before
        assert "＜!channel＞" in payload["markdown"]["content"]
    for payload in sent["/ding"]:
        assert '＜at user＿id="all"＞' in payload["markdown"]["text"] and not CONTROL.search(
            payload["markdown"]["title"]
        )

    mails = outbox_mails(app)
    assert len(mails) == 2  # the alert and the digest to duty@example.cn
    for msg in mails:
        subject = str(msg["Subject"])
        assert "民警殴打群众" in subject or "值班室" in subject
        assert not CONTROL.search(subject) and "\n" not in subject
        html, text = body(msg, "html"), body(msg, "plain")
        assert "<script" not in html and "&lt;script&gt;" in html and '<a href="https://evil.example' not in html
        assert not CONTROL.search(html.replace("\r\n", "")) and not CONTROL.search(
            text.replace("\r\n", "").replace("\n", "")
        )
        assert "https://news.example.cn/forum/abc.html?id=7" in text
    digest = next(m for m in mails if "值班室" in str(m["Subject"]))
    word = docx_text(digest)
    assert word is not None and "<!channel>" in word and "民警殴打群众" in word  # Word shows text as text
    assert "https://news.example.cn/forum/abc.html?id=7" in word and not CONTROL.search(word.replace("\n", ""))
    app.close()


def test_legacy_row_with_x01_url_still_gets_its_word_attachment(config_dir: Path, tmp_path: Path) -> None:
    """Item 8: a row stored before control characters were stripped (\\x01 in its URL and title) and
    a crawl error holding one: the .docx is still built and attached; nothing is dropped."""
    app = hostile_app(config_dir, tmp_path)
    with app.session() as session:
        session.execute(
            update(PostRow).values(url="https://news.example.cn/\x01legacy.html", title="旧数据\x01\x0c民警殴打群众")
        )
        session.execute(update(CrawlRunRow).values(error_summary="timeout at https://x.example/\x01\x02"))
        session.commit()
    results = send_digests(app, NOW, environ={})
    mail = [r for r in results if r.channel == "mail"]
    assert [r.status for r in mail] == ["sent"] and not mail[0].extras
    [msg] = outbox_mails(app)
    word = docx_text(msg)
    assert word is not None and "旧数据民警殴打群众" in word and "https://news.example.cn/legacy.html" in word
    assert "旧数据民警殴打群众" in body(msg, "plain")
    app.close()


def test_docx_failure_sends_the_mail_without_it_and_says_so(
    config_dir: Path, tmp_path: Path, webhook_server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 8: the Word file cannot be built → every channel still gets the digest; the mail goes
    without the attachment and the problem shows in `deliveries list` and `status --json`."""
    app = hostile_app(config_dir, tmp_path)

    def broken(_d: object) -> bytes:
        raise ValueError("All strings must be XML compatible")

    monkeypatch.setattr(alerts.service, "build_docx", broken)
    results = send_digests(app, NOW, environ=environ(webhook_server))
    assert {r.channel: r.status for r in results} == {
        "mail": "sent",
        "wecom": "sent",
        "ding": "sent",
        "feishu": "sent",
        "slack": "sent",
    }
    [msg] = outbox_mails(app)
    assert docx_text(msg) is None and "民警殴打群众" in body(msg, "plain")
    mail = next(r for r in results if r.channel == "mail")
    assert "docx" in mail.extras["warning"]

    out = CliRunner().invoke(cli, ["--config", str(app.config_dir), "deliveries", "list", "--json"]).output
    rows = {json.loads(line)["channel"]: json.loads(line) for line in out.splitlines()}
    assert rows["mail"]["status"] == "sent" and "without the .docx attachment" in rows["mail"]["last_error"]
    assert "XML compatible" in rows["mail"]["last_error"] and rows["slack"]["last_error"] == ""
    status = CliRunner().invoke(cli, ["--config", str(app.config_dir), "status", "--json"])
    assert status.exit_code == 0, status.output
    noted = json.loads(status.output)["deliveries"]["sent_with_problems"]
    assert [(n["channel"], "docx" in n["problem"]) for n in noted] == [("mail", True)]
    human = CliRunner().invoke(cli, ["--config", str(app.config_dir), "status"]).output
    assert "sent with a problem" in human and "docx" in human
    app.close()


def test_webhook_url_with_a_trailing_space_or_a_space_inside_never_leaks(
    config_dir: Path, tmp_path: Path, webhook_server: WebhookServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Item 9: a trailing space is harmless; a URL that cannot be posted to is a failed delivery whose
    error — stored, logged, listed, in `status --json` — holds neither token, timestamp nor signature."""
    app = hostile_app(config_dir, tmp_path)
    env = environ(webhook_server)
    env["TEST_DING_URL"] += " "  # pasted with a trailing space: still delivered
    env["TEST_SLACK_URL"] = f"{webhook_server.url}/services/T0123ABCD/B0123ABCD/{DING_TOKEN} x"
    env["TEST_WECOM_URL"] = f"{webhook_server.url}/wecom?key=wecom-secret-key&x= 1"
    with caplog.at_level("DEBUG"):
        results = {r.channel: r for r in send_digests(app, NOW, environ=env)}
    assert results["ding"].status == "sent" and results["feishu"].status == "sent"
    assert results["slack"].status == "failed" and results["wecom"].status == "failed"
    assert "TEST_SLACK_URL" in results["slack"].error

    # The URL changes under a running daemon: the signed URL never reaches an error either.
    env["TEST_DING_URL"] = "http://127.0.0.1:1/robot/send?access_token=" + DING_TOKEN
    with app.session() as session:
        session.execute(
            update(DeliveryRow).where(DeliveryRow.channel == "ding").values(status="failed", next_attempt_at=None)
        )
        session.commit()
    from alerts.dispatch import deliver_due

    with caplog.at_level("DEBUG"):
        [ding] = deliver_due(app.config, app.sessions, NOW, env)
    assert ding.status == "failed" and "cannot reach" in ding.error

    listed = CliRunner().invoke(cli, ["--config", str(app.config_dir), "deliveries", "list", "--json"]).output
    status = CliRunner().invoke(cli, ["--config", str(app.config_dir), "status", "--json"]).output
    with app.session() as session:
        stored = " ".join(r.last_error for r in session.query(DeliveryRow))
    for where in (listed, status, stored, caplog.text, ding.error, results["slack"].error, results["wecom"].error):
        for secret in (DING_TOKEN, "SECdingsecret", "wecom-secret-key", "sign=", "timestamp=", "T0123ABCD"):
            assert secret not in where, (secret, where[:500])
    app.close()
