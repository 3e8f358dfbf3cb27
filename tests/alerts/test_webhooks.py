"""Webhooks posted to a local HTTP server: documented payloads, DingTalk and Feishu signatures,
refusals and missing configuration become failed deliveries with a reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from datetime import timedelta
from pathlib import Path

import pytest
from alerts_testlib import (
    SEND_AT,
    WEBHOOK_ALERTS,
    WHISTLEBLOWER_PHONE,
    Seed,
    WebhookServer,
    make_app,
    seed_day,
    webhook_environ,
)

from alerts.channels import webhook
from alerts.service import send_digests, send_immediate_alerts
from config.alerts_model import Channel
from yuqing.base.errors import DeliveryError

NOW = SEND_AT + timedelta(minutes=1)  # 08:01 local: outside quiet hours


def test_signatures_match_the_documented_algorithms() -> None:
    ts = 1700000000000
    expected = base64.b64encode(hmac.new(b"sec", f"{ts}\nsec".encode(), hashlib.sha256).digest()).decode()
    assert urllib.parse.unquote_plus(webhook.dingtalk_sign("sec", ts)) == expected
    expected_fs = base64.b64encode(hmac.new(f"{ts // 1000}\nsec".encode(), b"", hashlib.sha256).digest()).decode()
    assert webhook.feishu_sign("sec", ts // 1000) == expected_fs


def test_immediate_alert_reaches_every_webhook(config_dir: Path, tmp_path: Path, webhook_server: WebhookServer) -> None:
    app = make_app(config_dir, f"sqlite:///{tmp_path / 'w.db'}", alerts=WEBHOOK_ALERTS)
    with app.session() as session:
        Seed(session).post(
            f"[点我](http://evil.example) 民警殴打群众 电话{WHISTLEBLOWER_PHONE}",
            "民警殴打群众。",
            source="forum",
            at=NOW - timedelta(minutes=30),
            negative=True,
            risk=3,
            topics={"police": ["民警"]},
        )
    results = send_immediate_alerts(app, NOW, environ=webhook_environ(webhook_server))
    duty = {r.channel: r.status for r in results if r.recipient in ("wecom", "ding", "feishu", "slack")}
    assert duty == {"wecom": "sent", "ding": "sent", "feishu": "sent", "slack": "sent"}
    by_path = {r.path: r for r in webhook_server.requests}

    wecom = by_path["/wecom"].json()
    assert wecom["msgtype"] == "markdown"
    content = wecom["markdown"]["content"]
    # '*' would be markdown emphasis: masked digits arrive as full-width ＊
    assert "138＊＊＊＊5678" in content and WHISTLEBLOWER_PHONE not in content
    assert "](http://evil" not in content and "［点我］（http://evil.example）" in content

    ding = by_path["/ding"]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(ding.target).query))
    assert query["access_token"] == "t" and query["timestamp"] == str(int(NOW.timestamp() * 1000))
    mac = hmac.new(b"SECdingsecret", f"{query['timestamp']}\nSECdingsecret".encode(), hashlib.sha256).digest()
    assert query["sign"] == base64.b64encode(mac).decode()
    assert ding.json()["msgtype"] == "markdown" and ding.json()["markdown"]["title"].startswith("【舆情快报·重大】")

    feishu = by_path["/feishu"].json()
    assert feishu["msg_type"] == "text" and feishu["timestamp"] == str(int(NOW.timestamp()))
    assert feishu["sign"] == webhook.feishu_sign("feishusecret", int(NOW.timestamp()))
    assert "138****5678" in feishu["content"]["text"]
    assert "138****5678" in by_path["/slack"].json()["text"]
    assert by_path["/slack"].headers["Content-Type"].startswith("application/json")

    webhook_server.requests.clear()
    assert send_immediate_alerts(app, NOW + timedelta(minutes=5), environ=webhook_environ(webhook_server)) == []
    assert webhook_server.requests == []
    app.close()


def test_digest_summary_to_webhooks(config_dir: Path, tmp_path: Path, webhook_server: WebhookServer) -> None:
    app = make_app(config_dir, f"sqlite:///{tmp_path / 'w.db'}", alerts=WEBHOOK_ALERTS)
    with app.session() as session:
        seed_day(Seed(session), SEND_AT)
    results = send_digests(app, NOW, group_id="duty", environ=webhook_environ(webhook_server))
    assert sorted(r.channel for r in results) == ["ding", "feishu", "slack", "wecom"]
    assert all(r.status == "sent" for r in results)
    wecom = next(r for r in webhook_server.requests if r.path.startswith("/wecom")).json()
    assert "舆情日报" in wecom["markdown"]["content"] and "负面 **8**" in wecom["markdown"]["content"]
    app.close()


def test_refusal_and_missing_env_fail_with_a_reason(
    config_dir: Path, tmp_path: Path, webhook_server: WebhookServer
) -> None:
    app = make_app(config_dir, f"sqlite:///{tmp_path / 'w.db'}", alerts=WEBHOOK_ALERTS)
    with app.session() as session:
        seed_day(Seed(session), SEND_AT)
    webhook_server.reply = {"errcode": 310000, "errmsg": "sign not match"}
    environ = webhook_environ(webhook_server)
    del environ["TEST_SLACK_URL"]
    results = {r.channel: r for r in send_digests(app, NOW, group_id="duty", environ=environ)}
    assert results["ding"].status == "failed" and "sign not match" in results["ding"].error
    assert results["slack"].status == "failed" and "TEST_SLACK_URL is not set" in results["slack"].error
    app.close()


def test_unreachable_webhook_is_a_delivery_error() -> None:
    channel = Channel(id="w", type="wecom", url_env="U")
    with pytest.raises(DeliveryError, match="cannot reach"):
        webhook.post(channel, {"msgtype": "text"}, {"U": "http://127.0.0.1:9/x"}, NOW, timeout=2)
