"""The topic rule language: parsing, precedence, negation, proximity, errors with positions."""

from __future__ import annotations

import pytest

from config.ruleparse import parse
from config.topics_model import TopicsFile
from nlp.rules import compile_topics, evaluate
from nlp.segment import normalize
from yuqing.base.errors import RuleSyntaxError

LISTS = {"机关": ["公安", "民警", "法院"]}


def holds(expr: str, text: str, title: str = "") -> bool:
    """Compile a one-topic config whose rule is ``expr`` and match one post."""
    topics = TopicsFile.model_validate(
        {"lists": LISTS, "topics": [{"id": "t", "name": "T", "keywords": ["[any]"], "expr": expr}]}
    )
    ruleset = compile_topics(topics)
    hits = ruleset.scan(normalize(title), normalize(text))
    return evaluate(ruleset.topics[0].expr, hits)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expr", "text", "expected"),
    [
        ("a | b & c", "a", True),  # & binds tighter than |: a | (b & c)
        ("a | b & c", "b", False),
        ("(a | b) & c", "a", False),
        ("(a | b) & c", "bc", True),
        ("!a & b", "b", True),  # ! binds tighter than &
        ("!a & b", "ab", False),
        ("!(a & b)", "ab", False),
        ("!(a & b)", "a", True),
        ("!!a", "a", True),
        ("a NEAR/2 b | c", "c", True),  # NEAR binds tighter than |
        ("a NEAR/2 b & c", "a12b c", True),  # … and tighter than &
        ("a NEAR/2 b & c", "a123b c", False),
    ],
)
def test_precedence_and_negation(expr: str, text: str, expected: bool) -> None:
    assert holds(expr, text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("民警殴打", True),  # adjacent: 0 characters apart
        ("民警上前殴打", True),  # 2 apart
        ("民警上前一步殴打", True),  # 4 apart
        ("民警上前一步后殴打", False),  # 5 apart
        ("殴打他的民警", True),  # either order
    ],
)
def test_near_counts_characters_between_terms(text: str, expected: bool) -> None:
    assert holds("民警 NEAR/4 殴打", text) is expected


def test_near_stays_within_one_field() -> None:
    assert not holds("民警 NEAR/4 殴打", "殴打", title="民警")
    assert holds("民警 NEAR/4 殴打", "民警殴打", title="x")


def test_near_with_lists_and_groups() -> None:
    assert holds("@机关 NEAR/3 (殴打 | 打人)", "法院门口打人")
    assert not holds("@机关 NEAR/3 (殴打 | 打人)", "法院门口附近有人打人")


def test_quoted_phrase_with_spaces_and_operators() -> None:
    assert holds('"a & b" | x', "a & b")
    assert not holds('"a & b"', "a b")


def test_full_width_rule_and_text() -> None:
    assert holds("ＡＢＣ & 民警", "abc民警")
    assert holds("abc NEAR/1 民警", "ＡＢＣ，民警")
    assert holds("Ｗｅｉｂｏ", "weibo")


def test_shipped_expression_parses_and_matches(ruleset, segmenter) -> None:  # type: ignore[no-untyped-def]
    def topics(title: str, text: str) -> list[str]:
        return [m.topic for m in ruleset.match(segmenter.normalize(title), segmenter.normalize(text))]

    assert "violent-enforcement" in topics("", "网传两名民警在路边殴打一名老人")
    assert "violent-enforcement" not in topics(
        "", "民警今天破获一起盗窃案件，追回被盗的电动车三辆。另据报道，三天前两名男子在酒吧殴打他人"
    )
    assert "violent-enforcement" in topics("", "有人投诉暴力执法")
    assert "violent-enforcement" not in topics("", "电影里警察殴打坏人")  # excluded
    assert "corruption" not in topics("", "某公司老板行贿")  # expr needs @政法机关
    assert "corruption" in topics("", "某法官受贿")


def test_full_width_post_matches_with_positions(ruleset, segmenter) -> None:  # type: ignore[no-untyped-def]
    text = "網友：１１０報警後，民警不出警"
    [police] = [m for m in ruleset.match("", segmenter.normalize(text)) if m.topic == "police"]
    hit = next(t for t in police.terms if t["term"] == "110报警")
    assert text[hit["start"] : hit["end"]] == "１１０報警"
    assert hit["field"] == "text"


def test_topic_rules_any_all_exclude() -> None:
    topics = TopicsFile.model_validate(
        {
            "topics": [
                {"id": "t", "name": "T", "keywords": ["a", "b"], "all": ["c"], "exclude": ["x"]},
                {"id": "off", "name": "Off", "keywords": ["a"], "enabled": False},
            ]
        }
    )
    ruleset = compile_topics(topics)
    assert [m.topic for m in ruleset.match("a", "c")] == ["t"]
    assert ruleset.match("a", "") == []  # `all` missing
    assert ruleset.match("a c", "x") == []  # excluded
    assert ruleset.match("", "c") == []  # no keyword


PARSE_ERRORS = [
    ("", 0, "empty expression"),
    ("a & ", 4, "expression ends too early"),
    ("a b", 2, "missing operator"),
    ("(a | b", 6, "missing )"),
    ("a | b)", 5, "unbalanced )"),
    ('a & "b', 4, "unclosed quote"),
    ('a & ""', 4, "empty quoted phrase"),
    ("a & @", 4, "@ must be followed by a list name"),
    ("a & @无此表", 4, 'unknown list "@无此表"'),
    ("a NEAR b", 2, "NEAR needs a distance"),
    ("NEAR/3 b", 0, "NEAR needs a term on its left"),
    ("(a & b) NEAR/3 c", 0, "a NEAR operand must be"),
    ("a NEAR/3 !b", 9, "a NEAR operand must be"),
    ("a NEAR/3 b NEAR/3 c", 11, "NEAR cannot be chained"),
    ("& a", 0, 'unexpected "&"'),
    ("a | | b", 4, 'unexpected "|"'),
]


@pytest.mark.parametrize(("expr", "position", "message"), PARSE_ERRORS)
def test_parse_errors_carry_position(expr: str, position: int, message: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse(expr, LISTS)
    assert info.value.position == position
    assert message in info.value.message
    assert info.value.hint


def test_config_validation_reports_expression_with_location() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        TopicsFile.model_validate(
            {
                "lists": LISTS,
                "topics": [
                    {"id": "ok", "name": "OK", "keywords": ["a"], "expr": "@机关"},
                    {"id": "bad", "name": "Bad", "keywords": ["a"], "expr": "@机关 & (打人 |"},
                ],
            }
        )
    [error] = info.value.errors()
    assert error["loc"] == ("topics", 1, "expr")
    assert "position 11" in error["msg"]


def test_config_check_prints_file_and_line(config_dir) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from yuqing.cli import cli

    path = config_dir / "topics.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('expr: "@政法机关"', 'expr: "@政法机关 & (打人"', 1), encoding="utf-8")
    line = text.splitlines().index('    expr: "@政法机关"') + 1
    result = CliRunner().invoke(cli, ["--config", str(config_dir), "config", "check"])
    assert result.exit_code == 1
    assert (
        f"topics.yaml:{line}: topics[5] (id: unfair-enforcement).expr: rule expression error at position 11: missing )"
        in result.output
    )


def test_rules_version_changes_with_topics(shipped_topics) -> None:  # type: ignore[no-untyped-def]
    first = compile_topics(shipped_topics).version
    changed = shipped_topics.model_copy(update={"stopwords": [*shipped_topics.stopwords, "呢"]})
    assert compile_topics(shipped_topics).version == first
    assert compile_topics(changed).version != first
