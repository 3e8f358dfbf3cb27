"""``topics.yaml``: the keyword lists and rules that decide which posts are relevant."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from config.base import Identifier, NonEmptyStr, StrictModel
from config.ruleparse import parse
from yuqing.base.errors import RuleSyntaxError

Keyword = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
ListName = Annotated[str, StringConstraints(pattern=r"^[^\s@&|!()\"]{1,32}$")]
"""A named keyword list, referenced in rule expressions and contexts as ``@name``."""
ContextTerm = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
"""A word, or ``@name`` for every word of a named list."""


class Context(StrictModel):
    """Where a keyword occurrence counts: only when a term of ``terms`` occurs within ``within``
    characters of it, in the same field (title or text). ``terms: "@政法机关"`` is one list."""

    terms: list[ContextTerm] = Field(min_length=1)
    within: int = Field(30, ge=0, le=1000)

    @field_validator("terms", mode="before")
    @classmethod
    def _one_term(cls, value: Any) -> Any:
        """A single string is one term (``terms: "@政法机关"``)."""
        return [value] if isinstance(value, str) else value

    def list_names(self) -> list[str]:
        return [t[1:] for t in self.terms if t.startswith("@")]

    def describe(self) -> str:
        """``@政法机关 within 30 characters`` (for messages)."""
        return f"{'/'.join(self.terms)} within {self.within} characters"


class Topic(StrictModel):
    """One topic: a post matches when a keyword occurs (with a term of ``context`` near it, when a
    context is given) or a ``standalone`` word occurs, all of ``all`` appear, none of ``exclude``
    appears and, when given, the rule expression ``expr`` holds."""

    id: Identifier
    name: NonEmptyStr
    enabled: bool = True
    weight: float = Field(1.0, ge=0, le=10)
    description: str | None = None
    keywords: list[Keyword] = Field(min_length=1)
    standalone: list[Keyword] = Field(default_factory=list)
    """Keywords that count without the context: they name the misconduct of a body themselves."""
    context: Context | None = None
    all: list[Keyword] = Field(default_factory=list)
    exclude: list[Keyword] = Field(default_factory=list)
    expr: str | None = None
    regions: list[str] = Field(default_factory=list)

    @field_validator("keywords", "standalone", "all", "exclude")
    @classmethod
    def _no_duplicates(cls, value: list[str]) -> list[str]:
        dupes = [w for i, w in enumerate(value) if w in value[:i]]
        if dupes:
            raise ValueError(f"lists a keyword twice: {', '.join(dupes)}")
        return value

    @model_validator(mode="after")
    def _standalone_needs_context(self) -> Topic:
        if self.standalone and self.context is None:
            raise ValueError(
                "`standalone` words count without the context, but the topic has no `context`; "
                'move them to `keywords`, or add a context such as {terms: "@政法机关", within: 30}'
            )
        return self

    def triggers(self) -> list[str]:
        """Every word that can make the topic match: keywords, then standalone words."""
        return list(dict.fromkeys([*self.keywords, *self.standalone]))


def _context_error(index: int, topic: Topic, lists: dict[str, list[str]]) -> InitErrorDetails | None:
    """A validation error for a context that names an unknown list, else None."""
    unknown = [n for n in topic.context.list_names() if n not in lists] if topic.context else []
    if not unknown:
        return None
    known = ", ".join(f"@{n}" for n in lists) or "none (define them under `lists`)"
    message = f"unknown list @{unknown[0]} in the context; lists defined: {known}"
    return InitErrorDetails(
        type=PydanticCustomError("unknown_list", message), loc=(index, "context", "terms"), input=topic.context
    )


def _expr_error(index: int, topic: Topic, lists: dict[str, list[str]]) -> InitErrorDetails | None:
    """A validation error for a topic whose ``expr`` does not parse, else None."""
    try:
        parse(topic.expr or "", lists)
    except RuleSyntaxError as exc:
        reason = exc.message.split(" at position ")[0]
        expr = exc.expression
        where = f"{expr[: exc.position]} ⟨here⟩ {expr[exc.position :]}".strip()
        hint = f"; {exc.hint}" if exc.hint else ""
        message = f"rule expression error at position {exc.position}: {reason} in: {where}{hint}"
        return InitErrorDetails(type=PydanticCustomError("rule_syntax", message), loc=(index, "expr"), input=topic.expr)
    return None


class TopicsFile(StrictModel):
    """Top level of ``topics.yaml``."""

    dictionary: list[Keyword] = Field(default_factory=list)
    stopwords: list[str] = Field(default_factory=list)
    lists: dict[ListName, list[Keyword]] = Field(default_factory=dict)
    topics: list[Topic] = Field(default_factory=list)

    @field_validator("topics", mode="wrap")
    @classmethod
    def _valid_expressions(cls, value: Any, handler: Any, info: ValidationInfo) -> list[Topic]:
        """Parse every rule expression and check every context's lists, so `yuqing config check`
        reports bad ones with their line."""
        topics: list[Topic] = handler(value)
        lists = info.data.get("lists") or {}
        errors = [_expr_error(i, t, lists) for i, t in enumerate(topics) if t.expr]
        errors += [_context_error(i, t, lists) for i, t in enumerate(topics)]
        details = [e for e in errors if e is not None]
        if details:
            raise ValidationError.from_exception_data("TopicsFile", details)
        return topics

    @model_validator(mode="after")
    def _unique_ids(self) -> TopicsFile:
        seen: set[str] = set()
        for topic in self.topics:
            if topic.id in seen:
                raise ValueError(f'topic id "{topic.id}" is used twice; ids must be unique')
            seen.add(topic.id)
        return self

    def get(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def all_keywords(self) -> list[str]:
        """Every keyword of every topic and list, once, in file order (for the segmenter)."""
        words: dict[str, None] = dict.fromkeys(self.dictionary)
        for words_list in self.lists.values():
            words.update(dict.fromkeys(words_list))
        for topic in self.topics:
            context = [t for t in topic.context.terms if not t.startswith("@")] if topic.context else []
            for word in (*topic.keywords, *topic.standalone, *context, *topic.all, *topic.exclude):
                words[word] = None
        return list(words)
