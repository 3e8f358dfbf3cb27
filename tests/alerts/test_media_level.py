"""A source without a configured media level is of unknown level, never counted as provincial media."""

from __future__ import annotations

from alerts.digest import coverage, coverage_text
from config.sources_model import Source


def source(id_: str, **extra: str) -> Source:
    return Source.model_validate({"id": id_, "name": id_, "kind": "html", "start_urls": ["http://x.cn/"], **extra})


def test_an_unlabelled_forum_is_of_unknown_level() -> None:
    forum = source("forum", media_type="论坛")
    assert forum.media_level == "未知"


def test_coverage_keeps_unknown_apart_from_provincial_media() -> None:
    sources = {
        "forum": source("forum", media_type="论坛"),
        "south": source("south", media_level="省级"),
        "people": source("people", media_level="中央级"),
    }
    levels = coverage({"forum": 4, "south": 2, "people": 1, "gone": 3}, sources)
    assert levels == [("中央级", 1), ("省级", 2), ("未知", 4), ("其他", 3)]
    assert coverage_text(levels) == "中央级媒体1篇，省级媒体2篇，级别未知的来源4篇，其他来源3篇"
