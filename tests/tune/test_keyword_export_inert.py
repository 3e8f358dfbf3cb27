"""Item 13: keyword exports open in Excel/WPS as text, never as formulas (OWASP CSV injection),
and importing the export gives back exactly the same keywords."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from config.keyword_io import export_keywords, import_keywords

HOSTILE = [
    '=HYPERLINK("https://evil.example","点我")',
    "+86-公安",
    "-2+3",
    "@SUM(A1)",
    "'=已加引号",
    "''+两个引号",
    "'普通引号开头",
    "民警",
    "执法-冲突",
]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_is_inert_and_round_trips(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"words.{suffix}"
    export_keywords(path, HOSTILE, "公安")
    if suffix == "csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            cells = [row[0] for row in csv.reader(handle)][1:]
    else:
        sheet = load_workbook(path).worksheets[0]
        rows = list(sheet.iter_rows(min_row=2))
        assert all(row[0].data_type == "s" for row in rows)  # no formula cell
        cells = [str(row[0].value) for row in rows]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), cells
    assert cells[0] == "'" + HOSTILE[0] and cells[-1] == "执法-冲突" and cells[-2] == "民警"
    assert import_keywords(path).words == HOSTILE
