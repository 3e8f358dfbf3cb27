"""Negativity toward the office (nlp/stance.py): who does what to whom, not the post's mood."""

from __future__ import annotations

import pytest

from nlp.analyzer import Analyzer
from nlp.stance import DEFAULT_WEIGHTS, FEATURES, Stance, body_terms, build_stance, clauses, fit_stance, read_roles

SUCCESS = (
    "冒充公检法电诈团伙被端",
    "近日，江门警方接到一名72岁事主报警，称其被冒充公检法的诈骗团伙骗走上百万元。民警迅速侦查，"
    "成功打掉该电诈团伙，抓获犯罪嫌疑人12名。",
)
REQUEST = (
    "请A市严打涉嫌传销诈骗的数字货币",
    "新贸链数字货币假借区块链之名，大力发展下线，行传销之实，请A市公安局严厉打击假借区块链的名义传销数字货币的犯罪行为。",
)
MEMORIAL = ("", "沉痛悼念因公牺牲的交警刘贵斌同志，他在执勤岗位上奋力推开群众，英勇牺牲。致敬英雄！")
PUSHING = ("", "网传视频显示，两名民警在路边推搡一位老人，老人倒地不起，围观群众十分愤怒。")
NO_SHOW = ("", "家里被盗，报警后派出所一直不出警，打了三次110都没人来，太让人寒心了。")
CROOKED_JUDGE = ("", "法官枉法裁判，收了对方的钱，判决完全颠倒黑白，我们要申诉到底。")
GLOOMY = ("夜读", "人生总有至暗时刻，孤独、失落、绝望一起涌来，夜深人静时忍不住想哭，不知道明天在哪里。")


@pytest.fixture(scope="module")
def stance(shipped_topics, segmenter) -> Stance:  # type: ignore[no-untyped-def]
    return build_stance(shipped_topics, segmenter.normalize)


@pytest.fixture(scope="module")
def analyzer(segmenter, ruleset, small_model, stance) -> Analyzer:  # type: ignore[no-untyped-def]
    return Analyzer(segmenter, ruleset, small_model, stance=stance)


def roles(stance: Stance, text: str) -> dict[str, int]:
    counts, _ = stance.read("", stance_text(text))
    return {k: v for k, v in counts.items() if v}


def stance_text(text: str) -> str:
    from nlp.segment import normalize

    return normalize(text)


def test_body_terms_come_from_the_topics_config(shipped_topics) -> None:  # type: ignore[no-untyped-def]
    terms = body_terms(shipped_topics)
    assert set(shipped_topics.lists["政法机关"]) <= set(terms)
    assert {"公安分局", "检察机关", "司法所"} <= set(terms)  # keywords of the institution topics
    assert "保护伞" not in terms and "不作为" not in terms  # risk words are not bodies


def test_the_lexicon_roles_extend_the_risk_lexicon() -> None:
    roles = read_roles()
    assert roles["刑讯逼供"] == "misconduct" and roles["不出警"] == "inaction" and roles["破获"] == "success"
    assert roles["冒充"] == "pose" and roles["报警"] == "report"


def test_clauses_split_at_punctuation_reposts_and_questions() -> None:
    assert clauses("警察呢?公安呢?[怒]//@某人:太过分,真的") == ["警察呢?", "公安呢?", "[怒]", "某人", "太过分", "真的"]


def test_who_does_what_to_whom(stance: Stance) -> None:
    assert roles(stance, "两名民警推搡一位老人").get("misconduct") == 1
    assert "misconduct" not in roles(stance, "民警被人推搡在地")  # the body suffers the act
    assert "misconduct" not in roles(stance, "他当街殴打民警")  # the body is the object
    assert roles(stance, "殴打群众的辅警已被停职").get("misconduct") == 1  # 的: the act describes the body
    assert "misconduct" not in roles(stance, "民警没有打人")  # negated
    assert roles(stance, "民警破获一起诈骗案").get("success") == 1
    assert "body" not in roles(stance, "骗子冒充警察打来电话")  # posing as a body is no mention
    assert roles(stance, "报警后一直没人来").get("inaction") == 1  # 报警 + inaction: the police's
    assert "inaction" not in roles(stance, "商家一直没人管")  # no body, no report: not the office's
    assert roles(stance, "东湖区法院执行局消极执行").get("inaction") == 1
    assert roles(stance, "@平安北京 @深圳交警 求扩散") == {}  # tagged accounts are not what the post is about


