"""The press-office dev set (bench/press_devset.tsv): well formed, and every row resolves to real text."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import shared_data

BENCH = Path(__file__).resolve().parents[2] / "bench"


def devset_module() -> ModuleType:
    """bench/press_devset.py, loaded by path (bench/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("press_devset", BENCH / "press_devset.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("press_devset", module)
    spec.loader.exec_module(module)
    return module


def test_devset_rows_are_well_formed() -> None:
    devset = devset_module()
    rows = devset.read_rows()
    assert len(rows) >= 400
    assert len({(r.path, r.item) for r in rows}) == len(rows), "a post is listed twice"
    assert all(r.relevant in (0, 1) and r.negative in (0, 1) and r.fold in range(5) for r in rows)
    assert all(r.relevant for r in rows if r.negative), "a post negative toward the office is about the office"
    sources = Counter(r.path.split("/", 1)[0] for r in rows)
    assert set(sources) >= {
        "gov_message_board_tipdm2020_sample",
        "wechat_feeds_rss",
        "weibo2018",
        "smp2020_ewect",
        "weibo_senti_100k_split",
        "gne_news_pages",
    }
    folds = Counter(r.fold for r in rows if r.negative)
    assert min(folds.values()) >= 5, f"every fold holds negative posts: {folds}"


def test_every_row_resolves_to_text() -> None:
    shared_data()  # skips where ../shared/data is absent
    devset = devset_module()
    loaded = devset.load()
    assert len(loaded) == len(devset.read_rows())
    empty = [(row.path, row.item) for row, (title, text) in loaded if not (title or text).strip()]
    assert not empty


def test_an_unknown_item_is_named(tmp_path: Path) -> None:
    shared_data("weibo2018", "train.txt")
    devset = devset_module()
    with pytest.raises(KeyError, match="weibo2018/train.txt: no item 'nope'"):
        devset.resolve(devset.Row("weibo2018/train.txt", "nope", 0, 0, 0))
