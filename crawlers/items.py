"""What spiders yield: a ``Post`` plus the raw bits the normalise pipeline still has to parse."""

from __future__ import annotations

from dataclasses import dataclass

from yuqing.base.post import Post


@dataclass
class PostItem:
    """One collected post. ``published_raw`` is the time as written on the page (parsed later
    with the source's timezone); ``text_is_html`` says ``post.text`` still holds markup."""

    post: Post
    published_raw: object = None
    text_is_html: bool = False
