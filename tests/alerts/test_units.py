"""Pure pieces: windows, backoff, targets, highlighting, chart font choice, rendering safety, docx."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from alerts_testlib import SEND_AT, Seed, make_app

from alerts import digest as d
from alerts.chart import bar_chart
from alerts.deliveries import backoff
from alerts.docx_export import build_docx
from alerts.messages import Target, group_targets
from alerts.render import Sender, build_email, href, md_escape
from alerts.service import build_digest, select_groups, send_digests
from alerts.windows import latest_period_end
from config.alerts_model import Group
from config.settings_model import MailSettings
from storage.context import AppContext
from yuqing.base.errors import DigestError

TZ = timezone(timedelta(hours=8))


def test_weekly_send_time_is_the_last_configured_weekday() -> None:
    group = Group(id="w", name="周报组", frequency="weekly", weekday="mon", digest_time="09:30")
    now = datetime(2026, 11, 27, 12, 0, tzinfo=TZ)  # a Friday
    assert latest_period_end(group, now, TZ) == datetime(2026, 11, 23, 9, 30, tzinfo=TZ)
    monday_early = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
    assert latest_period_end(group, monday_early, TZ) == datetime(2026, 11, 23, 9, 30, tzinfo=TZ)
    assert latest_period_end(group, monday_early + timedelta(hours=1), TZ) == datetime(2026, 11, 30, 9, 30, tzinfo=TZ)


def test_backoff_doubles_and_caps() -> None:
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(30) == timedelta(hours=6)


def test_group_targets(sqlite_app: AppContext) -> None:
    config = sqlite_app.config
    assert group_targets(config, select_groups(sqlite_app, "press-office")[0]) == [
        Target("mail", "email", "analyst@example.cn"),
        Target("mail", "email", "chief@example.cn"),
    ]
    only_wecom = Group(id="g", name="g", emails=["a@b.cn"], channels=["wecom"])
    assert group_targets(config, only_wecom) == [Target("wecom", "wecom", "wecom")]
    no_channels = Group(id="g", name="g", emails=["a@b.cn"])
    assert group_targets(config, no_channels) == [Target("mail", "email", "a@b.cn")]


def test_term_spans_use_offsets_or_find_the_term() -> None:
    topics = [
        {
            "topic": "police",
            "terms": [
                {"term": "民警", "field": "title", "start": 2, "end": 4},
                {"term": "殴打", "field": "title", "start": 99, "end": 101},
                {"term": "法院", "field": "text", "start": 0, "end": 2},
            ],
        }
    ]
    assert d.term_spans(topics, "title", "某地民警殴打群众") == [(2, 6)]
    assert d.term_spans([{"bad": 1}, "junk", {"topic": "x", "terms": None}], "title", "民警") == []
    pieces = d.segments("某地民警殴打群众", [(2, 4)])
    assert [(p.text, p.hit) for p in pieces] == [("某地", False), ("民警", True), ("殴打群众", False)]


def test_clean_removes_controls_and_bidi() -> None:
    assert d.clean("民警\x00殴打\u202e群众\r\n  视频\u200b") == "民警殴打群众 视频"


def test_bar_chart_lengths_are_percent_of_the_largest_count() -> None:
    chart = bar_chart([("11-21", 40, 10), ("11-22", 0, 0), ("11-23", 200, 1)])
    assert chart.top == 200 and chart.title == "近7日相关与负面信息"
    assert [(b.relevant_pct, b.negative_pct) for b in chart.bars] == [(20, 5), (0, 0), (100, 1)]  # 0.5 % shows as 1
    assert [b.blocks(b.relevant, chart.top) for b in chart.bars] == [4, 0, 20]
    assert bar_chart([("11-21", 0, 0)]).bars[0].relevant_pct == 0 and bar_chart([]).top == 0


def test_links_and_markdown_are_made_inert() -> None:
    assert href("javascript:alert(1)") == "#" and href(" https://a.cn/x ") == "https://a.cn/x"
    assert md_escape("[x](http://e)\n**b**") == "［x］（http://e） ＊＊b＊＊"


def test_headers_cannot_be_injected() -> None:
    msg = build_email(
        Sender('舆情"监测"\r\nBcc: x@evil.cn', "yuqing@example.cn"),
        "a@example.cn",
        "民警殴打群众\r\nBcc: victim@evil.cn",
        "text",
        "<p>html</p>",
        "k",
        SEND_AT,
    )
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None and "evil" not in str(parsed["To"])
    assert parsed["Subject"] == "民警殴打群众 Bcc: victim@evil.cn"


def test_mail_from_must_be_an_address() -> None:
    with pytest.raises(ValueError, match="plain email address"):
        MailSettings(from_addr="舆情 监测")


def test_hostile_post_renders_safely(sqlite_app: AppContext) -> None:
    with sqlite_app.session() as session:
        Seed(session).post(
            "<img src=x onerror=alert(1)>民警" + "长" * 5000,
            "<b>民警</b>" * 1000,
            negative=True,
            risk=2,
            topics={"police": ["民警"]},
            url="javascript:alert(1)",
        )
    from alerts.render import digest_html, digest_text, environment

    dg = build_digest(sqlite_app, select_groups(sqlite_app, "press-office")[0], SEND_AT, SEND_AT, chart=False)
    html = digest_html(environment(), dg)
    assert "<img src=x" not in html and "&lt;img src=x" in html and "<b>民警" not in html
    assert 'href="javascript' not in html and len(dg.items[0].title_plain) == 201
    assert "民警" in digest_text(environment(), dg)


def test_send_empty_off_sends_nothing_on_a_zero_day(config_dir: Path, tmp_path: Path) -> None:
    from alerts_testlib import ALERTS_YAML

    app = make_app(
        config_dir,
        f"sqlite:///{tmp_path / 'z.db'}",
        alerts=ALERTS_YAML.replace("send_empty: true", "send_empty: false"),
    )
    with app.session() as session:
        Seed(session).post("深圳交警夜查", topics={"police": ["交警"]}, source="city")
    assert send_digests(app, SEND_AT + timedelta(minutes=1)) == []
    app.close()


def test_docx_has_the_digest(sqlite_app: AppContext) -> None:
    from alerts_testlib import WHISTLEBLOWER_PHONE, seed_day
    from docx import Document

    with sqlite_app.session() as session:
        seed_day(Seed(session), SEND_AT)
    dg = build_digest(sqlite_app, select_groups(sqlite_app, "press-office")[0], SEND_AT, SEND_AT)
    doc = Document(io.BytesIO(build_docx(dg)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "舆情日报" in text and "重点负面信息" in text and "网友发帖称某派出所民警执法时殴打群众" in text
    assert WHISTLEBLOWER_PHONE not in text and len(doc.inline_shapes) == 0  # the chart is a table, no picture
    assert doc.tables[0].rows[0].cells[0].text == "日期" and doc.tables[-1].rows[0].cells[0].text == "信息源"


def test_docx_attachment_in_the_email(config_dir: Path, tmp_path: Path) -> None:
    from alerts_testlib import ALERTS_YAML

    app = make_app(
        config_dir, f"sqlite:///{tmp_path / 'x.db'}", alerts=ALERTS_YAML.replace("docx: false", "docx: true")
    )
    send_digests(app, SEND_AT + timedelta(minutes=1), group_id="shenzhen")
    [eml] = app.config.outbox_dir.glob("*.eml")
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg.get_content_type() == "multipart/mixed"
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "舆情日报-shenzhen-2026-11-27.docx"
    assert attachment.get_content()[:2] == b"PK"
    assert msg.get_body(("html",)) is not None and msg.get_body(("plain",)) is not None
    app.close()


def test_one_group_failing_to_build_does_not_stop_the_others(
    sqlite_app: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alerts.service as service

    real = service.build_digest

    def flaky(app, group, *args, **kw):  # type: ignore[no-untyped-def]
        if group.id == "press-office":
            raise RuntimeError("boom")
        return real(app, group, *args, **kw)

    monkeypatch.setattr(service, "build_digest", flaky)
    with pytest.raises(DigestError) as raised:  # a failed part is a failed job, after the others are sent
        send_digests(sqlite_app, SEND_AT + timedelta(minutes=1))
    assert list(raised.value.failed) == ["press-office"] and "boom" in raised.value.failed["press-office"]
    assert [(r.key, r.status) for r in raised.value.results] == [("digest:2026-11-27:shenzhen", "sent")]
    monkeypatch.setattr(service, "build_digest", real)  # fixed: the failed group is sent next time
    results = send_digests(sqlite_app, SEND_AT + timedelta(minutes=2))
    assert sorted(r.recipient for r in results) == ["analyst@example.cn", "chief@example.cn"]
