"""``yuqing rules test`` and ``rules backtest``: exact counts on a seeded database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from config import load_config
from storage.db import make_engine
from storage.models import AnalysisRow
from storage.repo import insert_post
from yuqing.base.post import Post
from yuqing.cli import cli

NOW = datetime.now(timezone.utc)
# (title, text, days ago, negative, risk level)
POSTS = [
    ("派出所民警救助落水儿童", "民警跳江救人", 1, False, 0),
    ("辅警推搡老人引关注", "城关派出所辅警在菜市场推搡老人", 1, True, 3),
    ("辅警参与强拆", "两名辅警推倒业主", 2, True, 2),
    ("交警执法不公", "交警只罚外地车", 3, True, 1),
    ("警察故事电影重映", "派出所题材电影", 2, False, 0),
    ("辅警招聘公告", "县公安局招聘辅警20名", 4, False, 0),
    ("旧闻：辅警打人", "辅警打人旧案", 30, True, 3),  # outside --days 7
    ("天气预报", "明日降温", 1, False, 0),
]


@pytest.fixture
def yq(config_dir: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["--config", str(config_dir), *args])

    assert invoke("init").exit_code == 0
    engine = make_engine(load_config(config_dir, {}).database_url)
    with Session(engine) as session:
        for n, (title, text, days, negative, risk) in enumerate(POSTS):
            when = NOW - timedelta(days=days)
            post_id = insert_post(
                session, Post("forum", f"https://bbs.example.cn/t/{n}", title, text, published_at=when, fetched_at=when)
            )
            session.add(
                AnalysisRow(
                    post_id=post_id,
                    analyzed_at=NOW,
                    negative=negative,
                    risk_level=risk,
                    negative_score=0.9 if negative else 0.1,
                )
            )
        session.commit()
    engine.dispose()
    return invoke


def test_rules_test_matches_and_highlights(yq) -> None:  # type: ignore[no-untyped-def]
    hit = yq("rules", "test", "police", "--title", "派出所民警救人", "今天")
    assert hit.exit_code == 0 and hit.output.startswith("MATCH police: 派出所、民警")
    miss = yq("rules", "test", "police", "警察故事电影重映，派出所题材")  # excluded by 警察故事
    assert miss.exit_code == 1 and "no match" in miss.output


def test_backtest_counts_are_exact(yq) -> None:  # type: ignore[no-untyped-def]
    result = yq(
        "rules",
        "backtest",
        "police",
        "--remove",
        "辅警",
        "--remove",
        "交警",
        "--add",
        "推倒",
        "--add",
        "降温",
        "--exclude",
        "招聘",
        "--days",
        "7",
    )
    assert result.exit_code == 0, result.output
    out = result.output
    # police (辅警, 交警, 派出所, 民警, 公安局 … excluding 警察故事) before: posts 0,1,2,3,5 -> 5
    # after: 0 (民警), 1 (派出所), 2 (推倒), 7 (降温); 3 lost 交警, 5 excluded by 招聘 -> 4
    assert "7 posts of the last 7 days scanned" in out
    assert "matched before: 5   after: 4   change: -1" in out
    assert "newly matched: 1 post(s), 0 negative, 0 high-risk" in out
    assert "no longer matched: 2 post(s), 1 negative, 0 high-risk" in out
    assert "https://bbs.example.cn/t/3" in out and "https://bbs.example.cn/t/5" in out
    assert "https://bbs.example.cn/t/7" in out and "https://bbs.example.cn/t/6" not in out


def test_backtest_apply_writes_the_change(yq, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    assert (
        yq("rules", "backtest", "police", "--add", "推倒", "--exclude", "招聘", "--apply", "--by", "王五").exit_code
        == 0
    )
    topic = load_config(config_dir, {}).topics.get("police")
    assert "推倒" in topic.keywords and "招聘" in topic.exclude
    assert "王五" in yq("topics", "history", "police").output


def test_bad_expression_is_refused_with_position(yq) -> None:  # type: ignore[no-untyped-def]
    result = yq("rules", "backtest", "police", "--expr", "(民警 & ")
    assert result.exit_code == 1 and "position" in result.output and "Traceback" not in result.output


def test_added_keyword_fires_under_the_topics_context(yq) -> None:  # type: ignore[no-untyped-def]
    """The issue's case: a keyword added to a topic with a context makes posts containing it match."""
    text = "网传辅警推搡老人，视频显示其动手推搡"
    before = yq("rules", "test", "violent-enforcement", text)
    assert before.exit_code == 1 and "no keyword found (keywords: 殴打、" in before.output
    added = yq("keywords", "add", "violent-enforcement", "推搡", "掐脖子", "--max-share", "0.5")
    assert added.exit_code == 0, added.output
    after = yq("rules", "test", "violent-enforcement", text)
    assert after.exit_code == 0 and after.output.startswith("MATCH violent-enforcement: 辅警、推搡")
    far = yq("rules", "test", "violent-enforcement", "辅警在维持秩序。" + "现场" * 20 + "两名男子互相推搡")
    assert far.exit_code == 1
    assert 'keyword "推搡" found, but no term of @政法机关 within 30 characters (the closest is 52' in far.output


def test_rules_test_explains_exclusions(yq) -> None:  # type: ignore[no-untyped-def]
    result = yq("rules", "test", "violent-enforcement", "电影里民警殴打坏人")
    assert result.exit_code == 1 and '  - excluded by "电影"' in result.output
