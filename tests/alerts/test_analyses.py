"""The day's analyses in the digest: sentiment, media type and level, regions, 热词, event spread and
热度, in HTML, text, Markdown and .docx alike; each post shown once."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alerts_testlib import SEND_AT, SOURCES_YAML, Seed, make_app, seed_day

from alerts.analyses import rising_terms, shares
from alerts.docx_export import build_docx
from alerts.render import digest_html, digest_markdown, digest_text, environment
from alerts.service import build_digest, select_groups
from nlp.job import build_segmenter
from nlp.keywords import post_words
from nlp.places import load_gazetteer, places_in
from storage.context import AppContext
from storage.models import AnalysisRow, PostRow, PostWordRow

# two more kinds of source: a government site and a social account, in other regions
SOURCES = SOURCES_YAML.replace(
    "  - {id: idle,",
    "  - {id: gov, name: 湖南政法网, kind: rss, start_urls: ['http://127.0.0.1/f.xml'], media_type: 政务, "
    "media_level: 省级, region: 湖南省}\n"
    "  - {id: weibo, name: 某微博账号, kind: rss, start_urls: ['http://127.0.0.1/g.xml'], media_type: 社交}\n"
    "  - {id: idle,",
)


@pytest.fixture
def day_app(config_dir: Path, db_url: str) -> Iterator[AppContext]:
    context = make_app(config_dir, db_url, sources=SOURCES)
    yield context
    context.close()


def _analyse_like_the_job(session, gazetteer, segmenter, post_id: int) -> None:  # type: ignore[no-untyped-def]
    """Store a seeded post's places and words with the real extraction (nlp.places, nlp.keywords)."""
    post, analysis = session.get(PostRow, post_id), session.get(AnalysisRow, post_id)
    analysis.places = [str(p) for p in places_in(gazetteer, post.title, post.text)]
    if analysis.relevant:
        words = post_words(segmenter.cut(f"{post.title}\n{post.text}"))
        session.add_all(PostWordRow(post_id=post_id, word=w) for w in words)


def seed_analysed_day(session, config) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """``seed_day`` plus an event reposted by five sources, engagement, places and 30 days of baseline."""
    seed = Seed(session)
    ids = seed_day(seed, SEND_AT)
    h = lambda hours: SEND_AT - timedelta(hours=hours)  # noqa: E731
    # the event of seed_day gets two more reposts: by the government site and the social account
    for n, src in enumerate(["gov", "weibo"]):
        seed.post(
            f"深圳南山区民警殴打群众事件后续（{n + 1}）",
            "深圳市南山区公安分局通报：涉事民警已停职接受调查。",
            source=src,
            at=h(2 - n * 0.5),
            negative=n == 0,
            risk=2,
            event_id=ids["event"],
            topics={"police": ["民警", "公安"]},
        )
    engagement = {"likes": 120, "comments": 35, "reposts": 8, "views": 15000}
    for post in session.query(AnalysisRow).filter(AnalysisRow.event_id == ids["event"]):
        for name, value in engagement.items():
            setattr(session.get(PostRow, post.post_id), name, value)
    ids["changsha"] = seed.post(
        "长沙市岳麓区法院公开审理一起非法集资案",
        "湖南长沙岳麓区人民法院依法公开审理。",
        source="gov",
        at=h(3),
        topics={"courts": ["法院"]},
    )
    session.get(AnalysisRow, ids["changsha"]).negative_score = 0.35  # neither negative nor positive: 中性
    # 30 days of baseline: 60 relevant posts about courts, none about 殴打
    for n in range(60):
        seed.post(f"法院执行工作动态第{n}期", source="province", at=h(24 * (2 + n % 28)), topics={"courts": ["法院"]})
    gazetteer, segmenter = load_gazetteer(), build_segmenter(config)
    for post_id in [row.id for row in session.query(PostRow.id)]:
        if session.get(AnalysisRow, post_id) is not None:
            _analyse_like_the_job(session, gazetteer, segmenter, post_id)
    session.flush()
    return ids


