"""Readers of the labelled sets in ../shared/data, as (texts, negative labels) pairs.

Each returns ``(texts, y)`` with ``y[i] = 1`` when the text is negative. Nothing is copied into the
repository; the sets are read where they lie (``YUQING_SHARED_DATA`` or ../shared/data).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("YUQING_SHARED_DATA", REPO.parent / "shared" / "data"))
SMP_NEGATIVE = {"angry", "sad", "fear"}

Data = tuple[list[str], list[int]]


def weibo2018_train() -> Data:
    """weibo2018 train.txt: ``mid,label,text``, label 0 = negative."""
    texts, y = [], []
    for line in (SHARED / "weibo2018" / "train.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split(",", 2)
        if len(parts) == 3 and parts[1] in ("0", "1"):
            texts.append(parts[2])
            y.append(int(parts[1] == "0"))
    return texts, y


def smp_json(name: str) -> Data:
    """An SMP2020-EWECT raw JSON file; negative = angry, sad or fear."""
    rows = json.loads((SHARED / "smp2020_ewect" / "raw" / name).read_text(encoding="utf-8-sig"))
    return [r["content"] for r in rows], [int(r["label"] in SMP_NEGATIVE) for r in rows]


def smp_usual_train() -> Data:
    """The official usual train release (a legacy .xls; needs ``pip install xlrd``)."""
    import xlrd

    sheet = xlrd.open_workbook(str(SHARED / "smp2020_ewect" / "xlsx" / "usual_train.xlsx")).sheet_by_index(0)
    texts, y = [], []
    for i in range(1, sheet.nrows):
        _, text, label = sheet.row_values(i)[:3]
        texts.append(str(text))
        y.append(int(str(label).strip() in SMP_NEGATIVE))
    return texts, y


def weibo_senti(split: str) -> Data:
    """weibo_senti_100k dev/test: tab-separated ``label<TAB>text``, label 0 = negative."""
    texts, y = [], []
    lines = (SHARED / "weibo_senti_100k_split" / f"{split}.csv").read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        label, _, text = line.partition("\t")
        if label in ("0", "1"):
            texts.append(text)
            y.append(int(label == "0"))
    return texts, y


def waimai() -> Data:
    """waimai_10k.csv: ``label,review``, label 0 = negative."""
    with (SHARED / "waimai_10k" / "waimai_10k.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("label") in ("0", "1")]
    return [r["review"] for r in rows], [int(r["label"] == "0") for r in rows]


def write_csv(path: Path, data: Data, negative_value: str = "1") -> Path:
    """Write ``text,label`` CSV (label 1 = negative) for ``yuqing train/eval sentiment --data``."""
    texts, y = data
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for text, label in zip(texts, y):
            writer.writerow([text, negative_value if label else "0" if negative_value != "0" else "1"])
    return path
