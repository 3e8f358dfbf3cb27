"""The topic rule language: parsing, precedence, negation, proximity, errors with positions."""

from __future__ import annotations

import pytest

from config.ruleparse import parse
from config.topics_model import TopicsFile
from nlp.rules import compile_topics, evaluate, explain, keyword_warnings
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
    path.write_text(text.replace('\n    expr: "!@法规条文"', '\n    expr: "!@法规条文 & (打人"', 1), encoding="utf-8")
    line = text.splitlines().index('    expr: "!@法规条文"') + 1
    result = CliRunner().invoke(cli, ["--config", str(config_dir), "config", "check"])
    assert result.exit_code == 1
    assert (
        f"topics.yaml:{line}: topics[5] (id: unfair-enforcement).expr: rule expression error at position 12: missing )"
        in result.output
    )


def test_rules_version_changes_with_topics(shipped_topics) -> None:  # type: ignore[no-untyped-def]
    first = compile_topics(shipped_topics).version
    changed = shipped_topics.model_copy(update={"stopwords": [*shipped_topics.stopwords, "呢"]})
    assert compile_topics(shipped_topics).version == first
    assert compile_topics(changed).version != first


CONTEXT_TOPICS = {
    "lists": {"机关": ["公安", "民警", "辅警", "法院"], "条文": ["本法"]},
    "topics": [
        {
            "id": "v",
            "name": "V",
            "keywords": ["殴打", "推搡"],
            "standalone": ["暴力执法"],
            "context": {"terms": "@机关", "within": 10},
            "exclude": ["电影"],
            "expr": "!@条文",
        }
    ],
}


def context_rules():  # type: ignore[no-untyped-def]
    return compile_topics(TopicsFile.model_validate(CONTEXT_TOPICS))


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("", "辅警推搡老人", True),  # 0 characters apart
        ("", "推搡老人的是一名辅警", True),  # either order: 6 apart
        ("", "辅警在现场。十多分钟后两名男子推搡老人", False),  # 13 apart
        ("民警", "有人推搡老人", False),  # the context must be in the same field
        ("", "有人投诉暴力执法", True),  # standalone: no context needed
        ("", "电影里民警殴打坏人", False),  # excluded
        ("", "民警殴打他人的，依照本法处罚", False),  # the expression rules out law texts
        ("", "没有任何关键词", False),
    ],
)
def test_context_applies_to_the_keywords(title: str, text: str, expected: bool) -> None:
    assert bool(context_rules().match(title, text)) is expected


def test_context_terms_are_highlighted_with_the_keyword() -> None:
    [match] = context_rules().match("", "辅警推搡老人")
    assert [(t["term"], t["start"]) for t in match.terms] == [("辅警", 0), ("推搡", 2)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("今天天气晴", "no keyword found (keywords: 殴打、推搡、暴力执法)"),
        (
            "辅警在现场。十多分钟后两名男子推搡老人",
            'keyword "推搡" found, but no term of @机关 within 10 characters (the closest is 13 characters away)',
        ),
        ("两名男子推搡老人", 'keyword "推搡" found, but no term of @机关 within 10 characters (none in the post)'),
        ("电影里民警殴打坏人", 'excluded by "电影"'),
        ("民警殴打他人的，依照本法处罚", "expression false: !@条文"),
    ],
)
def test_explain_names_the_failed_condition(text: str, reason: str) -> None:
    assert explain(context_rules(), "v", "", text) == [reason]
    assert explain(context_rules(), "v", "", "辅警推搡老人") == []


def test_explain_missing_all_word() -> None:
    topics = TopicsFile.model_validate({"topics": [{"id": "t", "name": "T", "keywords": ["a"], "all": ["c"]}]})
    assert explain(compile_topics(topics), "t", "", "a") == ['`all` word "c" missing']


def test_old_expression_still_works_alongside_context() -> None:
    """A user file written for grammar 1 (expr only, no context) keeps its meaning."""
    topics = TopicsFile.model_validate(
        {
            "lists": LISTS,
            "topics": [{"id": "t", "name": "T", "keywords": ["殴打", "受贿"], "expr": "@机关 NEAR/5 殴打 | 受贿"}],
        }
    )
    rules = compile_topics(topics)
    assert rules.match("", "民警殴打老人") and rules.match("", "有人受贿") and not rules.match("", "男子殴打老人")