def test_a_post_without_a_body_is_never_negative_toward_the_office() -> None:
    worst = [1.0] + [0.0] * (len(FEATURES) - 1)
    assert DEFAULT_WEIGHTS.probability(worst) < 0.1


@pytest.mark.parametrize("post", [SUCCESS, REQUEST, MEMORIAL, GLOOMY], ids=["success", "request", "memorial", "gloomy"])
def test_not_negative_toward_the_office(analyzer: Analyzer, post: tuple[str, str]) -> None:
    result = analyzer.analyze([post])[0]
    assert not result.negative, result.stance


@pytest.mark.parametrize("post", [PUSHING, NO_SHOW, CROOKED_JUDGE], ids=["pushing", "no-show", "crooked-judge"])
def test_negative_toward_the_office(analyzer: Analyzer, post: tuple[str, str]) -> None:
    result = analyzer.analyze([post])[0]
    assert result.negative, result.stance
    assert result.negative_score >= analyzer.negative_threshold


def test_the_gloomy_essay_is_gloomy_but_not_about_the_office(analyzer: Analyzer) -> None:
    result = analyzer.analyze([GLOOMY])[0]
    assert result.stance is not None and result.stance.model_score > 0.5 and result.stance.body == 0


def test_without_a_stance_reader_negative_is_the_mood(segmenter, ruleset, small_model) -> None:  # type: ignore[no-untyped-def]
    mood = Analyzer(segmenter, ruleset, small_model).analyze([GLOOMY])[0]
    assert mood.stance is None and mood.negative


