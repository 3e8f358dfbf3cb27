"""The reports as Word documents (offices file them as .docx): the same sections as the HTML."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from alerts.digest import ItemView
from alerts.docx_export import xml_text
from alerts.special import Share, SpecialReport


def _table(doc: Any, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = xml_text(value)


def _shares(doc: Any, label: str, rows: Sequence[Share]) -> None:
    _table(doc, (label, "篇数", "负面"), [(s.label, s.count, s.negative) for s in rows])


def _item(doc: Any, index: int, item: ItemView) -> None:
    paragraph = doc.add_paragraph()
    paragraph.add_run(xml_text(f"{index}. " + (f"【{item.risk}】" if item.risk else "")))
    paragraph.add_run(xml_text(item.title_plain)).bold = True
    paragraph.add_run(xml_text(f"「#{item.id}」"))
    doc.add_paragraph(
        xml_text(f"{item.source} {item.time}" + (f"  命中：{'、'.join(item.terms)}" if item.terms else ""))
    )
    if item.excerpt:
        doc.add_paragraph(xml_text("".join(s.text for s in item.excerpt)))
    doc.add_paragraph(xml_text(item.url))


def special_docx(r: SpecialReport) -> bytes:
    """The special report (专报) as .docx: title, number and date, then the seven sections."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document()
    doc.add_heading("舆情专报", level=0).alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(xml_text(f"{r.number}　　{r.date}")).alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(xml_text(r.title)).runs[0].bold = True
    overview, first, timeline, spread, sentiment, key, note = r.sections
    doc.add_heading(overview, level=1)
    doc.add_paragraph(xml_text(r.overview))
    doc.add_heading(first, level=1)
    doc.add_paragraph(xml_text(f"{r.first_text}\n{r.first.url}" if r.first else r.first_text))
    doc.add_heading(timeline, level=1)
    _table(
        doc,
        ("时间", "来源", "级别", "标题"),
        [
            (t.time, t.source, t.level, ("【首发】" if t.first else "") + ("【负面】" if t.negative else "") + t.title)
            for t in r.timeline
        ],
    )
    if r.timeline_more:
        doc.add_paragraph(f"其余{r.timeline_more}篇从略。")
    doc.add_heading(spread, level=1)
    doc.add_heading("按媒体级别", level=2)
    _shares(doc, "媒体级别", r.by_level)
    doc.add_heading("按来源", level=2)
    _shares(doc, "来源", r.by_source)
    doc.add_heading(sentiment, level=1)
    doc.add_paragraph(f"按{r.trend_unit}统计的信息量与负面信息量。")
    _shares(doc, "时间", r.trend)
    doc.add_heading(key, level=1)
    for i, item in enumerate(r.key_posts, 1):
        _item(doc, i, item)
    doc.add_heading(note, level=1)
    for paragraph in r.note or [f"（待分析人员填写：yuqing report event {r.event_id} --note FILE）"]:
        doc.add_paragraph(xml_text(paragraph))
    doc.add_paragraph(xml_text(f"本专报由舆情监测系统于{r.generated}生成。个人信息已做脱敏处理。"))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
