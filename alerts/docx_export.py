"""The digest as a Word document (offices archive reports as .docx)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from alerts.analyses import Analyses, Share
from alerts.chart import Chart
from alerts.digest import Digest, ItemView
from yuqing.base.text import strip_controls


def xml_text(value: object) -> str:
    """Text Word can hold: XML 1.0 refuses most control characters, lone surrogates and
    U+FFFE/U+FFFF (python-docx raises ValueError on them), so they are dropped here whatever the
    stored data holds — one bad character never costs the whole document."""
    return strip_controls(str(value))


def add_item(doc: Any, index: int, item: ItemView) -> None:
    """One post: index, risk, title (bold), its id, source and time, excerpt and link."""
    paragraph = doc.add_paragraph()
    paragraph.add_run(xml_text(f"{index}. " + (f"【{item.risk}】" if item.risk else "")))
    for seg in item.title:
        run = paragraph.add_run(xml_text(seg.text))
        run.bold = True
    paragraph.add_run(xml_text(f"「#{item.id}」"))
    meta = f"{item.source} {item.time}" + (f"  命中：{'、'.join(item.terms)}" if item.terms else "")
    doc.add_paragraph(xml_text(meta))
    if item.excerpt:
        doc.add_paragraph(xml_text("".join(s.text for s in item.excerpt)))
    doc.add_paragraph(xml_text(item.url))


RELEVANT_RGB, NEGATIVE_RGB = (0x5B, 0x8D, 0xEF), (0xD9, 0x36, 0x3E)


def _add_chart(doc: Any, chart: Chart) -> None:
    """The 7-day chart as a native Word table: date, counts and bars of block characters in the
    chart's colours (text, so Word shows it in the reader's own fonts, with or without CJK fonts on
    the server)."""
    from docx.shared import Pt, RGBColor

    doc.add_paragraph(xml_text(f"{chart.title}（条）"))
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(
        table.rows[0].cells, ("日期", chart.relevant_label, chart.negative_label, "趋势"), strict=True
    ):
        cell.text = text
    for b in chart.bars:
        row = table.add_row().cells
        for cell, text in zip(row[:3], (b.label, str(b.relevant), str(b.negative)), strict=True):
            cell.text = xml_text(text)
        bars = row[3].paragraphs[0]
        for n, (value, rgb) in enumerate(((b.relevant, RELEVANT_RGB), (b.negative, NEGATIVE_RGB))):
            if n:
                bars.add_run().add_break()
            run = bars.add_run("█" * b.blocks(value, chart.top))
            run.font.color.rgb = RGBColor(*rgb)
            run.font.size = Pt(7)


def add_table(doc: Any, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A bordered table: the header as given, every cell's value as Word-safe text."""
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = xml_text(value)


def _add_shares(doc: Any, title: str, shares: list[Share]) -> None:
    doc.add_paragraph(xml_text(title))
    add_table(doc, ("类别", "篇数", "占比"), [(s.label, str(s.count), s.percent_text) for s in shares])


def add_analyses(doc: Any, a: Analyses, level: int = 1) -> None:
    """The analyses of a period as Word sections (the same as ``_analyses.html.j2``)."""
    doc.add_heading("情感分布", level=level)
    _add_shares(doc, "相关信息的情感倾向：", a.sentiment)
    doc.add_heading("媒体分布", level=level)
    _add_shares(doc, "按媒体类型：", a.media_types)
    _add_shares(doc, "按媒体级别：", a.media_levels)
    doc.add_heading("地域分布", level=level)
    add_table(
        doc,
        ("地区", "篇数", "其中"),
        [(r.share.label, str(r.share.count), "，".join(f"{c.label}{c.count}篇" for c in r.cities)) for r in a.regions],
    )
    doc.add_paragraph("按文中提及的地名统计；未提及地名的按信息源所在地统计。")
    doc.add_heading("热词", level=level)
    if a.hot_terms:
        add_table(
            doc,
            ("词语", "本期篇数", "前30日篇数", "变化"),
            [(t.word, str(t.count), str(t.baseline), t.trend if t.ratio else "—") for t in a.hot_terms],
        )
    else:
        doc.add_paragraph("本期无上升明显的词语。")
    doc.add_paragraph(xml_text(a.hot_note))
    if a.events:
        doc.add_heading("热点事件传播与热度", level=level)
        for e in a.events:
            doc.add_paragraph(xml_text(e.title), style="List Bullet")
            doc.add_paragraph(xml_text(f"首发：{e.first_source}（{e.first_level}） {e.first_time}"))
            doc.add_paragraph(xml_text(f"传播：{e.posts}篇，{e.sources}个来源；转载：{e.levels_text}"))
            doc.add_paragraph(xml_text(f"走势：{e.hours_text}" + (f"（高峰 {e.peak}）" if e.peak else "")))
            doc.add_paragraph(xml_text(f"热度：{e.engagement_text}"))


def build_docx(d: Digest) -> bytes:
    """A .docx with the digest's summary, key items, events, topics and source health."""
    from docx import Document

    doc = Document()
    doc.add_heading(xml_text(d.title), level=0)
    doc.add_paragraph(xml_text(f"{d.group_name}　{d.period}"))
    doc.add_heading("总体情况", level=1)
    doc.add_paragraph(xml_text("；".join(f"{c.label}{c.value}（较上期{c.delta}）" for c in d.summary)))
    doc.add_paragraph(xml_text(f"媒体覆盖：{d.coverage_text}"))
    if d.backlog_text:
        doc.add_paragraph(xml_text(d.backlog_text))
    if d.zero:
        doc.add_paragraph(xml_text(d.zero_text))
    if d.chart:
        _add_chart(doc, d.chart)
    if d.analyses is not None:
        add_analyses(doc, d.analyses)
    if d.items:
        doc.add_heading("重点负面信息", level=1)
        for i, item in enumerate(d.items, 1):
            add_item(doc, i, item)
    if d.events:
        doc.add_heading("热点事件（转载合并）", level=1)
        for e in d.events:
            doc.add_paragraph(
                xml_text(
                    f"{e.title}（{e.post_count}篇，{e.source_count}个来源，{e.first_seen}至{e.last_seen}，{e.handling}）"
                )
            )
    for t in d.topics:
        doc.add_heading(xml_text(f"{t.name}：相关{t.relevant}篇，负面{t.negative}篇"), level=2)
        for i, item in enumerate(t.items, 1):
            add_item(doc, i, item)
        if t.refs:
            doc.add_paragraph("另见上文：" + "".join(f"「#{r}」" for r in t.refs))
    doc.add_heading("信息源运行情况", level=1)
    table = doc.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ("信息源", "运行", "采集", "状态"), strict=True):
        cell.text = text
    for s in d.sources:
        for cell, text in zip(table.add_row().cells, (s.name, str(s.runs), str(s.collected), s.status), strict=True):
            cell.text = xml_text(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
