"""The keyword editor (admins): each topic's lists; a rule test on a pasted text (``yuqing rules test``);
a proposed change backtested over stored posts (``yuqing rules backtest``); applying it to topics.yaml
(validated, comments kept, audited, as ``yuqing keywords add``); undoing a recorded change. The logic
is ``nlp.tuning``'s, shared with the CLI; messages are shown in Chinese (``web.zh``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.keyword_io import normalize_keyword
from config.topics_model import Topic
from nlp.tuning import (
    AlreadyUndone,
    Change,
    Delta,
    apply_change,
    backtest_change,
    change_warnings,
    recorded_changes,
    test_text,
    undo_change,
)
from web.auth import Visitor, console, guard
from web.console import Console
from web.review import path_id, query_int
from web.zh import zh
from yuqing.base.errors import ConfigError, YuqingError

FIELD_NAMES = {"keywords": "关键词", "standalone": "独立词", "all": "必含词", "exclude": "排除词"}
_SEPARATORS = re.compile(r"[\s,，、;；]+")


def words_of(value: Any) -> tuple[str, ...]:
    """Words typed in a form field (separated by spaces, commas or 、), normalised as the CLI does."""
    raw = [w for w in _SEPARATORS.split(str(value or "")) if w]
    return tuple(dict.fromkeys(normalize_keyword(w) for w in raw))


def change_of(form: FormData) -> Change:
    change = Change(words_of(form.get("add")), words_of(form.get("remove")), words_of(form.get("exclude")))
    if change.empty:
        raise HTTPException(400, "请填写要增加、删除的关键词或要增加的排除词")
    return change


def days_of(form: FormData) -> int:
    value = str(form.get("days", "7")).strip()
    days = query_int(value)
    return max(1, min(days, 3650)) if days is not None else 7


def topic_of(con: Console, topic_id: str) -> Topic:
    topic = con.config.topics.get(topic_id)
    if topic is None:
        raise HTTPException(404, f"没有专题“{topic_id}”")
    return topic


def _refused(exc: YuqingError) -> HTTPException:
    if isinstance(exc, ConfigError):
        return HTTPException(400, "修改未通过配置校验，topics.yaml 未改动：\n" + exc.message)
    return HTTPException(400, zh(exc.message))


def marked(value: str, terms: list[dict[str, Any]], field: str) -> list[tuple[str, bool]]:
    """The text cut into (piece, matched) pieces, for highlighting the matched terms (``yuqing rules test``'s)."""
    pieces, last = [], 0
    for start, end in sorted((int(t["start"]), int(t["end"])) for t in terms if t["field"] == field):
        if start >= last:
            pieces += [(value[last:start], False), (value[start:end], True)]
            last = end
    return [p for p in [*pieces, (value[last:], False)] if p[0]]


def delta_lines(delta: Delta) -> list[str]:
    """A recorded change as the history shows it, e.g. 增加关键词：辅警、网警."""
    lines = [f"增加{FIELD_NAMES.get(f, f)}：{'、'.join(w)}" for f, w in delta.get("added", {}).items()]
    lines += [f"删除{FIELD_NAMES.get(f, f)}：{'、'.join(w)}" for f, w in delta.get("removed", {}).items()]
    if delta.get("expr"):
        lines.append(f"规则表达式：{delta['expr'][0] or '（无）'} → {delta['expr'][1] or '（无）'}")
    return lines


def topic_page(
    request: Request, con: Console, who: Visitor, topic: Topic, *, status: int = 200, **extra: Any
) -> Response:
    with con.app.session() as session:
        history = recorded_changes(session, topic.id)
    context: dict[str, Any] = {
        "who": who,
        "topic": topic,
        "history": history,
        "delta_lines": delta_lines,
        "fields": FIELD_NAMES,
        "form": {},
        **extra,
    }
    return con.render(request, "keywords_topic.html", context, status)


async def topics_page(request: Request) -> Response:
    who = await guard(request, "admin")
    con = console(request)
    return con.render(request, "keywords.html", {"who": who, "topics": con.config.topics.topics})


async def topic_view(request: Request) -> Response:
    who = await guard(request, "admin")
    con = console(request)
    return topic_page(request, con, who, topic_of(con, request.path_params["topic"]))


async def rule_test(request: Request) -> Response:
    """Does the topic match the pasted title and text, and if not, why (``yuqing rules test``)."""
    who = await guard(request, "admin")
    con = console(request)
    topic = topic_of(con, request.path_params["topic"])
    form = await request.form()
    title, text = str(form.get("title", "")), str(form.get("text", ""))
    if not (title.strip() or text.strip()):
        raise HTTPException(400, "请粘贴要测试的标题或正文")
    tried = test_text(con.config, topic.id, title, text)
    reasons = [zh(r) for r in tried.reasons]
    terms = list(dict.fromkeys(str(t["term"]) for t in tried.terms))
    shown = {"title": marked(title, tried.terms, "title"), "text": marked(text, tried.terms, "text")}
    context: dict[str, Any] = {"tried": tried, "reasons": reasons, "terms": terms, "shown": shown, "form": dict(form)}
    return topic_page(request, con, who, topic, **context)


async def rule_backtest(request: Request) -> Response:
    """Before/after counts of a proposed change over stored posts, the posts that change, the warnings."""
    who = await guard(request, "admin")
    con = console(request)
    topic = topic_of(con, request.path_params["topic"])
    form = await request.form()
    change, days = change_of(form), days_of(form)
    try:
        with con.app.session() as session:
            result = backtest_change(con.config, session, topic.id, change, con.clock() - timedelta(days=days))
        warnings = [zh(w) for w in change_warnings(con.app, topic.id, change, con.clock())]
    except YuqingError as exc:
        raise _refused(exc) from None
    context: dict[str, Any] = {
        "result": result,
        "change": change,
        "days": days,
        "warnings": warnings,
        "form": dict(form),
    }
    return topic_page(request, con, who, topic, **context)


def _reload(con: Console) -> None:
    """The app's config read again and the analyser rebuilt on it, so the change takes effect at once."""
    con.app.reload()
    con.forget_analyzer()


async def rule_apply(request: Request) -> Response:
    """Write the change to topics.yaml (refused while there are warnings the admin did not accept)."""
    who = await guard(request, "admin")
    con = console(request)
    topic = topic_of(con, request.path_params["topic"])
    form = await request.form()
    change = change_of(form)
    try:
        warnings = [zh(w) for w in change_warnings(con.app, topic.id, change, con.clock())]
        if warnings and form.get("accept") != "1":
            context: dict[str, Any] = {
                "change": change,
                "days": days_of(form),
                "warnings": warnings,
                "form": dict(form),
            }
            return topic_page(request, con, who, topic, status=409, unaccepted=True, **context)
        delta = apply_change(con.app, topic.id, change, who.user.name)
    except YuqingError as exc:
        raise _refused(exc) from None
    _reload(con)
    done = delta_lines(delta) or ["没有变化（这些词已在或不在列表中）"]
    return topic_page(request, con, who, topic_of(con, topic.id), flash="已应用：" + "；".join(done))


async def rule_undo(request: Request) -> Response:
    """Revert one recorded change of the topic (validated and audited like an apply)."""
    who = await guard(request, "admin")
    con = console(request)
    topic = topic_of(con, request.path_params["topic"])
    try:
        delta = undo_change(con.app, topic.id, path_id(request, "entry"), who.user.name)
    except AlreadyUndone as exc:
        raise HTTPException(409, f"该修改已被撤销（#{exc.by}）；如需恢复，请撤销 #{exc.by}") from None
    except YuqingError as exc:
        if not isinstance(exc, ConfigError):
            raise HTTPException(
                404, f"专题“{topic.id}”没有编号为 {request.path_params['entry']} 的可撤销修改"
            ) from None
        raise _refused(exc) from None
    _reload(con)
    done = delta_lines(delta) or ["没有变化（该修改已不在配置中）"]
    return topic_page(request, con, who, topic_of(con, topic.id), flash="已撤销：" + "；".join(done))


routes = [
    Route("/admin/keywords", topics_page, methods=["GET"]),
    Route("/admin/keywords/{topic}", topic_view, methods=["GET"]),
    Route("/admin/keywords/{topic}/test", rule_test, methods=["POST"]),
    Route("/admin/keywords/{topic}/backtest", rule_backtest, methods=["POST"]),
    Route("/admin/keywords/{topic}/apply", rule_apply, methods=["POST"]),
    Route("/admin/keywords/{topic}/undo/{entry:int}", rule_undo, methods=["POST"]),
]
