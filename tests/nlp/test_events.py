"""Near-duplicate grouping: reposts with small edits merge, different stories do not."""

from __future__ import annotations

import random

import pytest

from nlp.events import MIN_SHARED_BANDS, best_candidate, fingerprint
from tests.conftest import shared_data

STORY = (
    "网传某地派出所民警在执法过程中殴打一名外卖骑手，视频显示骑手被按倒在地，围观群众纷纷拍摄。"
    "当地公安局回应称已成立调查组，将依法依规处理，结果将及时向社会公布。"
)
OTHER = (
    "某市中级人民法院今天公开审理一起特大电信网络诈骗案，十二名被告人出庭受审，涉案金额超过三亿元，"
    "庭审持续到晚上八点，百余名群众旁听，法院将择期宣判。"
)
SAME_TEMPLATE = (
    "网传某地交警在执勤过程中与一名货车司机发生争执，视频显示司机情绪激动，围观群众纷纷拍摄。"
    "当地交警大队回应称正在核实情况，将依法依规处理，结果将及时向社会公布。"
)


def shared_bands(segmenter, a: str, b: str) -> int:  # type: ignore[no-untyped-def]
    fa, fb = fingerprint(segmenter.cut(a)), fingerprint(segmenter.cut(b))
    assert fa is not None and fb is not None
    return sum(x == y for x, y in zip(fa, fb))


@pytest.mark.parametrize(
    "edited",
    [
        "转发微博：" + STORY,
        STORY + "//@网友甲:太过分了，必须严查！",
        STORY.replace("纷纷拍摄", "拍摄").replace("及时", ""),
        STORY.replace("，", ",").replace("。", "."),
        "【" + STORY[:-1] + "】",
        "網傳某地派出所民警在執法過程中毆打一名外賣騎手，視頻顯示騎手被按倒在地，圍觀群眾紛紛拍攝。"
        "當地公安局回應稱已成立調查組，將依法依規處理，結果將及時向社會公布。",
    ],
)
def test_reposts_with_small_edits_merge(segmenter, edited: str) -> None:  # type: ignore[no-untyped-def]
    assert shared_bands(segmenter, STORY, edited) >= MIN_SHARED_BANDS


@pytest.mark.parametrize("other", [OTHER, SAME_TEMPLATE])
def test_different_stories_do_not_merge(segmenter, other: str) -> None:  # type: ignore[no-untyped-def]
    assert shared_bands(segmenter, STORY, other) < MIN_SHARED_BANDS


def test_too_short_text_gets_no_fingerprint(segmenter) -> None:  # type: ignore[no-untyped-def]
    assert fingerprint(segmenter.cut("好")) is None
    assert fingerprint([]) is None


def test_best_candidate_needs_enough_bands() -> None:
    assert best_candidate({1: 1, 2: 1}) is None
    assert best_candidate({5: 3, 2: 3, 9: 2}) == 2  # most bands, then the oldest id


def test_real_weibo_posts_rarely_collide(segmenter) -> None:  # type: ignore[no-untyped-def]
    """Distinct real posts must not merge: count false merges among 400 random Weibo posts."""
    lines = shared_data("weibo2018", "train.txt").read_text(encoding="utf-8").splitlines()
    texts = sorted({line.split(",", 2)[2] for line in random.Random(7).sample(lines, 400) if line.count(",") >= 2})
    prints = [(t, fingerprint(segmenter.cut(t))) for t in texts]
    prints = [(t, f) for t, f in prints if f is not None]
    merged = [
        (a, b)
        for i, (a, fa) in enumerate(prints)
        for b, fb in prints[i + 1 :]
        if sum(x == y for x, y in zip(fa, fb)) >= MIN_SHARED_BANDS
    ]
    assert len(prints) > 300
    assert len(merged) <= 2, merged


def test_fingerprints_are_pinned() -> None:
    """Stored fingerprints must keep matching after an upgrade of NumPy or of yuqing."""
    from nlp.events import fingerprint

    words = "网传 某地 派出所 民警 在 执法 过程 中 殴打 一名 外卖 骑手".split()
    assert fingerprint(words) == [
        6221209103527827325,
        2933445014557037719,
        4891516084319055398,
        2838207250092128842,
        1213776731916796291,
        3363003936075207640,
        4075693112716875873,
        924594534732564095,
        3488353516164450228,
        354033476528199587,
        8081519623818836512,
        5066047333173900904,
        3051808247732103500,
        5592244472362275536,
        5785904471056084672,
        2791839283244887676,
    ]
