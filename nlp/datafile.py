"""Reading admins' files: labelled CSV for training/evaluation, CSV or JSONL rows for ``classify``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from yuqing.base.errors import YuqingError

csv.field_size_limit(16 * 1024 * 1024)


def read_text(path: Path) -> str:
    """A text file as UTF-8 (with or without BOM), else GB18030; a clear error if unreadable."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YuqingError(f"cannot read {path}: {exc.strerror}", "check the path") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            raise YuqingError(f"{path} is neither UTF-8 nor GB18030 text", "save it as UTF-8") from None


def csv_rows(text: str) -> tuple[list[str], Iterator[dict[str, str]]]:
    """Header and rows of CSV or TSV text (the delimiter is detected from the header line)."""
    header_line = text.split("\n", 1)[0]
    delimiter = "\t" if header_line.count("\t") > header_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    return list(reader.fieldnames or []), reader


def read_labelled(path: Path, text_col: str, label_col: str, negative_value: str) -> tuple[list[str], list[int]]:
    """(texts, 1 = negative) from a CSV; a row is negative when its label equals ``negative_value``."""
    header, rows = csv_rows(read_text(path))
    for column in (text_col, label_col):
        if column not in header:
            raise YuqingError(
                f'{path} has no column "{column}"',
                f"columns found: {', '.join(header) or 'none'}; use --text-col / --label-col",
            )
    texts: list[str] = []
    labels: list[int] = []
    for row in rows:
        text, label = (row.get(text_col) or "").strip(), (row.get(label_col) or "").strip()
        if text and label:
            texts.append(text)
            labels.append(int(label == negative_value))
    if not texts:
        raise YuqingError(f"{path} has no rows with both {text_col} and {label_col}", "check the file")
    return texts, labels


def read_inputs(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a ``.jsonl`` file (one JSON object per line) or of a CSV with a ``text`` column.
    A malformed JSON line yields ``{"_error": …}`` so the output keeps one line per input row."""
    text = read_text(path)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield {"_error": f"line {number}: invalid JSON ({exc.msg})"}
                continue
            yield value if isinstance(value, dict) else {"_error": f"line {number}: not a JSON object"}
        return
    header, rows = csv_rows(text)
    if "text" not in header:
        raise YuqingError(f'{path} has no "text" column', f"columns found: {', '.join(header) or 'none'}")
    yield from rows
