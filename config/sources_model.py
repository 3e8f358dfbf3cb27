"""``sources.yaml``: what to collect, from where, how often and how politely."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from config.base import Identifier, NonEmptyStr, StrictModel, parse_duration

SourceKind = Literal["rss", "html", "json", "sitemap"]
MediaType = Literal["新闻", "论坛", "政务", "社交", "博客"]
MediaLevel = Literal["中央级", "省级", "市级", "县区级", "境外", "未知"]


class Schedule(StrictModel):
    """Either ``interval`` (``"30m"``) or ``cron`` (``"*/30 * * * *"``), with optional jitter."""

    interval: str | None = None
    cron: str | None = None
    jitter: str | None = None

    @field_validator("interval", "jitter")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise ValueError('must have 5 fields: "minute hour day month weekday", e.g. "*/30 * * * *"')
        return value

    @model_validator(mode="after")
    def _one_of(self) -> Schedule:
        if (self.interval is None) == (self.cron is None):
            raise ValueError('give exactly one of "interval" or "cron"')
        return self

    @property
    def interval_seconds(self) -> int | None:
        return parse_duration(self.interval) if self.interval else None

    @property
    def jitter_seconds(self) -> int | None:
        return parse_duration(self.jitter) if self.jitter else None


SELECTOR_HINT = (
    'write CSS such as "div.list a", "a::attr(href)" or "span.time::text", '
    'or XPath with the prefix "xpath:", e.g. "xpath://div[@class=\'list\']//a/@href"'
)


def selector_problem(expr: str) -> str | None:
    """Why a config selector could not be used at crawl time (compiled as the spiders do: parsel,
    CSS unless it starts with ``xpath:``), or ``None`` when it compiles."""
    from parsel import Selector  # the same library the spiders select with

    probe = Selector(text="<html></html>")
    try:
        if expr.startswith("xpath:"):
            probe.xpath(expr[len("xpath:") :].strip())
        else:
            probe.css(expr)
    except (SyntaxError, ValueError) as exc:  # cssselect raises SyntaxError subclasses, parsel's XPath ValueError
        kind = "XPath" if expr.startswith("xpath:") else "CSS selector"
        problem = f"invalid {kind} {expr!r}: {str(exc).removeprefix('XPath error: ')}"
        return problem + (' (an XPath needs the prefix "xpath:")' if expr.lstrip().startswith(("/", "(")) else "")
    return None


class Selectors(StrictModel):
    """CSS (default) or XPath (prefix ``xpath:``) selectors for ``html`` sources."""

    links: str | None = None
    next_page: str | None = None
    title: str | None = None
    body: str | None = None
    time: str | None = None
    author: str | None = None
    views: str | None = None
    likes: str | None = None
    reposts: str | None = None
    comments: str | None = None
    # list pages that carry the whole post (forums, message boards): one selector per item
    item: str | None = None

    @field_validator("*")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        problem = selector_problem(value) if value and value.strip() else None  # empty: as if not given
        if problem:
            raise ValueError(f"{problem}; {SELECTOR_HINT}")
        return value


class JsonPaths(StrictModel):
    """JMESPath expressions for ``json`` sources."""

    items: str
    next_url: str | None = None
    page_param: str | None = None
    url: str
    title: str
    text: str | None = None
    time: str | None = None
    author: str | None = None
    views: str | None = None
    likes: str | None = None
    reposts: str | None = None
    comments: str | None = None


class Source(StrictModel):
    """One public source."""

    id: Identifier
    name: NonEmptyStr
    kind: SourceKind
    start_urls: list[NonEmptyStr] = Field(default_factory=list)
    search_url: str | None = None
    schedule: Schedule = Schedule(interval="30m")
    media_type: MediaType = "新闻"
    media_level: MediaLevel = "未知"  # never guessed: a forum left unlabelled is not provincial media
    region: str | None = None
    enabled: bool = True
    disabled_reason: str | None = None
    max_pages: int = Field(5, ge=1, le=10_000)
    max_depth: int = Field(2, ge=0, le=20)
    max_items: int = Field(500, ge=1, le=1_000_000)
    concurrency: int | None = Field(None, ge=1, le=64)
    delay: float | None = Field(None, ge=0)
    timeout: float | None = Field(None, gt=0)
    obey_robots: bool | None = None
    refresh: bool = False
    follow_articles: bool = True
    encoding: str | None = None
    timezone: str | None = None
    to_simplified: bool = False
    headers_env: dict[str, str] = Field(default_factory=dict)
    cookies_env: dict[str, str] = Field(default_factory=dict)
    credential_hosts: list[str] | None = Field(
        None,
        description="origins (scheme://host[:port]) that get headers_env / cookies_env; "
        "default: the origins of start_urls and search_url",
    )
    allow_private: bool = Field(
        False,
        description="true: may fetch loopback/private/link-local addresses (default: only a "
        "start URL's own host when it is on one)",
    )
    selectors: Selectors | None = None
    json_paths: JsonPaths | None = None
    notes: str | None = None

    @field_validator("search_url")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None and "{keyword}" not in value:
            raise ValueError('must contain "{keyword}", e.g. "https://example.cn/search?q={keyword}"')
        return value

    @field_validator("credential_hosts")
    @classmethod
    def _origins(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        origins = []
        for entry in value:
            parts = urlsplit(entry.strip())
            try:
                port = parts.port
            except ValueError:
                port = -1
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or port == -1
                or parts.path not in ("", "/")
                or parts.query
                or parts.fragment
                or parts.username
            ):
                raise ValueError(
                    f'"{entry}" is not an origin: write scheme://host[:port], '
                    'e.g. "https://api.example.cn" or "http://10.0.0.5:8080"'
                )
            origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
        return origins

    @model_validator(mode="after")
    def _kind_needs(self) -> Source:
        if not self.start_urls and not self.search_url:
            raise ValueError('give "start_urls" (a non-empty list) or "search_url"')
        if self.kind == "json" and self.json_paths is None:
            raise ValueError('a "json" source needs "json_paths" (items, url, title …)')
        return self


class SourcesFile(StrictModel):
    """Top level of ``sources.yaml``."""

    sources: list[Source] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> SourcesFile:
        seen: set[str] = set()
        for source in self.sources:
            if source.id in seen:
                raise ValueError(f'source id "{source.id}" is used twice; ids must be unique')
            seen.add(source.id)
        return self

    def get(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)
