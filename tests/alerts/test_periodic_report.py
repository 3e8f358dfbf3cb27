"""Weekly and monthly reports (周报, 月报) on two stored weeks and two months of posts: the period
is the last full week (Mon–Sun) or month before the date, counts are compared with the one before
(较上周, 较上月), backlog is left out, and each report is sent exactly once per group and period, a
repeat saying when and to whom it went."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import pytest
from alerts_testlib import WHISTLEBLOWER_PHONE, Seed
from click.testing import CliRunner, Result

from alerts.reports import build_report, last_full_period, send_reports
from storage.context import AppContext
from yuqing.base.clock import utcnow
from yuqing.base.errors import YuqingError
from yuqing.cli import cli

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, tzinfo=TZ)  # the week under test: Mon 11-23 00:00 to Mon 11-30 00:00
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)  # Tuesday 09:00 local


def local(day: datetime, hours: float) -> datetime:
    return (day + timedelta(hours=hours)).astimezone(timezone.utc)


def seed_weeks(app: AppContext, monday: datetime = MONDAY) -> None:
    """Week before: 10 relevant (2 negative). Week under test: 15 relevant (5 negative, one event
    reposted by three sources), 4 irrelevant, one backlog post. The boundaries are by local time:
    Sunday 23:50 belongs to the week, Monday 00:10 after it to the next."""
    with app.session() as session:
        seed = Seed(session)
        before = monday - timedelta(days=7)
        for n in range(10):
            seed.post(
                f"上周政法动态{n}",
                "民警",
                source="central",
                at=local(before, 10 + 12 * n),
                topics={"police": ["民警"]},
                negative=n < 2,
                risk=1 if n < 2 else 0,
            )
        ev = seed.event("某法院执行款被挪用", posts=3, sources=3, risk=2, at=local(monday, 30))
        for n, src in enumerate(["province", "city", "forum"]):
            seed.post(
                f"某法院执行款被挪用 当事人电话{WHISTLEBLOWER_PHONE}（{n}）",
                "法院",
                source=src,
                at=local(monday, 30 + n),
                topics={"courts": ["法院"]},
                negative=True,
                risk=2,
                event_id=ev,
            )
        seed.post(
            "<b>看守所</b>在押人员死亡",
            "看守所",
            source="province",
            at=local(monday, 50),
            topics={"justice": ["看守所"]},
            negative=True,
            risk=1,
        )
        for n in range(10):
            seed.post(
                f"本周政法动态{n}", "民警", source="city", at=local(monday, 5 + 15 * n), topics={"police": ["民警"]}
            )
        seed.post(
            "周日深夜交警查酒驾",
            "民警",
            source="city",
            at=local(monday, 7 * 24 - 0.1),
            published=local(monday, 7 * 24 - 1 / 6),
            topics={"police": ["民警"]},
            negative=True,
            risk=1,
        )
        seed.post(
            "下周一凌晨的民警动态", "民警", source="city", at=local(monday, 7 * 24 + 0.2), topics={"police": ["民警"]}
        )
        for n in range(4):
            seed.post(f"本地生活资讯{n}", "天气晴", source="city", at=local(monday, 20 + n))
        seed.post(
            "三年前的旧帖：民警",
            "民警",
            source="forum",
            at=local(monday, 40),
            published=local(monday, -3 * 365 * 24),
            topics={"police": ["民警"]},
            negative=True,
            risk=3,
        )
        seed.run("city", at=local(monday, 30))
        session.commit()


def test_last_full_period() -> None:
    week = last_full_period("week", date(2026, 12, 1), TZ)  # a Tuesday
    assert (week.start, week.end, week.previous) == (MONDAY, MONDAY + timedelta(days=7), MONDAY - timedelta(days=7))
    assert week.key == "2026-W48" and week.label == "2026年第48周（11月23日至11月29日）"
    assert last_full_period("week", date(2026, 11, 30), TZ).start == MONDAY  # on a Monday: the week just ended
    month = last_full_period("month", date(2026, 3, 15), TZ)
    assert (month.start.date(), month.end.date(), month.previous.date()) == (
        date(2026, 2, 1),
        date(2026, 3, 1),
        date(2026, 1, 1),
    )
    assert month.key == "2026-02" and month.label == "2026年2月"
    january = last_full_period("month", date(2026, 2, 1), TZ)
    assert (january.start.date(), january.previous.date()) == (date(2026, 1, 1), date(2025, 12, 1))


def test_weekly_report_changes(app: AppContext) -> None:
    seed_weeks(app)
    group = app.config.alerts.groups[0]
    with app.session() as session:
        r = build_report(session, app.config, group, last_full_period("week", date(2026, 12, 1), TZ), NOW)
    counts = {c.label: (c.value, c.previous) for c in r.summary}
    # 3 event posts + 看守所 + 10 动态 + Sunday 23:50 = 15 relevant; + 4 irrelevant = 19; backlog left out
    assert counts == {"采集": (19, 10), "相关": (15, 10), "负面": (5, 2), "高风险": (3, 0)}
    assert r.compare == "较上周" and r.title == "舆情周报"
    assert r.change_lines()[1] == "相关15篇，较上周+5（+50%）" and r.change_lines()[2] == "负面5篇，较上周+3（+150%）"
    assert [s.label for s in r.series] == [f"11-{d}" for d in range(23, 30)]
    assert sum(s.count for s in r.series) == 15 and r.series[-1].count == 1  # Sunday holds the 23:50 post
    assert (
        r.digest.events
        and r.digest.events[0].title.startswith("某法院执行款被挪用")
        and r.digest.events[0].post_count == 3
    )
    assert {t.id: (t.relevant, t.negative) for t in r.digest.topics} == {
        "police": (11, 1),
        "courts": (3, 3),
        "justice": (1, 1),
    }
    assert all(WHISTLEBLOWER_PHONE not in i.title_plain for i in r.digest.items)
    assert "三年前的旧帖" not in " ".join(i.title_plain for i in r.digest.items)


def test_monthly_report_against_the_previous_month(sqlite_app: AppContext) -> None:
    with sqlite_app.session() as session:
        seed = Seed(session)
        for n in range(4):  # October: 4 relevant, 1 negative
            seed.post(
                f"十月动态{n}",
                "民警",
                at=datetime(2026, 10, 3 + 7 * n, 4, tzinfo=timezone.utc),
                topics={"police": ["民警"]},
                negative=n == 0,
                risk=1 if n == 0 else 0,
            )
        for n in range(6):  # November: 6 relevant, 3 negative; one on 11-30 23:30 local
            seed.post(
                f"十一月动态{n}",
                "民警",
                at=datetime(2026, 11, 2 + 5 * n, 4, tzinfo=timezone.utc),
                topics={"police": ["民警"]},
                negative=n < 3,
                risk=1 if n < 3 else 0,
            )
        seed.post(
            "月末深夜", "民警", at=datetime(2026, 11, 30, 15, 35, tzinfo=timezone.utc), topics={"police": ["民警"]}
        )
        session.commit()
    group = sqlite_app.config.alerts.groups[0]
    with sqlite_app.session() as session:
        r = build_report(session, sqlite_app.config, group, last_full_period("month", date(2026, 12, 4), TZ), NOW)
    counts = {c.label: (c.value, c.previous) for c in r.summary}
    assert counts["相关"] == (7, 4) and counts["负面"] == (3, 1)
    assert r.title == "舆情月报" and r.change_lines()[1] == "相关7篇，较上月+3（+75%）"
    assert len(r.series) == 30 and r.series[-1].count == 1


def test_weekly_report_sent_once_then_repeat_says_when(app: AppContext) -> None:
    seed_weeks(app)
    sent = send_reports(app, "week", NOW, group_id="press-office", day=date(2026, 12, 1))
    assert [(r.recipient, r.status) for r in sent.results] == [
        ("analyst@example.cn", "sent"),
        ("chief@example.cn", "sent"),
    ]
    assert {r.key for r in sent.results} == {"report:week:2026-W48:press-office"} and not sent.prior
    eml = sorted(app.config.outbox_dir.glob("*.eml"))
    assert len(eml) == 2
    message = email.message_from_bytes(eml[0].read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "【舆情周报】政法委宣传处 2026年第48周（11月23日至11月29日）：负面5条"
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for body in (html, text):
        assert "较上周+3" in body and WHISTLEBLOWER_PHONE not in body and "某法院执行款被挪用" in body
    assert "&lt;/b&gt;在押人员死亡" in html and "</b>在押人员死亡" not in html  # a crawled tag is text
    attachment = next(message.iter_attachments())
    document = docx.Document(io.BytesIO(attachment.get_content()))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "总体情况",
        "每日走势",
        "情感分布",
        "媒体分布",
        "地域分布",
        "热词",
        "热点事件传播与热度",
        "重点负面信息",
        "热点事件",
        "专题动态",
        "信息源运行情况",
    ]
    for heading in headings:
        assert heading in html
    # a second run, by the daemon or by hand, sends nothing and says when and to whom it went
    again = send_reports(app, "week", NOW + timedelta(hours=3), day=date(2026, 12, 2))
    assert [(r.key, r.recipient) for r in again.results] == [("report:week:2026-W48:shenzhen", "sz@example.cn")]
    assert [(row.recipient, row.status) for row in again.prior["press-office"]] == [
        ("analyst@example.cn", "sent"),
        ("chief@example.cn", "sent"),
    ]
    assert len(list(app.config.outbox_dir.glob("*.eml"))) == 3  # press-office twice, shenzhen once


def test_report_cli_preview_send_repeat(sqlite_app: AppContext, tmp_path: Path) -> None:
    today = utcnow().astimezone(TZ).date()
    seed_weeks(sqlite_app, last_full_period("week", today, TZ).start)

    def run(*args: str) -> Result:
        return CliRunner().invoke(
            cli, ["--config", str(sqlite_app.config_dir), "report", *args], catch_exceptions=False
        )

    result = run(
        "week", "--group", "press-office", "--preview", str(tmp_path / "w.html"), "--docx", str(tmp_path / "w.docx")
    )
    assert result.exit_code == 0, result.output
    assert "press-office: 舆情周报" in result.output and "相关15篇，较上周+5（+50%）" in result.output
    assert (
        "每日走势" in (tmp_path / "w.html").read_text(encoding="utf-8")
        and (tmp_path / "w.docx").read_bytes()[:2] == b"PK"
    )
    assert not list(sqlite_app.config.outbox_dir.glob("*.eml"))
    result = run("week", "--group", "press-office", "--send")
    assert result.exit_code == 0 and result.output.count("sent ") == 2, result.output
    result = run("week", "--group", "press-office", "--send")
    assert (
        result.exit_code == 0 and result.output.count("already sent at ") == 2 and "analyst@example.cn" in result.output
    )
    assert len(list(sqlite_app.config.outbox_dir.glob("*.eml"))) == 2
    future = (today + timedelta(days=8)).isoformat()
    result = CliRunner().invoke(
        cli, ["--config", str(sqlite_app.config_dir), "report", "week", "--date", future, "--send"]
    )
    assert result.exit_code == 1 and "has not ended yet" in result.output
    for args in (["report"], ["report", "week"], ["report", "month"], ["report", "event"]):
        help_out = CliRunner().invoke(cli, ["--config", str(sqlite_app.config_dir), *args, "--help"]).output
        assert "Example:" in help_out, args


def test_unended_period_refused(sqlite_app: AppContext) -> None:
    with pytest.raises(YuqingError, match="has not ended yet"):
        send_reports(sqlite_app, "month", NOW, day=date(2027, 1, 5))


def test_daemon_report_stage_sends_once(sqlite_app: AppContext) -> None:
    from yuqing.daemon.stages import STAGE_JOBS

    seed_weeks(sqlite_app)
    monday_nine = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)  # the job's time: Monday 09:00 local
    outcome, counts = STAGE_JOBS["report"](sqlite_app, monday_nine, "week", "press-office")
    assert (outcome, counts) == ("ok", {"reports.sent": 2})
    outcome, counts = STAGE_JOBS["report"](sqlite_app, monday_nine, "week", "press-office")
    assert (outcome, counts) == ("ok", {"already_sent": 2})
    assert STAGE_JOBS["report"](sqlite_app, monday_nine, "week", "gone")[0] == "skipped"
