"""Synthetic stored posts for the benchmarks over large databases (report_700k, web_1m): the digest
benchmark's mix of topics and sources, about 20 % relevant and a quarter of those negative, with
their analyses and topic rows, inserted in bulk rather than crawled."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from digest_100k import SOURCES, TEXT, TOPICS

from yuqing.base.post import url_hash


def analysed_post(
    i: int, at: datetime, rng: random.Random, unpublished: bool = False
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """Post ``i`` collected at ``at`` (published up to two hours before, or never when ``unpublished``):
    its posts row, its analyses row and its post_topics row (None when it is not relevant)."""
    topic, term = TOPICS[i % len(TOPICS)]
    relevant = rng.random() < 0.2
    negative = relevant and rng.random() < 0.25
    url = f"https://news{i % SOURCES}.example.cn/{i}.html"
    title = f"第{i}条：某地{term}处理纠纷引发关注" if relevant else f"第{i}条：本地生活资讯"
    post = {
        "id": i,
        "url_hash": url_hash(url),
        "source_id": f"s{i % SOURCES}",
        "url": url,
        "canonical_url": url,
        "title": title,
        "text": TEXT.format(term=term),
        "author": None,
        "published_at": None if unpublished else at - timedelta(minutes=rng.randint(1, 120)),
        "fetched_at": at,
        "language": "zh",
        "views": rng.randint(0, 5000),
        "extras": {},
    }
    pos = title.find(term)
    terms = [{"term": term, "field": "title", "start": pos, "end": pos + len(term)}]
    risk = rng.choice([1, 1, 1, 2, 2, 3]) if negative else 0
    analysis = {
        "post_id": i,
        "analyzed_at": at,
        "relevant": relevant,
        "topics": [{"topic": topic, "terms": terms}] if relevant else [],
        "negative_score": 0.8 if negative else 0.1,
        "negative": negative,
        "reasons": [],
        "risk_level": risk,
        "risk_score": risk / 3,
        "event_id": (i % 300) + 1 if negative and i % 4 == 0 else None,
    }
    topic_row = {"post_id": i, "topic_id": topic, "terms": terms, "relevance": 1.0} if relevant else None
    return post, analysis, topic_row