def test_weights_are_learned_from_labelled_posts() -> None:
    body_dark = [0.9, 1, 0.9, 0, 0, 0, 0, 0, 0, 0, 0]
    body_success = [0.9, 1, 0.8, 0, 0, 0, 2, 0, 0, 0, 0]
    no_body = [0.95, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert DEFAULT_WEIGHTS.probability(body_dark) < 0.5  # a dark clause alone is not enough by default
    few = fit_stance([body_dark, body_success, no_body] * 2, [1, 0, 0] * 2)
    many = fit_stance([body_dark, body_success, no_body] * 50, [1, 0, 0] * 50)
    assert few.source == many.source == "learned"
    # labels move the shipped weights gradually: a few a little, many far enough to change the verdict
    assert DEFAULT_WEIGHTS.probability(body_dark) < few.probability(body_dark) < many.probability(body_dark)
    assert many.probability(body_dark) > 0.5 > many.probability(body_success)
    assert many.probability(no_body) < 0.5
    assert fit_stance([], []) is DEFAULT_WEIGHTS


def reasons(stance: Stance, text: str) -> list[tuple[str, str]]:
    """(term, why it does not count) of every body the text names."""
    return [(m.term, m.passing) for m in stance.mentions("", stance_text(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("美国联邦法官裁定总统违宪", [("法官", "foreign")]),
        ("据外媒，歌手位于纽约的公寓被闯入。警方称男子打碎玻璃", [("警方", "foreign")]),
        ("香港警方拘捕报社高层", [("警方", "foreign")]),
        ("香港警方拘捕报社高层。警方称三人涉嫌违法", [("警方", "foreign"), ("警方", "foreign")]),  # named again
        ("美国游客在京被骗，中国警方抓获嫌犯", [("警方", "")]),  # 中国 brings it home
        ("这次是两个[怒][怒]@广州交警", [("交警", "handle")]),
        ("@平安北京 @深圳交警 求扩散", [("交警", "handle")]),
        ("//@江宁公安在线: [泪]", [("公安", "handle")]),
        ("@云南警方 已抓获两名犯罪人员", [("警方", "")]),  # the body addressed, then words: counts
        ("位于A2区公安分局宿舍区的物业乱收费", [("公安分局", "address")]),
        ("病房没有窗户，监狱似的", [("监狱", "simile")]),
        ("可以想像公安队伍的现实有多令人绝望", [("公安", "")]),  # 想像: imagine, no simile
        ("口罩优先保障医疗、交通、公安、媒体等一线人员", [("公安", "list")]),
        ("公安、检察院、法院联合办案", [("公安", ""), ("检察院", ""), ("法院", "")]),  # a list of bodies
        ("骗子自称是某某市中级人民法院的工作人员", [("法院", "pose")]),
        ("村民自称头部被子弹射穿 投诉警方不予立案", [("警方", "")]),  # no impersonation of the police
        (
            "第六十三条 司法行政机关可以制定实施办法，报司法部备案。第六十四条 本办法自公布之日起施行",
            [("司法部", "statute")],
        ),
    ],
)
def test_mentions_that_do_not_count(stance: Stance, text: str, expected: list[tuple[str, str]]) -> None:
    assert reasons(stance, text) == expected


def test_passing_mentions_make_no_topic_and_no_stance(analyzer: Analyzer) -> None:
    foreign, tagged, address, home = analyzer.analyze(
        [
            ("", "美国联邦法官裁定：总统不得拉黑批评者"),
            ("", "高速堵车十几公里[抓狂]@陕西交警 @湖北交警 @楚天都市报"),
            ("", "位于桂花坪街道的公安分局宿舍区物业公司扬言退出小区"),
            ("", "江门警方打掉一个电诈团伙，抓获嫌疑人12名"),
        ]
    )
    assert foreign.topics == [] and tagged.topics == [] and address.topics == []
    assert foreign.stance is not None and foreign.stance.body == 0
    assert [m.topic for m in home.topics] == ["police"]


FILLER = "我们小区的开发商拖欠业主的维修资金多年，物业公司也不公开账目，业主多次找开发商协商都没有结果。" * 7


def test_a_body_named_in_passing_deep_in_a_long_post_does_not_count(stance: Stance) -> None:
    assert len(FILLER) > 300
    aside = stance.mentions("小区维修资金问题", stance_text(FILLER + "我们虽然起诉至法院，但开发商仍不理会。"))
    assert [(m.term, m.passing) for m in aside] == [("法院", "aside")]
    judged = stance.mentions("小区维修资金问题", stance_text(FILLER + "我们起诉后法院一直推诿，不予受理。"))
    assert [(m.term, m.passing) for m in judged] == [("法院", "")]  # a complaint about the body
    lead = stance.mentions("小区维修资金问题", stance_text("派出所民警来过一次。" + FILLER))
    assert all(m.counts for m in lead)  # named in the lead: what the post is about
    titled = stance.mentions("法院判决执行难", stance_text(FILLER + "我们虽然起诉至法院。"))
    assert all(m.counts for m in titled)


def test_a_body_accused_questioned_or_coercing(stance: Stance) -> None:
    assert roles(stance, "请求调查某市人民法院执行工作停顿的原因").get("misconduct") == 1  # the body investigated
    assert "misconduct" not in roles(stance, "请某市公安局调查此事")  # the body asked to investigate
    assert roles(stance, "武汉加油 检察院呢 让他们下课").get("question") == 1  # 检察院呢: where is it
    assert roles(stance, "交警总队逼迫孕妇辞职").get("misconduct") == 1
    assert roles(stance, "警方通报伤人者仅仅处罚500元").get("misconduct") == 1  # leniency
