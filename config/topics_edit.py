"""Editors for ``topics.yaml``: functions that change its round-trip tree for ``apply_edit``."""

from __future__ import annotations

from typing import Any, Literal, cast

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from yuqing.base.errors import YuqingError

ListField = Literal["keywords", "standalone", "all", "exclude"]
FIELD_ORDER = (
    "id",
    "name",
    "enabled",
    "weight",
    "description",
    "keywords",
    "standalone",
    "context",
    "all",
    "exclude",
    "expr",
    "regions",
)


def flow_list(words: list[str]) -> CommentedSeq:
    seq = CommentedSeq(words)
    seq.fa.set_flow_style()
    return seq


def find_topic(doc: Any, topic_id: str) -> CommentedMap:
    """The topic mapping with this id, or a YuqingError naming the ids there are."""
    topics = (doc or {}).get("topics") or []
    for topic in topics:
        if isinstance(topic, dict) and topic.get("id") == topic_id:
            return cast(CommentedMap, topic)  # the document is always loaded round-trip
    ids = ", ".join(str(t.get("id")) for t in topics if isinstance(t, dict)) or "none"
    raise YuqingError(f'no topic "{topic_id}" in topics.yaml', f"topics are: {ids}; see `yuqing topics list`")


def _set_key(topic: CommentedMap, key: str, value: Any) -> None:
    """Set ``key``, inserting a missing key at its conventional place rather than at the end."""
    if key in topic:
        topic[key] = value
        return
    rank = FIELD_ORDER.index(key) if key in FIELD_ORDER else len(FIELD_ORDER)
    position = sum(1 for k in topic if k in FIELD_ORDER and FIELD_ORDER.index(k) < rank)
    topic.insert(position, key, value)


def add_words(doc: Any, topic_id: str, words: list[str], field: ListField = "keywords") -> list[str]:
    """Append the words not yet in the topic's list; returns those added."""
    topic = find_topic(doc, topic_id)
    current = topic.get(field)
    if current is None:
        current = flow_list([])
        _set_key(topic, field, current)
    added = [w for w in dict.fromkeys(words) if w not in current]
    current.extend(added)
    return added


def remove_words(doc: Any, topic_id: str, words: list[str], field: ListField = "keywords") -> list[str]:
    """Remove the words from the topic's list; returns those removed."""
    topic = find_topic(doc, topic_id)
    current: CommentedSeq = topic.get(field) or CommentedSeq()
    removed = [w for w in words if w in current]
    for word in removed:
        _delete_keeping_comments(current, current.index(word))
    if field != "keywords" and field in topic and not current:
        del topic[field]
    return removed


def _delete_keeping_comments(seq: CommentedSeq, index: int) -> None:
    """Delete one item; full-line comments that followed it stay (moved to the item before).
    ruamel attaches the comment lines below an item to that item, so a plain delete loses them."""
    token = seq.ca.items.get(index, [None])[0] if isinstance(seq, CommentedSeq) else None
    following = token.value.split("\n", 1)[1] if token is not None and "\n" in token.value else ""
    del seq[index]
    if not following.strip() or index == 0:
        return
    previous = seq.ca.items.setdefault(index - 1, [None, None, None, None])
    if previous[0] is not None:
        previous[0].value += following
    else:
        previous[0] = CommentToken("\n" + following, CommentMark(0), None)


def set_field(doc: Any, topic_id: str, key: str, value: Any) -> Any:
    """Set one scalar field of a topic; returns the previous value."""
    topic = find_topic(doc, topic_id)
    previous = topic.get(key)
    _set_key(topic, key, value)
    return previous


def add_topic(
    doc: Any,
    topic_id: str,
    name: str,
    keywords: list[str],
    *,
    expr: str | None = None,
    exclude: list[str] | None = None,
    weight: float | None = None,
) -> None:
    """Append a new topic at the end of the topics list."""
    topics = doc.setdefault("topics", CommentedSeq())
    if any(isinstance(t, dict) and t.get("id") == topic_id for t in topics):
        raise YuqingError(
            f'topic "{topic_id}" exists already', "choose another id, or edit it with `yuqing keywords add`"
        )
    topic = CommentedMap()
    topic["id"] = topic_id
    topic["name"] = name
    if weight is not None:
        topic["weight"] = weight
    topic["keywords"] = flow_list(list(dict.fromkeys(keywords)))
    if exclude:
        topic["exclude"] = flow_list(list(dict.fromkeys(exclude)))
    if expr:
        topic["expr"] = expr
    topics.append(topic)
