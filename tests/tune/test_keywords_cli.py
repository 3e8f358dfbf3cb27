"""The keyword commands end to end: import/export, warnings, refusal, audit history."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session

from config import load_config
from storage.db import make_engine
from storage.repo import insert_post
from yuqing.base.post import Post
from yuqing.cli import cli


@pytest.fixture
def yq(config_dir: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, ["--config", str(config_dir), *args], input=input)

    assert invoke("init").exit_code == 0
    return invoke


def topic(config_dir: Path, topic_id: str):  # type: ignore[no-untyped-def]
    return load_config(config_dir, {}).topics.get(topic_id)


def test_add_and_remove_are_applied_and_audited(yq, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    result = yq("keywords", "add", "courts", "枉法裁判", "ＡＢＣ法官", "--by", "张三")
    assert result.exit_code == 0, result.output
    assert "added 2" in result.output
    assert {"枉法裁判", "ABC法官"} <= set(topic(config_dir, "courts").keywords)  # full width folded
    assert yq("keywords", "remove", "courts", "枉法裁判").exit_code == 0
    assert "枉法裁判" not in topic(config_dir, "courts").keywords
    history = yq("topics", "history", "courts")
    lines = history.output.splitlines()
    assert len(lines) == 2
    assert "keywords.remove" in lines[0] and "张三" in lines[1] and "keywords.add" in lines[1]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00  ", lines[0])  # configured timezone, labelled


def test_refused_edit_leaves_file_identical(yq, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    before = (config_dir / "topics.yaml").read_bytes()
    result = yq("keywords", "remove", "plac", "政法委", "政法委员会", "政法队伍", "政法干警", "综治中心", "平安建设")
    assert result.exit_code == 1
    assert "keywords: must be a non-empty list of strings" in result.output
    assert "unchanged" in result.output
    assert (config_dir / "topics.yaml").read_bytes() == before
    assert "no changes recorded" in yq("topics", "history").output


def test_too_short_or_too_common_keywords_warn_before_applying(yq, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(load_config(config_dir, {}).database_url)
    with Session(engine) as session:
        for n in range(20):
            text = "今天天气晴" if n % 2 else "市民反映情况"
            insert_post(
                session, Post("s", f"https://e.cn/{n}", f"帖子{n}", text, fetched_at=datetime.now(timezone.utc))
            )
        session.commit()
    before = (config_dir / "topics.yaml").read_bytes()
    result = yq("keywords", "add", "police", "天气")
    assert result.exit_code == 1
    assert '"天气" matches 10 of 20 posts' in result.output
    assert (config_dir / "topics.yaml").read_bytes() == before
    result = yq("keywords", "add", "police", "天气", "--yes")
    assert result.exit_code == 0 and "天气" in topic(config_dir, "police").keywords
    assert "single character" in yq("keywords", "add", "police", "警").output


def test_import_gbk_txt(yq, config_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "敏感词.txt"
    path.write_bytes("# 新增敏感词\n刑訊逼供\n暴力抗法\n\n暴力抗法\n罚款不开票\n".encode("gbk"))
    result = yq("keywords", "import", "violent-enforcement", str(path), "--by", "李四")
    assert result.exit_code == 0, result.output
    assert "3 keyword(s) read (gb18030), 1 duplicate(s) dropped" in result.output
    assert "刑訊逼供 → 刑讯逼供" in result.output
    keywords = topic(config_dir, "violent-enforcement").keywords
    assert keywords[-2:] == ["暴力抗法", "罚款不开票"] and keywords.count("刑讯逼供") == 1


def test_import_xlsx_and_export_round_trip(yq, config_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    book = Workbook()
    book.active.append(["序号", "关键词", "备注"])
    for n, word in enumerate(["造谣", "谣言", "不实信息"], 1):
        book.active.append([n, word, "宣传处"])
    book.save(tmp_path / "words.xlsx")
    dry = yq("keywords", "import", "plac", str(tmp_path / "words.xlsx"), "--dry-run")
    assert "would add 3" in dry.output and "造谣" not in topic(config_dir, "plac").keywords
    assert yq("keywords", "import", "plac", str(tmp_path / "words.xlsx")).exit_code == 0
    assert topic(config_dir, "plac").keywords[-3:] == ["造谣", "谣言", "不实信息"]
    for suffix in ("txt", "csv", "xlsx"):
        out = tmp_path / f"plac.{suffix}"
        assert yq("keywords", "export", "plac", str(out)).exit_code == 0
    assert (tmp_path / "plac.txt").read_text(encoding="utf-8").splitlines() == topic(config_dir, "plac").keywords
    rows = [r[0] for r in load_workbook(tmp_path / "plac.xlsx").active.iter_rows(values_only=True)]
    assert rows[0] == "关键词" and rows[1:] == topic(config_dir, "plac").keywords
    assert (tmp_path / "plac.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_topics_add_disable_rename(yq, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    assert yq("topics", "add", "rumours", "--name", "涉警谣言", "-k", "造谣", "--expr", "@政法机关").exit_code == 0
    assert yq("topics", "disable", "rumours").exit_code == 0
    assert yq("topics", "rename", "rumours", "网络谣言").exit_code == 0
    made = topic(config_dir, "rumours")
    assert made.name == "网络谣言" and not made.enabled and made.expr == "@政法机关"
    assert "rumours" in yq("topics", "list").output
    duplicate = yq("topics", "add", "rumours", "--name", "x", "-k", "y")
    assert duplicate.exit_code == 1 and "exists already" in duplicate.output


def test_topics_list_never_cuts_an_id(config_dir: Path) -> None:
    """Ids are what admins type: whole on an 80-column terminal, one line per topic."""
    result = CliRunner().invoke(cli, ["--config", str(config_dir), "topics", "list"], terminal_width=80)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for topic in load_config(config_dir).topics.topics:
        assert any(line.split()[0] == topic.id for line in lines[1:]), topic.id


def test_keyword_that_cannot_fire_warns_with_the_reason(yq, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    before = (config_dir / "topics.yaml").read_bytes()
    result = yq("keywords", "add", "violent-enforcement", "电影院打人")
    assert result.exit_code == 1
    assert 'Warning: "电影院打人" contains the exclusion word "电影" of violent-enforcement' in result.output
    assert "can never match" in result.output and (config_dir / "topics.yaml").read_bytes() == before
    path = config_dir / "topics.yaml"  # an old-style topic: its expression ignores its keywords
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\n  - id: old\n    name: 旧\n    keywords: [殴打]\n    expr: "@政法机关 NEAR/30 (殴打 | 打人)"\n',
        encoding="utf-8",
    )
    old = yq("keywords", "add", "old", "推搡")
    assert old.exit_code == 1 and 'does not mention "推搡"' in old.output and "`context:`" in old.output
    silenced = yq("keywords", "add", "police", "警", "--exclude")
    assert silenced.exit_code == 1 and 'the exclusion "警" is part of the keyword(s) 民警、' in silenced.output
