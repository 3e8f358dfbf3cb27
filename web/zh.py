"""The Chinese the console shows for the English explanations and warnings of ``nlp`` and ``storage``
(the CLI prints them in English): one pattern per message; a message without a pattern is shown as is.
``tests/web/test_zh.py`` has every message written by the code that writes it, so a reworded message
fails there instead of reaching an analyst in English."""

from __future__ import annotations

import re

_W = r'"(?P<w>[^"]*)"'
_E = r'"(?P<e>[^"]*)"'
_PATTERNS: list[tuple[str, str]] = [
    # nlp.rules.explain: why a topic does not match
    (r"no keyword found \(keywords: (?P<k>.*)\)$", "未出现任何关键词（关键词：{k}）"),
    (
        rf"keyword {_W} found, but no term of (?P<c>.*) within (?P<n>\d+) characters \(the closest is (?P<d>\d+) characters away\)$",
        "出现关键词“{w}”，但其前后 {n} 字内没有语境词（{c}），最近的相距 {d} 字",
    ),
    (
        rf"keyword {_W} found, but no term of (?P<c>.*) within (?P<n>\d+) characters \(none in the same field\)$",
        "出现关键词“{w}”，但同一字段（标题或正文）中没有语境词（{c}）",
    ),
    (
        rf"keyword {_W} found, but no term of (?P<c>.*) within (?P<n>\d+) characters \(none in the post\)$",
        "出现关键词“{w}”，但全文没有语境词（{c}）",
    ),
    (rf"`all` word {_W} missing$", "缺少必须同时出现的词“{w}”"),
    (rf"excluded by {_W}$", "含排除词“{w}”，被排除"),
    (r"expression false: (?P<x>.*)$", "规则表达式不成立：{x}"),
    (r'topic "(?P<t>[^"]*)" is not enabled$', "专题“{t}”未启用"),
    (r"no match$", "不匹配"),
    # nlp.rules.keyword_warnings / exclusion_warnings: words that cannot fire
    (
        rf"the `all` word {_W} contains the exclusion word {_E}: (?P<t>\S+) can never match$",
        "必须同时出现的词“{w}”包含排除词“{e}”：专题 {t} 永远无法匹配",
    ),
    (
        rf"{_W} is also an exclusion word of (?P<t>\S+): .*$",
        "“{w}”同时是专题 {t} 的排除词：含有它的信息都会被排除，该关键词永远不会生效；请先从排除词中删除它",
    ),
    (
        rf"{_W} contains the exclusion word {_E} of (?P<t>\S+): .*$",
        "“{w}”包含专题 {t} 的排除词“{e}”：含有它的信息都会被排除，该关键词永远不会生效；请删除排除词“{e}”或换一个关键词",
    ),
    (
        rf"{_W} is part of the exclusion word {_E} of (?P<t>\S+): .*$",
        "“{w}”是专题 {t} 排除词“{e}”的一部分：写作“{e}”的信息会被排除（其他含“{w}”的信息仍会匹配）",
    ),
    (
        rf"the expression of (?P<t>\S+) does not mention {_W} and is false for a post with just it: .*$",
        "专题 {t} 的规则表达式不含“{w}”，仅含该词的信息不满足表达式：只有表达式通过其他词成立时才会匹配；"
        "请改用专题的语境词（context），或把“{w}”写进表达式",
    ),
    (
        rf"a post with {_W} does not satisfy the expression of (?P<t>\S+) on its own: .*$",
        "仅含“{w}”的信息不满足专题 {t} 的规则表达式，请用上方的“规则测试”核对",
    ),
    (
        rf"the exclusion {_E} is part of the keyword\(s\) (?P<k>.*) of (?P<t>\S+): .*$",
        "排除词“{e}”是专题 {t} 关键词 {k} 的一部分：这些关键词将永远无法匹配；请换用更长的排除词（如要排除的完整说法）",
    ),
    (rf"{_W} is a single character: it matches almost any post$", "“{w}”只有一个字：几乎所有信息都会匹配"),
    (
        rf"{_W} matches (?P<c>\d+) of (?P<n>\d+) posts of the last (?P<d>\d+) days \((?P<p>\d+%) > (?P<m>\d+%)\): .*$",
        "“{w}”在近 {d} 天的 {n} 篇信息中命中 {c} 篇（{p}，超过 {m}）：过于常见，会让分析员疲于处理",
    ),
    # nlp.labels.record_label: a label the console's buttons could not send, or a stale page
    (r"nothing to record$", "请选择标注：相关/不相关，或负面/非负面"),
    (r"no post with id (?P<n>\d+)$", "没有编号为 {n} 的信息"),
    (r'unknown topic "(?P<t>[^"]*)"$', "没有专题“{t}”"),
    (r'post (?P<n>\d+) does not match topic "(?P<t>[^"]*)"$', "信息 #{n} 不属于专题“{t}”，不能按该专题标注"),
    # storage.users and the CLI's checks, as the user pages show them
    (r'invalid user name "(?P<n>[^"]*)"$', "用户名“{n}”无效：请用 1-64 个字符，不含空格"),
    (r'unknown role "(?P<r>[^"]*)"$', "请选择角色（管理员、分析员或只读）"),
    (r"the password is shorter than (?P<n>\d+) characters$", "密码太短：至少 {n} 个字符"),
    (r'user "(?P<n>[^"]*)" exists$', "用户“{n}”已存在"),
    (r'no user "(?P<n>[^"]*)"$', "没有用户“{n}”"),
    (r'unknown unit "(?P<u>[^"]*)"$', "未知单位“{u}”：单位须为 alerts.yaml 中的接收组"),
    (r'no topic "(?P<t>[^"]*)".*$', "没有专题“{t}”"),
]
_COMPILED = [(re.compile(p), zh) for p, zh in _PATTERNS]


def zh(message: str) -> str:
    """The Chinese for one English message of ``nlp`` / ``storage`` (the message itself if unknown)."""
    for pattern, chinese in _COMPILED:
        found = pattern.match(message)
        if found:
            return chinese.format(**found.groupdict())
    return message
