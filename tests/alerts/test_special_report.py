"""The special report on one event (舆情专报): built from a stored event reposted by five sources,
written as HTML and .docx through the CLI; the Word file opened with python-docx holds the same
sections and content as the HTML, masked and escaped."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import docx
from alerts_testlib import WHISTLEBLOWER_PHONE, Seed, seed_day
from click.testing import CliRunner

from alerts.special import SECTIONS, build_special
from storage.context import AppContext
from storage.models import PostRow
from yuqing.cli import cli

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)  # 10:00 Asia/Shanghai
SEND_AT = datetime(2026, 11, 27, 0, 0, tzinfo=timezone.utc)
NOTE = "经研判，该事件属于执法规范类舆情，传播范围已由本地论坛扩散至省级、中央级媒体。\n\n建议：公安机关尽快发布警情通报，回应执法记录仪视频诉求。"


def seed_event(app: AppContext) -> int:
    """The realistic day of the digest tests (an event first posted on a forum, then reposted by
    five sources), with engagement numbers and a hostile repost."""
    with app.session() as session:
        seed = Seed(session)
        ids = seed_day(seed, SEND_AT)
        hostile = seed.post(
            f"<script>alert(1)</script>转载：当事人电话{WHISTLEBLOWER_PHONE}",
            "转载内容。",
            source="province",
            at=SEND_AT - timedelta(hours=1),
            negative=False,
            risk=1,
            event_id=ids["event"],
            topics={"police": ["民警"]},
        )
        first = session.get(PostRow, ids["beating"])
        assert first is not None
        first.views, first.likes, first.comments, first.reposts = 120000, 800, 350, 90
        session.get(PostRow, hostile).views = 60  # type: ignore[union-attr]
        session.commit()
        return ids["event"]


def test_special_report_content(app: AppContext) -> None:
    event_id = seed_event(app)
    with app.session() as session:
        r = build_special(session, app.config, event_id, NOW, NOTE, number=7)
    assert r.number == "〔2026〕第7期" and r.date == "2026年11月27日"
    assert r.title == "关于“网传某派出所民警执法时殴打群众”的舆情专报"
    # 首发: the forum post published 8 hours and 5 minutes before 08:00, in the configured timezone
    assert (
        r.first is not None
        and r.first.source == "本地论坛"
        and r.first.level == "市级"
        and r.first.time == "11-26 23:55"
    )
    assert r.first.title.startswith("网友发帖称某派出所民警")
    assert [t.first for t in r.timeline] == [True] + [False] * 6
    assert [t.time for t in r.timeline] == sorted(t.time for t in r.timeline)
    assert "本地论坛（市级）首发" in r.overview and "共监测到相关信息7篇，涉及4个来源" in r.overview
    assert "负面信息6篇，占86%" in r.overview and "事件风险等级：重大" in r.overview
    assert "合计121300" in r.overview  # 120000 + 800 + 350 + 90 + 60
    assert {(s.label, s.count, s.negative) for s in r.by_level} == {("市级", 4, 4), ("省级", 2, 1), ("中央级", 1, 1)}
    assert [s.label for s in r.by_level] == ["中央级", "省级", "市级"]  # the offices' order
    assert {(s.label, s.count) for s in r.by_source} == {
        ("本地论坛", 2),
        ("深圳新闻网", 2),
        ("南方网", 2),
        ("人民网·时政", 1),
    }
    # an event of a few hours is charted per hour, every hour from the first to the last post
    assert r.trend_unit == "小时" and r.trend[0].label == "11-26 23时" and r.trend[-1].label == "11-27 06时"
    assert len(r.trend) == 8 and sum(s.count for s in r.trend) == 7 and sum(s.negative for s in r.trend) == 6
    assert r.key_posts[0].risk == "重大" and r.key_posts[0].title_plain.startswith("网友发帖称")
    assert WHISTLEBLOWER_PHONE not in " ".join(t.title for t in r.timeline)
    assert r.note == [NOTE.split("\n\n")[0], NOTE.split("\n\n")[1]]


def test_special_report_cli_html_and_docx_match(sqlite_app: AppContext, tmp_path: Path) -> None:
    event_id = seed_event(sqlite_app)
    note, html_path, docx_path = tmp_path / "yanpan.txt", tmp_path / "zb.html", tmp_path / "zb.docx"
    note.write_text(NOTE, encoding="utf-8")
    args = [
        "report",
        "event",
        str(event_id),
        "--note",
        str(note),
        "--preview",
        str(html_path),
        "--docx",
        str(docx_path),
    ]
    result = CliRunner().invoke(cli, ["--config", str(sqlite_app.config_dir), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"event {event_id}: 〔" in result.output and "7 posts from 4 source(s)" in result.output
    html = html_path.read_text(encoding="utf-8")
    document = docx.Document(io.BytesIO(docx_path.read_bytes()))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == list(SECTIONS)
    for section in SECTIONS:
        assert section in html
    body = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    for text in (body, html):
        assert "舆情专报" in text and "建议：公安机关尽快发布警情通报" in text and "本地论坛（市级）首发" in text
        assert WHISTLEBLOWER_PHONE not in text
    assert "【首发】【负面】网友发帖称某派出所民警" in cells
    assert "<script>alert(1)</script>转载：当事人电话138****5678" in cells
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert WHISTLEBLOWER_PHONE not in cells and WHISTLEBLOWER_PHONE not in html
    # the same rows in both: every source of the spread table
    for source in ("本地论坛", "深圳新闻网", "南方网", "人民网·时政"):
        assert source in cells and source in html


def test_special_report_unknown_event(sqlite_app: AppContext) -> None:
    result = CliRunner().invoke(cli, ["--config", str(sqlite_app.config_dir), "report", "event", "999"])
    assert result.exit_code == 1 and "no event 999" in result.output and "Hint:" in result.output
