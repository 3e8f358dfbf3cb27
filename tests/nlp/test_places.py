"""Places named in posts (nlp.places, on the installed jionlp's divisions) and the words kept for 热词."""

from __future__ import annotations

import pytest

from nlp.keywords import post_words
from nlp.places import Gazetteer, Place, load_gazetteer, place_of_region, places_in


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("广东深圳市南山区警方通报一起案件", ["广东省/深圳市"]),
        ("长春市朝阳区法院审理", ["吉林省/长春市"]),  # 朝阳区 is in Beijing too: the city settles it
        ("北京朝阳区一男子", ["北京市"]),
        ("南京鼓楼区、福州鼓楼区", ["江苏省/南京市", "福建省/福州市"]),
        ("朝阳区一男子", []),  # two provinces and nothing to choose: left out
        ("白银价格上涨，黄山风景区游客增多", []),  # short names that are ordinary words
        ("某派出所民警执法", []),
    ],
)
def test_places_named_in_a_post(gazetteer: Gazetteer, text: str, expected: list[str]) -> None:
    assert sorted(str(p) for p in places_in(gazetteer, text)) == expected


def test_source_regions(gazetteer: Gazetteer) -> None:
    assert place_of_region(gazetteer, "深圳市") == Place("广东省", "深圳市")
    assert place_of_region(gazetteer, "广东省") == Place("广东省")
    assert place_of_region(gazetteer, "全国") is None and place_of_region(gazetteer, None) is None


def test_post_words_are_distinct_and_meaningful() -> None:
    assert post_words(["民警", "殴打", "民警", "2026", "11-26", "a", "群", "[怒]", "群众"]) == ["民警", "殴打", "群众"]
    assert len(post_words([f"词{i}" for i in range(100)])) == 60
