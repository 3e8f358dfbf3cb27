"""The console shows ``nlp``'s and ``storage``'s English explanations and warnings in Chinese
(``web.zh``), matched by their wording. Each message is produced here by the code that writes it,
so a reworded message that the console would show in English fails this test."""

from __future__ import annotations

import re

import pytest

from config.topics_model import TopicsFile
from nlp import tuning
from nlp.labels import record_label
from nlp.rules import compile_topics, exclusion_warnings, explain, keyword_warnings
from storage.users import add_user, check_unit, set_password
from tests.nlp.test_rules import CONTEXT_TOPICS, LISTS
from tests.web.webtestlib import NOW, Site
from web.zh import zh
from yuqing.base.errors import YuqingError

ENGLISH = re.compile(r"\b(?:the|keyword|found|word|is|of|posts?|user|topic|unknown|no)\b")


def in_chinese(message: str) -> bool:
    shown = zh(message)
    return shown != message and re.search(r"[\u4e00-\u9fff]", shown) is not None and not ENGLISH.search(shown)


def rule_messages() -> list[str]:
    context = compile_topics(TopicsFile.model_validate(CONTEXT_TOPICS))
    expr_topics = TopicsFile.model_validate(
        {
            "lists": LISTS,
            "topics": [
                {
                    "id": "old",
                    "name": "Old",
                    "keywords": ["殴打", "推搡", "电影院打人"],
                    "all": ["现场"],
                    "exclude": ["电影", "警察故事"],
                    "expr": "@机关 NEAR/5 殴打",
                },
                {"id": "bad", "name": "Bad", "keywords": ["a"], "all": ["电影票"], "exclude": ["电影"]},
                {"id": "off", "name": "Off", "keywords": ["a"], "enabled": False},
            ],
        }
    )
    rules = compile_topics(expr_topics)
    messages = [
        *explain(context, "v", "", "今天天气晴"),
        *explain(context, "v", "", "辅警在现场。十多分钟后两名男子推搡老人"),
        *explain(context, "v", "", "两名男子推搡老人"),
        *explain(context, "v", "民警", "有人推搡老人"),
        *explain(context, "v", "", "电影里民警殴打坏人"),
        *explain(context, "v", "", "民警殴打他人的，依照本法处罚"),
        *explain(rules, "old", "", "殴打"),
        *explain(rules, "off", "", "a"),
        *keyword_warnings(rules, "old", ["推搡", "殴打", "电影院打人", "警察"]),
        *keyword_warnings(rules, "bad", []),
        *keyword_warnings(context, "v", ["电", "电影"]),
        *exclusion_warnings(expr_topics.topics[0], ["打"]),
    ]
    return messages


def test_every_rule_explanation_and_warning_has_its_chinese() -> None:
    messages = rule_messages()
    kinds = {
        "no keyword found",
        "the closest is",
        "none in the post",
        "none in the same field",
        "excluded by",
        "expression false",
        "`all` word",
        "is not enabled",
        "does not mention",
        "on its own",
        "contains the exclusion word",
        "is part of the exclusion word",
        "is also an exclusion word",
        "the `all` word",
        "is part of the keyword(s)",
    }
    assert {k for k in kinds if any(k in m for m in messages)} == kinds  # every kind was produced
    assert [m for m in messages if not in_chinese(m)] == []


def test_tuning_and_user_errors_have_their_chinese(sqlite_site: Site) -> None:
    app = sqlite_site.app
    messages = tuning.keyword_warnings(app, ["警", "民警"], max_share=0.0, now=NOW)
    assert any("single character" in m for m in messages) and any("too common" in m for m in messages)
    with app.session() as session:
        for call in (
            lambda: add_user(session, "two words", role="analyst", unit=None, password="x" * 12, by="t", now=NOW),
            lambda: add_user(session, "new", role="boss", unit=None, password="x" * 12, by="t", now=NOW),
            lambda: add_user(session, "new", role="analyst", unit=None, password="x", by="t", now=NOW),
            lambda: add_user(session, "admin", role="analyst", unit=None, password="x" * 12, by="t", now=NOW),
            lambda: set_password(session, "nobody", "x" * 12, by="t", now=NOW),
            lambda: check_unit("mars", ["shenzhen"]),
            lambda: tuning.get_topic(app.config, "zz9"),
            lambda: record_label(
                session, 1, topic=None, relevant=None, negative=None, by="t", now=NOW, known_topics={"a"}
            ),
            lambda: record_label(
                session, 10**9, topic=None, relevant=False, negative=None, by="t", now=NOW, known_topics={"a"}
            ),
            lambda: record_label(
                session, 1, topic="zz9", relevant=False, negative=None, by="t", now=NOW, known_topics={"a"}
            ),
            lambda: record_label(
                session,
                1,
                topic="a",
                relevant=False,
                negative=None,
                by="t",
                now=NOW,
                known_topics={"a"},
                matched_topics=[],
            ),
        ):
            with pytest.raises(YuqingError) as caught:
                call()
            messages.append(caught.value.message)
    assert [m for m in messages if not in_chinese(m)] == []