def test_context_errors_name_the_list_and_the_fix() -> None:
    from pydantic import ValidationError

    bad = {**CONTEXT_TOPICS, "topics": [{**CONTEXT_TOPICS["topics"][0], "context": {"terms": "@无此表"}}]}
    with pytest.raises(ValidationError) as info:
        TopicsFile.model_validate(bad)
    [error] = info.value.errors()
    assert error["loc"] == ("topics", 0, "context", "terms")
    assert "unknown list @无此表" in error["msg"] and "@机关" in error["msg"]
    alone = {"topics": [{"id": "t", "name": "T", "keywords": ["a"], "standalone": ["b"]}]}
    with pytest.raises(ValidationError, match="move them to `keywords`"):
        TopicsFile.model_validate(alone)
    with pytest.raises(ValidationError, match="within"):
        TopicsFile.model_validate(
            {**bad, "topics": [{**bad["topics"][0], "context": {"terms": "@机关", "within": -1}}]}
        )


def test_keyword_warnings_say_why_a_keyword_cannot_fire() -> None:
    topics = TopicsFile.model_validate(
        {
            "lists": LISTS,
            "topics": [
                {
                    "id": "old",
                    "name": "Old",
                    "keywords": ["殴打", "推搡", "电影院打人"],
                    "exclude": ["电影", "警察故事"],
                    "expr": "@机关 NEAR/5 殴打",
                }
            ],
        }
    )
    rules = compile_topics(topics)
    [expr] = keyword_warnings(rules, "old", ["推搡"])
    assert 'does not mention "推搡"' in expr and "`context:`" in expr
    contains, *_ = keyword_warnings(rules, "old", ["电影院打人"])
    assert 'contains the exclusion word "电影"' in contains
    [part] = keyword_warnings(compile_topics(TopicsFile.model_validate(CONTEXT_TOPICS)), "v", ["电"])
    assert 'part of the exclusion word "电影"' in part
    assert keyword_warnings(compile_topics(TopicsFile.model_validate(CONTEXT_TOPICS)), "v", ["推搡"]) == []


def test_shipped_risk_topics_need_a_political_legal_body(ruleset, segmenter) -> None:  # type: ignore[no-untyped-def]
    def topics(text: str) -> set[str]:
        return {m.topic for m in ruleset.match("", segmenter.normalize(text))}

    assert "protective-umbrella" in topics("群众举报某派出所所长充当涉黑团伙保护伞")
    assert "protective-umbrella" not in topics("县环保局在办理环评时渎职，让污染企业带上了保护伞")
    assert "corruption" in topics("最高检通报：某检察官受贿案")  # 最高检 is a body now
    police_success = "警方破获冒充公检法电信诈骗团伙，打掉涉黑涉恶犯罪团伙，民警将嫌疑人按倒在地，追缴受贿赃款"
    assert topics(police_success) & RISK_TOPICS == set()
    law = "第二百四十七条 司法工作人员对犯罪嫌疑人实行刑讯逼供的，处三年以下有期徒刑。本法所称司法工作人员，是指有侦查、检察、审判、监管职责的工作人员；受贿、徇私枉法、不作为的，依照本法处罚"
    assert topics(law) & RISK_TOPICS == set()


RISK_TOPICS = {
    "unfair-enforcement",
    "violent-enforcement",
    "wrongful-convictions",
    "discipline",
    "corruption",
    "inaction",
    "protective-umbrella",
    "judicial-interference",
    "illegal-business",
    "sentence-reduction",
    "case-suppression",
}


def test_ignored_spans_do_not_count(ruleset, segmenter) -> None:  # type: ignore[no-untyped-def]
    text = segmenter.normalize("路过公安分局宿舍，民警殴打老人")
    assert {m.topic for m in ruleset.match("", text)} == {"police", "violent-enforcement"}
    police = text.index("民警")
    # the only body next to 殴打 ignored: the context condition fails, the institution topic too
    ignored = [("text", text.index("公安分局"), text.index("公安分局") + 4), ("text", police, police + 2)]
    assert ruleset.match("", text, ignore=ignored) == []
    assert {m.topic for m in ruleset.match("", text, ignore=ignored[:1])} == {"police", "violent-enforcement"}
