"""The one exception hierarchy of yuqing.

YuqingError                 every error a user can cause or fix; the CLI prints ``Error: …`` + hint
├── ConfigError             one or more problems in the YAML files (``issues`` lists them all)
├── StorageError            database unreachable, not migrated, or refused a write
├── CrawlError              a source could not be crawled at all
├── RuleSyntaxError         a topic rule expression does not parse (carries the position)
├── ModelError              a trained model is missing, unreadable or cannot be trained
└── DeliveryError           a digest or alert could not be delivered
    └── DigestError         some groups' digests could not be built (the others were still sent)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class YuqingError(Exception):
    """Base class: a message for the user and an optional hint on how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in one config file, located by line (1-based, 0 when unknown)."""

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(YuqingError):
    """The configuration is invalid; ``issues`` holds every problem found in every file."""

    def __init__(self, issues: list[ConfigIssue], hint: str | None = None) -> None:
        self.issues = list(issues)
        lines = "\n".join(str(i) for i in self.issues)
        count = len(self.issues)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"configuration has {count} {noun}:\n{lines}",
            hint or "fix the lines above, then run `yuqing config check`",
        )


class StorageError(YuqingError):
    """The database cannot be used as asked."""


class CrawlError(YuqingError):
    """A source cannot be crawled."""


class RuleSyntaxError(YuqingError):
    """A rule expression is malformed at ``position`` (0-based character offset)."""

    def __init__(self, message: str, expression: str, position: int, hint: str | None = None) -> None:
        self.expression = expression
        self.position = position
        pointer = " " * position + "^"
        super().__init__(f"{message} at position {position}:\n  {expression}\n  {pointer}", hint)


class ModelError(YuqingError):
    """A model cannot be loaded or trained."""


class DeliveryError(YuqingError):
    """A message could not be delivered."""


class DigestError(DeliveryError):
    """Digests of ``failed`` groups could not be built; ``results`` holds what the other groups'
    digests delivered (they are sent before this is raised)."""

    def __init__(self, failed: dict[str, str], results: list[Any]) -> None:
        self.failed = dict(failed)
        self.results = list(results)
        detail = "; ".join(f"{group}: {reason}" for group, reason in self.failed.items())
        super().__init__(
            f"the digest of {len(self.failed)} group(s) could not be built: {detail}",
            "see the log for the traceback; the other groups' digests were sent",
        )
