"""Editing topics.yaml in place: comments and layout survive byte for byte outside the edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.edit import apply_edit, edit_text
from config.topics_edit import add_topic, add_words, remove_words, set_field
from yuqing.base.errors import ConfigError, YuqingError

COMMENTED = """\
# 政法舆情 keyword lists — maintained by the press office.   
# Reviewed weekly; ask 李科长 before removing anything.

dictionary: [政法委]  # extra words for the segmenter

lists:
  机关:   # police and courts
    - 公安
    - 法院      # courts too
  # long flow lists an admin wrapped by hand
  风险: [打人, 殴打, 推搡,
      掐脖子, 踢打]

topics:
  # ---- police -----------------------------------------
  - id: police
    name: 公安   # shown in the digest
    weight: 1.0
    keywords:
      - 公安    # the institution
      - 民警
      # 辅警 added after the 2024 review
      - 辅警
    exclude: [演习,    电视剧]   # odd spacing kept

  # ---- courts -----------------------------------------
  - id: courts
    name: "法院"
    keywords: [法院, 法官]
    expr: '@机关'

# trailing comment at the end of the file
"""


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    import difflib

    removed, added = [], []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0):
        if line.startswith("-") and not line.startswith("---"):
            removed.append(line[1:])
        elif line.startswith("+") and not line.startswith("+++"):
            added.append(line[1:])
    return removed, added


def test_adding_to_a_block_list_changes_only_that_list() -> None:
    after = edit_text(COMMENTED, lambda doc: add_words(doc, "police", ["警察"]))
    removed, added = changed_lines(COMMENTED, after)
    assert removed == [] and added == ["      - 警察"]
    assert after.replace("      - 警察\n", "") == COMMENTED


def test_adding_to_a_flow_list_keeps_everything_else_byte_for_byte() -> None:
    after = edit_text(COMMENTED, lambda doc: add_words(doc, "courts", ["审判"]))
    removed, added = changed_lines(COMMENTED, after)
    assert removed == ["    keywords: [法院, 法官]"]
    assert added == ["    keywords: [法院, 法官, 审判]"]


def test_editing_a_hand_wrapped_list_rewrites_only_that_list() -> None:
    after = edit_text(COMMENTED, lambda doc: doc["lists"]["风险"].append("掌掴"))
    removed, added = changed_lines(COMMENTED, after)
    assert removed == ["  风险: [打人, 殴打, 推搡,", "      掐脖子, 踢打]"]
    assert added == ["  风险: [打人, 殴打, 推搡, 掐脖子, 踢打, 掌掴]"]


def test_removing_and_disabling_keep_comments() -> None:
    after = edit_text(COMMENTED, lambda doc: remove_words(doc, "police", ["民警"]))
    removed, added = changed_lines(COMMENTED, after)
    assert removed == ["      - 民警"] and added == []
    after = edit_text(COMMENTED, lambda doc: set_field(doc, "police", "enabled", False))
    removed, added = changed_lines(COMMENTED, after)
    assert removed == [] and added == ["    enabled: false"]
    assert after.index("enabled: false") < after.index("weight: 1.0")  # at its conventional place


def test_new_topic_is_appended_and_the_rest_is_unchanged() -> None:
    after = edit_text(COMMENTED, lambda doc: add_topic(doc, "rumours", "涉警谣言", ["造谣", "谣言"], expr="@机关"))
    removed, added = changed_lines(COMMENTED, after)
    assert removed == []
    assert added[:3] == ["  - id: rumours", "    name: 涉警谣言", "    keywords: [造谣, 谣言]"]
    assert "# trailing comment at the end of the file" in after


def test_unknown_topic_names_the_topics_there_are() -> None:
    with pytest.raises(YuqingError, match='no topic "polise"') as info:
        edit_text(COMMENTED, lambda doc: add_words(doc, "polise", ["x"]))
    assert "police, courts" in (info.value.hint or "")


def test_an_invalid_edit_leaves_the_file_identical(config_dir: Path) -> None:
    path = config_dir / "topics.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    original = path.read_bytes()
    with pytest.raises(ConfigError) as info:
        apply_edit(config_dir, "topics.yaml", lambda doc: remove_words(doc, "courts", ["法院", "法官"]), {})
    assert "topics[1] (id: courts).keywords: must be a non-empty list of strings" in str(info.value.issues[0])
    assert path.read_bytes() == original
    assert sorted(p.name for p in config_dir.iterdir() if p.name.startswith(".")) == []  # no temp file left


def test_a_valid_edit_is_written(config_dir: Path) -> None:
    path = config_dir / "topics.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    path.chmod(0o640)
    apply_edit(config_dir, "topics.yaml", lambda doc: add_words(doc, "police", ["警察"]), {})
    assert "      - 警察\n" in path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o777 == 0o640
