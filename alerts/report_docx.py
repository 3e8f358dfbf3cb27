"""The reports as Word documents (offices file them as .docx): the same sections as the HTML."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from alerts.docx_export import add_analyses, add_item, add_table, xml_text
from alerts.special import Share, SpecialReport

if TYPE_CHECKING:
    from alerts.reports import Report


def _shares(doc: Any, label: str, rows: Sequence[Share]) -> None:
    add_table(doc, (label, "篇数", "负面"), [(s.label, s.count, s.negative) for s in rows])


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
    if r.handling:
        doc.add_paragraph(xml_text(f"处置情况：{r.handling}"))
    doc.add_heading(first, level=1)
    doc.add_paragraph(xml_text(f"{r.first_text}\n{r.first.url}" if r.first else r.first_text))
    doc.add_heading(timeline, level=1)
    add_table(
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
        add_item(doc, i, item)
    doc.add_heading(note, level=1)
    for paragraph in r.note or [f"（待分析人员填写：yuqing report event {r.event_id} --note FILE）"]:
        doc.add_paragraph(xml_text(paragraph))
    doc.add_paragraph(xml_text(f"本专报由舆情监测系统于{r.generated}生成。个人信息已做脱敏处理。"))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def period_docx(r: Report) -> bytes:
    """A weekly or monthly report as .docx: the same sections as its HTML."""
    from docx import Document

    d = r.digest
    doc = Document()
    doc.add_heading(xml_text(r.title), level=0)
    doc.add_paragraph(xml_text(f"{d.group_name}　{r.period_label}"))
    doc.add_heading("总体情况", level=1)
    doc.add_paragraph(xml_text("；".join(r.change_lines())))
    doc.add_paragraph(xml_text(f"媒体覆盖：{d.coverage_text}"))
    if d.backlog_text:
        doc.add_paragraph(xml_text(d.backlog_text))
    if r.zero:
        doc.add_paragraph(xml_text(d.zero_text))
    doc.add_heading("每日走势", level=1)
    _shares(doc, "日期", r.series)
    if d.analyses is not None:
        add_analyses(doc, d.analyses)
    if d.items:
        doc.add_heading("重点负面信息", level=1)
        for i, item in enumerate(d.items, 1):
            add_item(doc, i, item)
    if d.events:
        doc.add_heading("热点事件", level=1)
        add_table(
            doc,
            ("事件", "篇数", "来源数", "时间", "处置"),
            [(e.title, e.post_count, e.source_count, f"{e.first_seen}至{e.last_seen}", e.handling) for e in d.events],
        )
    if d.topics:
        doc.add_heading("专题动态", level=1)
        for t in d.topics:
            doc.add_heading(xml_text(f"{t.name}：相关{t.relevant}篇，负面{t.negative}篇"), level=2)
            for i, item in enumerate(t.items, 1):
                add_item(doc, i, item)
    doc.add_heading("信息源运行情况", level=1)
    add_table(doc, ("信息源", "运行", "采集", "状态"), [(s.name, s.runs, s.collected, s.status) for s in d.sources])
    doc.add_paragraph(xml_text(f"本报告由舆情监测系统于{r.generated}自动生成。个人信息已做脱敏处理。"))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
