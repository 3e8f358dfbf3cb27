"""The press-office dev set: real posts from ../shared/data labelled relevant / negative toward the office.

``bench/press_devset.tsv`` holds only where each post lies and its labels (never its text):

    path      data file, relative to the shared data folder (``YUQING_SHARED_DATA`` or ../shared/data)
    item      the item's id inside that file (see ``ITEM_IDS``)
    relevant  1 when the post is about the work of the political-legal bodies, else 0
    negative  1 when the post is negative toward those bodies, else 0
    fold      0-4, for k-fold training in bench/press_eval.py

This module resolves each row to ``(title, text)`` by reading the data files where they lie. How the
items were chosen and the labelling guideline: docs/PRESS_DEVSET.md.

Usage: python bench/press_devset.py     (prints the counts; exits 0 with a message when the data is absent)
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("YUQING_SHARED_DATA", REPO.parent / "shared" / "data"))
DEVSET = Path(__file__).resolve().parent / "press_devset.tsv"
FIELDS = ("path", "item", "relevant", "negative", "fold")

# How each kind of file names its items (the ``item`` column).
ITEM_IDS = {
    "gov_message_board_tipdm2020_sample/附件*.xlsx": "the 留言编号 column (message number)",
    "wechat_feeds_rss/feeds/*.xml": "the last path segment of the item's <link> (mp.weixin.qq.com/s/<id>)",
    "weibo2018/train.txt, weibo2018/topics/*.txt": "the mid (first comma-separated field)",
    "smp2020_ewect/raw/*.txt": 'the JSON "id" field',
    "weibo_senti_100k_split/*.csv": "the 1-based line number in the file (line 1 is the header)",
    "gne_news_pages/**.html": '"page" (the whole page; title and text by crawlers.extract)',
}

Item = tuple[str, str]  # (title, text)


@dataclass(frozen=True)
class Row:
    """One labelled post of the dev set."""

    path: str
    item: str
    relevant: int
    negative: int
    fold: int


class DataMissing(Exception):
    """The shared data folder (or one of its files) is not on this machine."""


def read_rows(path: Path = DEVSET) -> list[Row]:
    """The labelled rows of the dev set file."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return [Row(r["path"], r["item"], int(r["relevant"]), int(r["negative"]), int(r["fold"])) for r in reader]


def _clean(text: object) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def _board(path: Path) -> Iterator[tuple[str, Item]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = [str(c) for c in next(rows)]
    at = {name: header.index(name) for name in ("留言编号", "留言主题", "留言详情")}
    for row in rows:
        if row[at["留言编号"]] is None or not row[at["留言主题"]]:
            continue
        yield str(row[at["留言编号"]]), (_clean(row[at["留言主题"]]), _clean(row[at["留言详情"]]))
    book.close()


def _wechat(path: Path) -> Iterator[tuple[str, Item]]:
    from lxml import etree

    tree = etree.parse(str(path))
    for node in tree.iterfind(".//item"):
        link = (node.findtext("link") or "").strip()
        yield link.rstrip("/").rsplit("/", 1)[-1], (_clean(node.findtext("title")), "")


def _weibo2018(path: Path) -> Iterator[tuple[str, Item]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(",", 2)
        if len(parts) == 3:
            yield parts[0], ("", parts[2])


def _smp(path: Path) -> Iterator[tuple[str, Item]]:
    for row in json.loads(path.read_text(encoding="utf-8-sig")):
        yield str(row["id"]), ("", str(row["content"]))


def _senti(path: Path) -> Iterator[tuple[str, Item]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number > 1:
            yield str(number), ("", line.partition("\t")[2])


def _page(path: Path) -> Iterator[tuple[str, Item]]:
    sys.path.insert(0, str(REPO))
    from crawlers.extract import extract_bytes

    article = extract_bytes(path.read_bytes())
    yield "page", (_clean(article.title), article.text)


def iter_items(relpath: str) -> Iterator[tuple[str, Item]]:
    """Every (item id, (title, text)) of one data file, in file order."""
    path = SHARED / relpath
    if not path.is_file():
        raise DataMissing(f"{path} not found (set YUQING_SHARED_DATA to the shared data folder)")
    top = relpath.split("/", 1)[0]
    if top == "gov_message_board_tipdm2020_sample":
        return _board(path)
    if top == "wechat_feeds_rss":
        return _wechat(path)
    if top == "weibo2018":
        return _weibo2018(path)
    if top == "smp2020_ewect":
        return _smp(path)
    if top == "weibo_senti_100k_split":
        return _senti(path)
    if top == "gne_news_pages":
        return _page(path)
    raise ValueError(f"{relpath}: no reader for this data set (known: {', '.join(ITEM_IDS)})")


@cache
def _file_items(relpath: str) -> dict[str, Item]:
    return dict(iter_items(relpath))


def resolve(row: Row) -> Item:
    """The (title, text) of one dev-set row; KeyError when the file has no such item."""
    items = _file_items(row.path)
    if row.item not in items:
        raise KeyError(f"{row.path}: no item {row.item!r}")
    return items[row.item]


def data_available() -> bool:
    """True when the shared data folder is on this machine."""
    return SHARED.is_dir()


def load(path: Path = DEVSET) -> list[tuple[Row, Item]]:
    """Every dev-set row with its (title, text); DataMissing when the data folder is absent."""
    if not data_available():
        raise DataMissing(f"{SHARED} not found (set YUQING_SHARED_DATA to the shared data folder)")
    return [(row, resolve(row)) for row in read_rows(path)]


def main() -> int:
    try:
        loaded = load()
    except DataMissing as exc:
        print(f"skipped: {exc}")
        return 0
    by_source: dict[str, list[int]] = {}
    for row, _ in loaded:
        counts = by_source.setdefault(row.path.split("/", 1)[0], [0, 0, 0])
        counts[0] += 1
        counts[1] += row.relevant
        counts[2] += row.negative
    print(f"{'source':40} {'posts':>6} {'relevant':>9} {'negative':>9}")
    for source, (n, rel, neg) in sorted(by_source.items()):
        print(f"{source:40} {n:6d} {rel:9d} {neg:9d}")
    total = [sum(c[i] for c in by_source.values()) for i in range(3)]
    print(f"{'total':40} {total[0]:6d} {total[1]:9d} {total[2]:9d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
