"""The 7-day chart reads Chinese on any machine: HTML bars whose labels and numbers are text (the
mail client's own fonts), no image in the mail, a native table in the .docx, never English labels."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from alerts_testlib import ALERTS_YAML, SEND_AT, Seed, make_app, seed_day
from lxml import html as lxml_html

from alerts.chart import bar_chart
from alerts.digest import Digest
from alerts.docx_export import build_docx
from alerts.render import digest_html, environment
from alerts.service import build_digest, select_groups, send_digests
from storage.context import AppContext

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _week(seed: Seed) -> None:
    """The realistic day plus six days of history, so every bar differs."""
    seed_day(seed, SEND_AT)
    for n in range(1, 7):
        for k in range(n):
            seed.post(
                f"历史{n}-{k}：派出所民警",
                source="central",
                at=SEND_AT - timedelta(days=n, hours=k + 1),
                negative=k % 2 == 0,
                risk=1,
                topics={"police": ["民警"]},
            )


def _digest(app: AppContext) -> Digest:
    with app.session() as session:
        _week(Seed(session))
    return build_digest(app, select_groups(app, "press-office")[0], SEND_AT, SEND_AT, chart=True)


def _chart_rows(page: str) -> list[list[str]]:
    """The text of each row of the chart table, as a reader's mail client shows it."""
    tree = lxml_html.fromstring(page)
    [table] = tree.xpath('//table[contains(@class, "chart")]')
    return [[" ".join(td.text_content().split()) for td in tr.xpath("./td")] for tr in table.xpath("./tr | ./tbody/tr")]


def test_the_html_chart_is_chinese_text_with_the_numbers(sqlite_app: AppContext) -> None:
    d = _digest(sqlite_app)
    assert d.chart is not None and d.series[-1][1:] == (11, 8)
    page = digest_html(environment(), d)
    assert "<img" not in page and "cid:" not in page and "data:image" not in page
    rows = _chart_rows(page)
    assert rows == [[label, "", f"{rel} / {neg}"] for label, rel, neg in d.series]
    section = lxml_html.fromstring(page).xpath('//h2[text()="近7日趋势"]/..')[0].text_content()
    assert "近7日相关与负面信息" in section and "相关" in section and "负面" in section
    assert not LATIN_WORD.findall(section), "English words in the Chinese chart"
    # bar lengths are table widths in percent of the largest count (the day with 11)
    widths = re.findall(r'<td width="(\d+)%" height="8" bgcolor="#5b8def"', page)
    assert widths[-1] == "100" and len(widths) == sum(1 for _, rel, _ in d.series if rel)


def test_chart_labels_are_escaped() -> None:
    env = environment()
    chart = bar_chart([("<img src=x onerror=alert(1)>", 2, 1)])
    page = env.from_string('{% import "_chart.html.j2" as c %}{{ c.bars(chart) }}').render(chart=chart)
    assert "<img" not in page and "&lt;img src=x" in page


def test_the_email_has_no_image_and_the_chart_in_its_html(config_dir: Path, tmp_path: Path) -> None:
    app = make_app(
        config_dir, f"sqlite:///{tmp_path / 'c.db'}", alerts=ALERTS_YAML.replace("docx: false", "docx: true")
    )
    try:
        with app.session() as session:
            _week(Seed(session))
        send_digests(app, SEND_AT + timedelta(minutes=1), group_id="press-office")
        emls = sorted(app.config.outbox_dir.glob("*.eml"))
        assert len(emls) == 2
        msg = message_from_bytes(emls[0].read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        assert msg.get_content_type() == "multipart/mixed"
        types = [part.get_content_type() for part in msg.walk()]
        assert not [t for t in types if t.startswith("image/")] and "multipart/related" not in types
        assert str(msg["Subject"]) == "【舆情日报】政法委宣传处 2026-11-27：负面8条"
        html_part, text_part = msg.get_body(("html",)), msg.get_body(("plain",))
        assert html_part is not None and text_part is not None
        rows = _chart_rows(html_part.get_content())
        assert rows[-1] == ["11-27", "", "11 / 8"] and rows[0][0] == "11-21"
        assert "近7日（日期 相关/负面）：11-21 " in text_part.get_content()
        [attachment] = list(msg.iter_attachments())
        assert attachment.get_filename() == "舆情日报-press-office-2026-11-27.docx"
    finally:
        app.close()


def test_the_docx_chart_is_a_table_of_the_data(sqlite_app: AppContext) -> None:
    from docx import Document

    d = _digest(sqlite_app)
    doc = Document(io.BytesIO(build_docx(d)))
    assert len(doc.inline_shapes) == 0  # no picture: nothing depends on a font on the server
    [table] = [t for t in doc.tables if t.rows[0].cells[0].text == "日期"]
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0] == ["日期", "相关", "负面", "趋势"]
    assert [(r[0], int(r[1]), int(r[2])) for r in cells[1:]] == d.series
    last = cells[-1][3].split("\n")
    assert last == ["█" * 20, "█" * round(20 * 8 / 11)]  # the largest day is the full bar
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "近7日相关与负面信息（条）" in text
