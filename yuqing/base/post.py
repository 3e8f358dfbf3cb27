"""The one data model passed between stages: spiders yield it, ``nlp`` reads it, storage saves it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from yuqing.base.clock import utcnow
from yuqing.base.text import strip_controls

# Query parameters that only track the reader; dropping them makes reposted links compare equal.
TRACKING_PARAMS = frozenset(
    {
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "utm_id",
        "spm",
        "share_token",
        "share_from",
        "sharer",
        "isappinstalled",
        "scene",
        "clicktime",
        "enterid",
        "wfr",
        "fbclid",
        "gclid",
        "mpshare",
        "srcid",
        "chksm",
    }
)
INDEX_PAGES = ("index.html", "index.htm", "index.shtml", "index.php", "default.html", "default.htm")


def canonicalize_url(url: str) -> str:
    """Return the canonical form of ``url``: lower-case scheme and host, no fragment, no tracking
    parameters, sorted query, no default port, and ``/index.html`` folded to ``/``."""
    parts = urlsplit(strip_controls(url).strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    path = parts.path or "/"
    for index in INDEX_PAGES:
        if path.endswith("/" + index):
            path = path[: -len(index)]
            break
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")
    ]
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))


def url_hash(canonical_url: str) -> str:
    """Stable 40-hex key of a canonical URL: the unique key of a stored post."""
    return hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class Post:
    """A public web post as collected: what every stage reads and writes.

    ``published_at`` and ``fetched_at`` are timezone-aware UTC. ``canonical_url`` is derived from
    ``url`` when not given. Engagement counts are ``None`` when the source does not show them.
    """

    source_id: str
    url: str
    title: str
    text: str
    author: str | None = None
    published_at: datetime | None = None
    fetched_at: datetime = field(default_factory=utcnow)
    canonical_url: str = ""
    language: str = "zh"
    views: int | None = None
    likes: int | None = None
    reposts: int | None = None
    comments: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.canonical_url:
            self.canonical_url = canonicalize_url(self.url)
        for name in ("published_at", "fetched_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"Post.{name} must be timezone-aware, got {value!r}")

    @property
    def key(self) -> str:
        """The unique key of this post in storage (hash of the canonical URL)."""
        return url_hash(strip_controls(self.canonical_url))

    @property
    def engagement(self) -> int:
        """Sum of the known engagement counts (0 when none is known)."""
        return sum(v for v in (self.views, self.likes, self.reposts, self.comments) if v)
