"""Normalise: clean text and title, parse the time with the source's zone, optional 繁→简."""

from __future__ import annotations

import re
from typing import Any

from scrapy.crawler import Crawler

from crawlers.context import CrawlRuntime, runtime
from crawlers.dates import parse_datetime
from crawlers.items import PostItem
from crawlers.text import clean_line, clean_text, html_to_text

TITLE_FROM_TEXT_CHARS = 60
AUTHOR_PREFIX = re.compile(r"^(?:本报)?(?:记者|通讯员|作者|编辑|责任编辑|来源|发布人|文)\s*[:：/|]?\s*")


def clean_author(author: str | None) -> str | None:
    """``"记者 张三"`` → ``"张三"``; ``None`` when nothing is left."""
    if not author:
        return None
    return AUTHOR_PREFIX.sub("", clean_line(author.replace("\n", " "))).strip()[:255] or None


def drop_title_line(text: str, title: str) -> str:
    """Extraction often repeats the headline as the first line of the body: drop it."""
    first, _, rest = text.partition("\n")
    return rest if title and rest and first.strip() == title.strip() else text


def to_simplified_converter() -> Any:
    """An OpenCC traditional→simplified converter (pure Python, no download)."""
    from opencc import OpenCC

    return OpenCC("t2s")


def normalize_item(item: PostItem, rt: CrawlRuntime, converter: Any = None) -> PostItem:
    """Clean the post's text fields in place and parse its publication time."""
    post = item.post
    post.text = html_to_text(post.text) if item.text_is_html and "<" in post.text else clean_text(post.text)
    post.title = clean_line(post.title.replace("\n", " "))
    post.text = drop_title_line(post.text, post.title)
    if not post.title and post.text:  # social posts and board messages often have no title
        post.title = post.text.split("\n", 1)[0][:TITLE_FROM_TEXT_CHARS]
    post.author = clean_author(post.author)
    if post.published_at is None and item.published_raw is not None:
        post.published_at = parse_datetime(item.published_raw, rt.tz, rt.now)
    if converter is not None:
        post.title, post.text = converter.convert(post.title), converter.convert(post.text)
    return item


class NormalizePipeline:
    """First stage: every later stage sees clean text and aware UTC times."""

    def __init__(self, crawler: Crawler) -> None:
        self.rt = runtime(crawler)
        self.converter = to_simplified_converter() if self.rt.source.to_simplified else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler)

    def process_item(self, item: PostItem, spider: Any = None) -> PostItem:
        return normalize_item(item, self.rt, self.converter)
