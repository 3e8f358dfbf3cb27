"""Parser of the topic rule language (see docs/ANALYSE.md).

Grammar, loosest binding first (so ``!`` > ``NEAR`` > ``&`` > ``|``)::

    or    := and ("|" and)*
    and   := near ("&" near)*
    near  := unary ("NEAR/" n unary)?           operands: a term, "phrase", @list or (a | b …)
    unary := "!" unary | primary
    primary := TERM | "quoted phrase" | @list | "(" or ")"

Terms are normalised like post text (full-width folded, lower-cased, traditional → simplified when a
converter is given), so ``ＡＢＣ`` in a rule matches ``abc`` in a post.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from yuqing.base.errors import RuleSyntaxError

OPERATORS = "&|!()"
TERM_STOP = set(OPERATORS) | {'"', "@"}
NEAR_RE = re.compile(r"NEAR/(\d{1,4})(?![^\s&|!()\"@])", re.IGNORECASE)
LIST_RE = re.compile(r"@([^\s@&|!()\"]{1,32})")
HINT = 'write terms joined by & (and), | (or), ! (not), "A NEAR/10 B", with parentheses and @lists'


@dataclass(frozen=True)
class Term:
    text: str


@dataclass(frozen=True)
class ListRef:
    name: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Near:
    left: tuple[str, ...]
    right: tuple[str, ...]
    distance: int


Node = Term | ListRef | Not | And | Or | Near


@dataclass(frozen=True)
class Token:
    kind: str  # term, phrase, list, near, op, end
    value: str
    pos: int


def tokenize(expr: str) -> list[Token]:
    """Split an expression into tokens; raise RuleSyntaxError on an unclosed quote or bad @list."""
    tokens: list[Token] = []
    i = 0
    while i < len(expr):
        char = expr[i]
        if char.isspace():
            i += 1
        elif char in OPERATORS:
            tokens.append(Token("op", char, i))
            i += 1
        elif char == '"':
            end = expr.find('"', i + 1)
            if end < 0:
                raise RuleSyntaxError("unclosed quote", expr, i, 'close the phrase with another "')
            if not expr[i + 1 : end].strip():
                raise RuleSyntaxError("empty quoted phrase", expr, i, "put a word between the quotes")
            tokens.append(Token("phrase", expr[i + 1 : end], i))
            i = end + 1
        elif char == "@":
            match = LIST_RE.match(expr, i)
            if not match:
                raise RuleSyntaxError("@ must be followed by a list name", expr, i, "write @name, a list from `lists`")
            tokens.append(Token("list", match.group(1), i))
            i = match.end()
        else:
            near = NEAR_RE.match(expr, i)
            if near:
                tokens.append(Token("near", near.group(1), i))
                i = near.end()
                continue
            start = i
            while i < len(expr) and expr[i] not in TERM_STOP and not expr[i].isspace():
                i += 1
            word = expr[start:i]
            if word.upper() == "NEAR" or word.upper().startswith("NEAR/"):
                raise RuleSyntaxError("NEAR needs a distance", expr, start, "write A NEAR/10 B (10 = characters apart)")
            tokens.append(Token("term", word, start))
    tokens.append(Token("end", "", len(expr)))
    return tokens


class Parser:
    """Recursive-descent parser producing a Node tree with normalised terms."""

    def __init__(self, expr: str, lists: Mapping[str, Sequence[str]], fold: Callable[[str], str]) -> None:
        self.expr = expr
        self.lists = lists
        self.fold = fold
        self.tokens = tokenize(expr)
        self.i = 0

    def error(self, message: str, token: Token | None = None, hint: str = HINT) -> RuleSyntaxError:
        token = token or self.peek()
        return RuleSyntaxError(message, self.expr, token.pos, hint)

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at_op(self, op: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.value == op

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.error("empty expression", hint="write at least one term, e.g. 民警 & 殴打")
        node = self.parse_or()
        token = self.peek()
        if token.kind != "end":
            if token.kind == "op" and token.value == ")":
                raise self.error("unbalanced )", token, "remove it or add the matching (")
            raise self.error(
                f'missing operator before "{token.value or token.kind}"',
                token,
                "join terms with & (and) or | (or); quote a phrase that contains spaces",
            )
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.at_op("|"):
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_near()]
        while self.at_op("&"):
            self.take()
            operands.append(self.parse_near())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_near(self) -> Node:
        start = self.peek()
        left = self.parse_unary()
        if self.peek().kind != "near":
            return left
        near = self.take()
        operand_token = self.peek()
        right = self.parse_unary()
        if self.peek().kind == "near":
            raise self.error("NEAR cannot be chained", self.peek(), "write (A NEAR/n B) & (B NEAR/n C)")
        distance = int(near.value)
        return Near(self.near_terms(left, start), self.near_terms(right, operand_token), distance)

    def near_terms(self, node: Node, token: Token) -> tuple[str, ...]:
        """The terms of a NEAR operand: a term, an @list or a parenthesised OR of those."""
        if isinstance(node, Term):
            return (node.text,)
        if isinstance(node, ListRef):
            return node.terms
        if isinstance(node, Or) and all(isinstance(n, (Term, ListRef)) for n in node.operands):
            terms: list[str] = []
            for n in node.operands:
                terms.extend(self.near_terms(n, token))
            return tuple(dict.fromkeys(terms))
        raise self.error(
            "a NEAR operand must be a term, an @list or (a | b …)",
            token,
            "move & and ! outside the NEAR: (民警 NEAR/10 打人) & !演习",
        )

    def parse_unary(self) -> Node:
        if self.at_op("!"):
            self.take()
            return Not(self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.take()
        if token.kind in ("term", "phrase"):
            folded = self.fold(token.value.strip())
            return Term(folded)
        if token.kind == "list":
            if token.value not in self.lists:
                known = ", ".join(f"@{n}" for n in self.lists) or "none (add them under `lists`)"
                raise self.error(f'unknown list "@{token.value}"', token, f"lists defined: {known}")
            return ListRef(token.value, tuple(dict.fromkeys(self.fold(w) for w in self.lists[token.value])))
        if token.kind == "op" and token.value == "(":
            node = self.parse_or()
            if not self.at_op(")"):
                raise self.error("missing )", self.peek(), f"close the ( opened at position {token.pos}")
            self.take()
            return node
        if token.kind == "end":
            raise self.error("expression ends too early", token, "finish it with a term after the last operator")
        if token.kind == "near":
            raise self.error("NEAR needs a term on its left", token, "write A NEAR/10 B")
        raise self.error(f'unexpected "{token.value}"', token)


def parse(
    expr: str, lists: Mapping[str, Sequence[str]] | None = None, fold: Callable[[str], str] = lambda s: s
) -> Node:
    """Parse ``expr``; raises RuleSyntaxError with the 0-based position of the problem."""
    return Parser(expr, lists or {}, fold).parse()


def positive_terms(node: Node) -> set[str]:
    """Terms whose presence can make the expression true (for highlighting); not under ``!``."""
    if isinstance(node, Term):
        return {node.text}
    if isinstance(node, ListRef):
        return set(node.terms)
    if isinstance(node, Near):
        return {*node.left, *node.right}
    if isinstance(node, Not):
        return set()
    return set().union(*(positive_terms(n) for n in node.operands))


def all_terms(node: Node) -> set[str]:
    """Every term the expression mentions (for the automaton)."""
    if isinstance(node, Not):
        return all_terms(node.operand)
    if isinstance(node, (And, Or)):
        return set().union(*(all_terms(n) for n in node.operands))
    return positive_terms(node)
