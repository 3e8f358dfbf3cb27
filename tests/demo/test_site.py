"""The demo site looks like the real sources: RSS, a GBK forum with relative times, a paged
message board and a paged JSON API."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import feedparser
import pytest

from yuqing.demo.site import DemoSite, relative_time, serve

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)  # 09:00 in Beijing


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server, url = serve(DemoSite(NOW))
    yield url
    server.shutdown()


def get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers["Content-Type"], response.read()


def test_rss_feed_lists_news_with_absolute_links(base: str) -> None:
    _, body = get(base + "/news/rss.xml")
    feed = feedparser.parse(body)
    assert not feed.bozo
    titles = [e.title for e in feed.entries]
    assert '青山县公安局关于网传"辅警推搡老人"视频的情况通报' in titles
    assert all(e.link.startswith(base + "/news/a/") for e in feed.entries)


def test_forum_is_gbk_with_relative_times(base: str) -> None:
    content_type, body = get(base + "/bbs/forum.php?fid=2")
    assert content_type.endswith("charset=gbk")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    page = body.decode("gbk")
    assert "举报：临江监狱服刑人员疑似花钱办保外就医" in page and "分钟前" in page


def test_message_board_and_api_are_paged(base: str) -> None:
    _, first = get(base + "/gov/list")
    assert 'href="/gov/list?page=2"' in first.decode()
    _, api = get(base + "/api/posts")
    data = json.loads(api)["data"]
    assert len(data["list"]) == 3 and data["next"] == "/api/posts?page=2"
    _, last = get(base + data["next"])
    assert json.loads(last)["data"]["next"] is None


def test_unknown_page_is_404(base: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        get(base + "/news/a/nope.html")
    assert info.value.code == 404


@pytest.mark.parametrize(("minutes", "shown"), [(0, "刚刚"), (5, "5分钟前"), (180, "3小时前"), (60 * 20, "昨天 13:00")])
def test_relative_time(minutes: int, shown: str) -> None:
    assert relative_time(NOW - timedelta(minutes=minutes), NOW) == shown
