"""The shared Post value type and URL canonicalisation."""

from __future__ import annotations

from datetime import datetime

import pytest

from yuqing.base.post import Post, canonicalize_url


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://News.Example.CN:80/a/b.html#top", "http://news.example.cn/a/b.html"),
        ("https://example.cn/list/index.html", "https://example.cn/list/"),
        ("https://example.cn/a?utm_source=wx&id=7&spm=1.2", "https://example.cn/a?id=7"),
        ("https://example.cn/a?b=2&a=1", "https://example.cn/a?a=1&b=2"),
        ("https://example.cn:8443/x", "https://example.cn:8443/x"),
        ("https://example.cn", "https://example.cn/"),
    ],
)
def test_canonicalize_url(url: str, canonical: str) -> None:
    assert canonicalize_url(url) == canonical


def test_post_derives_canonical_url_and_key() -> None:
    a = Post("s", "https://example.cn/a?utm_source=x#f", "标题", "正文")
    b = Post("s", "https://EXAMPLE.cn/a", "标题", "正文")
    assert a.canonical_url == "https://example.cn/a"
    assert a.key == b.key and len(a.key) == 40


def test_post_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Post("s", "https://example.cn/a", "t", "x", published_at=datetime(2026, 1, 1))
