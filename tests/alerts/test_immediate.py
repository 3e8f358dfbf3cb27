"""Immediate alerts: once per event or post, routing, quiet hours with bypass, rate limit, surges,
admin alerts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from alerts_testlib import ALERTS_YAML, Seed, WebhookServer, make_app
from sqlalchemy import select

from alerts.service import Held, held_alerts, retry_pending, send_admin_alert, send_immediate_alerts
from alerts.windows import quiet_until, surge_slot
from storage.context import AppContext
from storage.models import DeliveryRow

# 2026-11-27 10:00 in Asia/Shanghai
DAY = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
NIGHT = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)  # 23:00 local
TZ = timezone(timedelta(hours=8))


def _rows(app: AppContext) -> list[DeliveryRow]:
    with app.session() as session:
        return list(session.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))


def _negative(seed: Seed, title: str, at: datetime, risk: int, **kw: object) -> int:
    return seed.post(title, "民警殴打群众。", at=at, negative=True, risk=risk, topics={"police": ["民警"]}, **kw)


def test_quiet_hours_window() -> None:
    assert quiet_until(NIGHT, "22:00-07:00", TZ) == datetime(2026, 11, 28, 7, 0, tzinfo=TZ)
    assert quiet_until(NIGHT + timedelta(hours=3), "22:00-07:00", TZ) == datetime(2026, 11, 28, 7, 0, tzinfo=TZ)
    assert quiet_until(DAY, "22:00-07:00", TZ) is None
    assert quiet_until(DAY, "09:00-12:00", TZ) == datetime(2026, 11, 27, 12, 0, tzinfo=TZ)
    assert quiet_until(DAY, None, TZ) is None
    assert surge_slot(DAY, 6, TZ) == "2026-11-27T06"


def test_an_event_alerts_once_and_routes_by_scope(app: AppContext) -> None:
    with app.session() as session:
        seed = Seed(session)
        event = seed.event("民警殴打群众", posts=3, sources=2, risk=3, at=DAY - timedelta(hours=2))
        for n, source in enumerate(["forum", "central", "city"]):
            _negative(
                seed, f"民警殴打群众（{n}）", DAY - timedelta(hours=1, minutes=n), 2, source=source, event_id=event
            )
        lone = _negative(seed, "法院执行局被指拖延", DAY - timedelta(hours=1), 2, source="province")
        _negative(seed, "低风险不报", DAY - timedelta(hours=1), 1, source="central")
        _negative(seed, "太旧不报", DAY - timedelta(hours=30), 3, source="central")
    results = send_immediate_alerts(app, DAY)
    keys = {(r.key, r.recipient) for r in results if not r.key.startswith("alert:surge:")}  # 5 in 6 h is a surge too
    assert keys == {
        (f"alert:event:{event}", "analyst@example.cn"),
        (f"alert:event:{event}", "chief@example.cn"),
        (f"alert:event:{event}", "sz@example.cn"),  # a 深圳市 source and the police topic
        (f"alert:post:{lone}", "analyst@example.cn"),
        (f"alert:post:{lone}", "chief@example.cn"),
    }
    assert all(r.status == "sent" for r in results)
    with app.session() as session:  # more reposts of the same event: still no second alert
        _negative(
            Seed(session), "民警殴打群众（再转）", DAY + timedelta(minutes=10), 3, source="province", event_id=event
        )
    assert send_immediate_alerts(app, DAY + timedelta(minutes=20)) == []
    eml = sorted(app.config.outbox_dir.glob("alert_event*.eml"))
    assert len(eml) == 3 and b"Subject: =?utf-8?" in eml[0].read_bytes()


def test_quiet_hours_postpone_except_the_bypass_level(sqlite_app: AppContext) -> None:
    with sqlite_app.session() as session:
        seed = Seed(session)
        medium = _negative(seed, "较大：夜间", NIGHT - timedelta(minutes=30), 2, source="central")
        major = _negative(seed, "重大：夜间", NIGHT - timedelta(minutes=30), 3, source="central")
    results = send_immediate_alerts(sqlite_app, NIGHT)
    assert {r.key for r in results} == {f"alert:post:{major}"}
    waiting = [r for r in _rows(sqlite_app) if r.key == f"alert:post:{medium}"]
    assert len(waiting) == 2 and all(r.status == "pending" for r in waiting)
    assert all(r.next_attempt_at == datetime(2026, 11, 28, 7, 0, tzinfo=TZ) for r in waiting)
    assert send_immediate_alerts(sqlite_app, NIGHT + timedelta(hours=2)) == []
    until = datetime(2026, 11, 28, 7, 0, tzinfo=TZ)  # one alert (to two recipients) waits for the morning
    assert held_alerts(sqlite_app, NIGHT + timedelta(hours=2)) == [Held(1, until, "quiet hours (22:00-07:00) to end")]
    morning = send_immediate_alerts(sqlite_app, datetime(2026, 11, 28, 7, 1, tzinfo=TZ))
    assert {r.key for r in morning} == {f"alert:post:{medium}"} and all(r.status == "sent" for r in morning)
    assert held_alerts(sqlite_app, datetime(2026, 11, 28, 7, 1, tzinfo=TZ)) == []


RATE_ALERTS = ALERTS_YAML.replace(
    "{id: wecom, type: wecom, url_env: TEST_WECOM_URL}",
    "{id: wecom, type: wecom, url_env: TEST_WECOM_URL, rate_limit_per_hour: 2}",
).replace("admins:", "  - {id: duty, name: 值班室, channels: [wecom]}\nadmins:")


def test_rate_limit_keeps_the_rest_pending(config_dir: Path, tmp_path: Path, webhook_server: WebhookServer) -> None:
    app = make_app(config_dir, f"sqlite:///{tmp_path / 'r.db'}", alerts=RATE_ALERTS)
    with app.session() as session:
        seed = Seed(session)
        ids = [_negative(seed, f"重大{n}", DAY - timedelta(minutes=30 + n), 3, source="central") for n in range(3)]
    env = {"TEST_WECOM_URL": f"{webhook_server.url}/wecom"}
    wecom = [r for r in send_immediate_alerts(app, DAY, environ=env) if r.channel == "wecom"]
    assert sorted(r.status for r in wecom) == ["pending", "sent", "sent"]
    assert len(webhook_server.requests) == 2
    held = next(r for r in wecom if r.status == "pending")
    assert "rate limit of 2/h" in held.error and "+08:00" in held.error  # its time in the configured timezone
    (waiting,) = [h for h in held_alerts(app, DAY) if h.reason.startswith("rate limit")]
    assert waiting.count == 1 and waiting.reason == "rate limit of 2/h reached on wecom"
    assert [r for r in retry_pending(app, DAY + timedelta(minutes=30), environ=env) if r.channel == "wecom"] == []
    later = retry_pending(app, DAY + timedelta(hours=1, minutes=1), environ=env)
    assert [(r.key, r.status) for r in later] == [(held.key, "sent")]
    assert len(webhook_server.requests) == 3 and len(ids) == 3
    app.close()


def test_surge_against_the_baseline(sqlite_app: AppContext) -> None:
    with sqlite_app.session() as session:
        seed = Seed(session)
        for n in range(6):  # 6 negative posts in the last 6 hours, risk low: only the surge alerts
            _negative(seed, f"民警{n}", DAY - timedelta(hours=n, minutes=5), 1, source="central")
        for n in range(7):  # one a day before: baseline 7 posts / 28 windows = 0.25
            _negative(seed, f"旧民警{n}", DAY - timedelta(days=n + 1, hours=1), 1, source="central")
    results = send_immediate_alerts(sqlite_app, DAY)
    assert {r.key for r in results} == {"alert:surge:police:2026-11-27T06"}
    eml = next(sqlite_app.config.outbox_dir.glob("alert_surge*.eml")).read_bytes()
    from email import message_from_bytes, policy

    msg = message_from_bytes(eml, policy=policy.default)
    assert msg["Subject"] == "【舆情快报·激增】公安：6小时内负面6篇"
    body = msg.get_body(("plain",)).get_content()
    assert "前7天同长度时段平均0.2篇" in body and "1. 民警5（人民网·时政" in body and "3. 民警3" in body
    assert send_immediate_alerts(sqlite_app, DAY + timedelta(minutes=30)) == []


def test_no_surge_when_the_baseline_is_as_high(sqlite_app: AppContext) -> None:
    with sqlite_app.session() as session:
        seed = Seed(session)
        for n in range(6):
            _negative(seed, f"民警{n}", DAY - timedelta(hours=n, minutes=5), 1, source="central")
        for n in range(7 * 4 * 3):  # 3 per 6-hour window over 7 days: 6 < 3.0 × 3
            _negative(seed, f"旧民警{n}", DAY - timedelta(hours=6 + 2 * n, minutes=1), 1, source="central")
    assert send_immediate_alerts(sqlite_app, DAY) == []


def test_admin_alert_once_per_key(sqlite_app: AppContext) -> None:
    key = "admin:source-failing:city:2026-11-27"
    first = send_admin_alert(
        sqlite_app, "信息源连续失败：深圳新闻网", "连续3次采集失败：HTTP 503\n联系人13812345678", key, DAY
    )
    assert [(r.recipient, r.status) for r in first] == [("admin@example.cn", "sent")]
    assert send_admin_alert(sqlite_app, "信息源连续失败：深圳新闻网", "again", key, DAY + timedelta(minutes=5)) == []
    [row] = _rows(sqlite_app)
    assert row.kind == "admin" and row.subject.startswith("【系统告警】")
    eml = next(sqlite_app.config.outbox_dir.glob("admin_*.eml")).read_bytes()
    from email import message_from_bytes, policy

    body = message_from_bytes(eml, policy=policy.default).get_body(("plain",)).get_content()
    assert "HTTP 503" in body and "138****5678" in body and "13812345678" not in body
