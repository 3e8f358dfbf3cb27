"""Normalisation and segmentation with the admins' keywords."""

from __future__ import annotations

import jieba
import pytest

from nlp.segment import build_segmenter, normalize, segmenter_for


def test_normalize_folds_full_width_and_keeps_length() -> None:
    text = "ＡＢＣ１２３，警察（殴打）　ok"
    folded = normalize(text)
    assert folded == "abc123,警察(殴打) ok"
    assert len(folded) == len(text)


def test_traditional_to_simplified_keeps_positions(segmenter) -> None:  # type: ignore[no-untyped-def]
    text = "警察在派出所門口毆打民眾"
    out = segmenter.normalize(text)
    assert out == "警察在派出所门口殴打民众"
    assert len(out) == len(text)


@pytest.mark.parametrize("backend", ["rjieba", "jieba"])
def test_keywords_are_never_split(backend: str) -> None:
    seg = build_segmenter(["按倒在地", "提钱出狱", "纸面服刑"], ["的"], backend=backend)  # type: ignore[arg-type]
    words = seg.cut("民警将他按倒在地的视频，纸面服刑与提钱出狱[怒]")
    assert {"按倒在地", "纸面服刑", "提钱出狱", "[怒]"} <= set(words)
    assert "的" not in words and "，" not in words


def test_global_jieba_is_not_touched() -> None:
    before = dict(jieba.dt.FREQ) if jieba.dt.initialized else None
    build_segmenter(["一个从未出现的词语"], backend="jieba")
    after = dict(jieba.dt.FREQ) if jieba.dt.initialized else None
    assert before == after
    assert "一个从未出现的词语" not in (after or {})


def test_segmenter_for_topics_holds_every_keyword(shipped_topics) -> None:  # type: ignore[no-untyped-def]
    seg = segmenter_for(shipped_topics)
    assert seg.added >= len(shipped_topics.all_keywords())
    for word in ("执法不公", "110报警", "违规经商办企业"):
        assert word in seg.cut(f"有人说{word}了")