def test_every_analysis_in_every_format(day_app: AppContext) -> None:
    from docx import Document

    with day_app.session() as session:
        ids = seed_analysed_day(session, day_app.config)
    d = build_digest(day_app, select_groups(day_app, "press-office")[0], SEND_AT, SEND_AT)
    a = d.analyses
    assert a is not None
    # sentiment of the 14 relevant posts: 9 negative, the Changsha trial neutral, the others positive
    assert [(s.label, s.count) for s in a.sentiment] == [("负面", 9), ("中性", 1), ("正面", 4)]
    assert a.relevant == 14 == next(c.value for c in d.summary if c.label == "相关")
    assert [(s.label, s.count) for s in a.media_types] == [("新闻", 9), ("政务", 2), ("社交", 1), ("论坛", 2)]
    assert a.media_levels[0].label == "中央级" and ("未知", 1) in [(s.label, s.count) for s in a.media_levels]
    # regions: 深圳 named in the posts, 长沙 in the trial, the rest by their source's region
    regions = {r.share.label: r for r in a.regions}
    assert regions["广东省"].share.count == 11 and regions["广东省"].cities[0].label == "深圳市"
    assert regions["湖南省"].cities[0].label == "长沙市"
    assert "北京市" not in regions and "未识别" in regions  # 人民网's region is 全国
    # 热词: 殴打 rises (never in the baseline), 法院 does not (it is in every baseline post)
    words = {t.word: t for t in a.hot_terms}
    assert "殴打" in words and words["殴打"].trend == "新出现" and "法院" not in words
    assert "前30日" in a.hot_note
    # the event: 首发 by the forum, reposted by five sources, engagement summed
    [event] = [e for e in a.events if e.id == ids["event"]]
    assert event.first_source == "本地论坛" and event.posts == 8 and event.sources == 6
    assert dict(event.reposts_by_level) == {"中央级": 1, "省级": 2, "市级": 3, "未知": 1}
    assert event.engagement_text == "点赞960，评论280，转发64，阅读12.0万"
    assert sum(n for _, n in event.hours) == 8 and event.peak
    # every format shows every analysis
    env = environment()
    html, text, md = digest_html(env, d), digest_text(env, d), digest_markdown(env, d)
    doc = Document(io.BytesIO(build_docx(d)))
    docx_text = "\n".join(
        [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    )
    for output in (html, text, docx_text):
        for expected in ("情感分布", "媒体分布", "地域分布", "热词", "政务", "湖南省", "长沙市", "殴打", "本地论坛"):
            assert expected in output, (expected, output[:200])
        assert "960" in output and "12.0万" in output and "新出现" in output
    for expected in ("负面9篇", "政务2篇", "广东省", "殴打", "960"):
        assert expected in md
    # each post once: the key negative post is shown in full once and referred to by id in the topics
    for output in (html, text, docx_text):
        assert f"另见上文：「#{ids['beating']}」" in output
        shown = re.findall(r"「#(\d+)」", re.sub(r"另见上文：(「#\d+」)+", "", output))
        assert len(shown) == len(set(shown)) and str(ids["beating"]) in shown  # no post shown twice


def test_shares_and_rising_terms_are_plain_arithmetic() -> None:
    assert [(s.label, s.percent) for s in shares({"b": 1, "a": 3}, ["b"])] == [("b", 25.0), ("a", 75.0)]
    assert shares({}) == []
    # 6 of 20 posts today, 3 of 600 over the baseline: far more frequent; 10 of 20 against 300 of 600: flat
    terms = rising_terms({"殴打": 6, "法院": 10, "少见": 2}, 20, {"殴打": 3, "法院": 300}, 600)
    assert [t.word for t in terms] == ["殴打"] and terms[0].ratio > 20
