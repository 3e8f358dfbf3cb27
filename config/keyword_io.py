"""Keyword lists as offices keep them: TXT (one per line), CSV and XLSX; read in any common
Chinese encoding, normalised (full/half width, traditional/simplified) and deduplicated."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from yuqing.base.errors import YuqingError

HEADER_NAMES = {"keyword", "keywords", "word", "words", "关键词", "关键字", "敏感词", "词语", "词"}
FORMATS = ("txt", "csv", "xlsx")
# A spreadsheet cell starting with one of these is a formula (CSV/formula injection, OWASP):
# exported cells get a leading "'" and imports take it off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _looks_guarded(value: str) -> bool:
    """A cell that needs the quote: a formula start, or quotes in front of one (so a keyword that
    itself begins with "'=" survives the round trip)."""
    return value.startswith(FORMULA_START) or (value.startswith("'") and _looks_guarded(value[1:]))


def guard_cell(value: str) -> str:
    """A keyword as a spreadsheet cell that cannot run as a formula."""
    return f"'{value}" if _looks_guarded(value) else value


def unguard_cell(value: str) -> str:
    """The keyword behind a cell written by ``guard_cell`` (other cells unchanged)."""
    return value[1:] if value.startswith("'") and _looks_guarded(value[1:]) else value


@dataclass
class KeywordImport:
    """Normalised keywords read from a file, with what was dropped and why."""

    words: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)
    encoding: str = ""


@lru_cache(maxsize=1)
def _t2s() -> Any:  # opencc ships no types
    from opencc import OpenCC  # opencc-python-reimplemented

    return OpenCC("t2s")


def normalize_keyword(word: str) -> str:
    """Full-width → half-width (NFKC), traditional → simplified, inner whitespace folded."""
    folded = unicodedata.normalize("NFKC", word)
    folded = " ".join(folded.split())
    return str(_t2s().convert(folded)).strip()


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes of a text file: UTF-8 (with or without BOM), else GB18030/GBK, else best guess."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), "utf-8" if encoding == "utf-8-sig" else encoding
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None:
        raise YuqingError(f"{name}: cannot tell the text encoding", "save the file as UTF-8 text")
    return str(best), best.encoding


def _pick_column(rows: list[list[str]]) -> list[str]:
    """The keyword column: the one headed keyword/关键词…, else the first; header row dropped."""
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    for index, cell in enumerate(header):
        if cell in HEADER_NAMES:
            return [row[index] if index < len(row) else "" for row in rows[1:]]
    return [row[0] if row else "" for row in rows]


def read_rows(path: Path) -> tuple[list[str], str]:
    """Raw keyword cells of a TXT/CSV/XLSX file, and the encoding read."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise YuqingError(f"{path}: unsupported file type .{suffix}", "use .txt (one keyword per line), .csv or .xlsx")
    if suffix == "xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise YuqingError(
                f"{path}: not a readable .xlsx workbook ({exc})", "save it again from Excel or WPS as .xlsx"
            ) from None
        rows = [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
        return [unguard_cell(c.strip()) for c in _pick_column(rows)], "xlsx"
    text, encoding = decode_text(path.read_bytes(), str(path))
    if suffix == "txt":
        return text.splitlines(), encoding
    return [unguard_cell(c.strip()) for c in _pick_column(list(csv.reader(io.StringIO(text))))], encoding


def import_keywords(path: Path) -> KeywordImport:
    """Read and normalise a keyword file; blank lines and #-comments are skipped."""
    cells, encoding = read_rows(path)
    result = KeywordImport(encoding=encoding)
    seen: set[str] = set()
    for cell in cells:
        raw = cell.strip()
        if not raw or raw.startswith("#"):
            continue
        word = normalize_keyword(raw)
        if word != raw:
            result.changed.append((raw, word))
        if word in seen:
            result.duplicates.append(word)
            continue
        seen.add(word)
        result.words.append(word)
    return result


def export_keywords(path: Path, words: list[str], topic_name: str = "") -> None:
    """Write keywords as TXT (UTF-8), CSV (UTF-8 with BOM, opens in Excel) or XLSX; spreadsheet
    cells are inert (``guard_cell``)."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "txt":
        path.write_text("".join(f"{w}\n" for w in words), encoding="utf-8")
    elif suffix == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["关键词"])
            writer.writerows([guard_cell(w)] for w in words)
    elif suffix == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = (topic_name or "keywords")[:31]
        sheet.append(["关键词"])
        for word in words:
            sheet.append([guard_cell(word)])  # a string cell: openpyxl takes "=…" for a formula
        book.save(path)
    else:
        raise YuqingError(f"{path}: unsupported file type .{suffix}", "use .txt, .csv or .xlsx")


def short_words(words: list[str], minimum: int = 2) -> list[str]:
    """Keywords so short they match almost anything (a single character)."""
    return [w for w in words if len(w) < minimum]
