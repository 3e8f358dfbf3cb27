"""Text made safe to keep and to show, shared by every stage: control characters stripped from
crawled strings, secrets redacted from error messages."""

from __future__ import annotations

import re
import traceback
import urllib.parse
from typing import Any

# C0 controls except \t and \n, DEL, C1 controls, the bidi embeddings/overrides (U+202A–202E) and
# isolates (U+2066–2069), lone surrogates (cannot be encoded) and the non-characters U+FFFE/U+FFFF.
UNSAFE_CHARS_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")

# Query parameters, URL user info and fragments that carry credentials in the webhook URLs and
# connection strings yuqing handles (access_token, key, sign, timestamp …: all of the query goes).
URL_RE = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>]+", re.I)
SECRET_PARAM_RE = re.compile(
    r"\b(access_token|token|key|apikey|api_key|secret|sign|signature|timestamp|password|passwd|pwd|auth)"
    r"=[^&\s\"'<>]+",
    re.I,
)
# A request path with its query, as http.client quotes it ("'/robot/send?access_token=…'").
PATH_QUERY_RE = re.compile(r"(?<![\w:/])(/[^\s?\"'<>]*)\?[^\s\"'<>]+")
REDACTED = "…"


def strip_controls(text: str) -> str:
    """``text`` without the characters that no output should carry (see ``UNSAFE_CHARS_RE``);
    line breaks and tabs are kept."""
    return UNSAFE_CHARS_RE.sub("", text) if UNSAFE_CHARS_RE.search(text) else text


def strip_controls_deep(value: Any) -> Any:
    """``strip_controls`` applied to every string in a value of dicts, lists and scalars."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, dict):
        return {strip_controls_deep(k): strip_controls_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_controls_deep(v) for v in value]
    return value


def redact_url(url: str) -> str:
    """A URL as it may be shown: scheme, host, port and path; user info, query, fragment and
    token-like path segments replaced by ``…`` (webhook tokens, signatures, timestamps and
    passwords live there)."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    userinfo = ""
    head = rest.split("?", 1)[0].split("#", 1)[0]
    if sep and "@" in head:  # a password may hold "/" or ":": everything up to the last "@" goes
        userinfo, rest = f"{REDACTED}@", rest[head.rindex("@") + 1 :]
    try:
        parts = urllib.parse.urlsplit(f"{scheme}{sep}{rest}")
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return f"{scheme}{sep}{userinfo}{REDACTED}"
    path = "/".join(_redact_segment(seg) for seg in parts.path.split("/"))
    return urllib.parse.urlunsplit(
        (
            parts.scheme,
            userinfo + host + port,
            path,
            REDACTED if parts.query else "",
            REDACTED if parts.fragment else "",
        )
    )


def _redact_segment(segment: str) -> str:
    """A path segment that looks like a token (Slack's T…/B…/secret, Feishu's hook id) becomes ``…``."""
    if len(segment) >= 20 or (len(segment) >= 8 and any(ch.isdigit() for ch in segment)):
        return REDACTED
    return segment


def redact(message: str) -> str:
    """An error message fit to store and log: every URL in it redacted (``redact_url``) and any
    other ``token=…``-style value hidden. The one redaction function for errors."""
    message = URL_RE.sub(lambda m: redact_url(m.group(0)), message)
    message = PATH_QUERY_RE.sub(lambda m: f"{m.group(1)}?{REDACTED}", message)
    return SECRET_PARAM_RE.sub(lambda m: f"{m.group(1)}={REDACTED}", message)


def redacted_traceback(exc: BaseException) -> str:
    """An exception's traceback to log, passed through ``redact`` (its last line repeats the
    message, which may hold a webhook URL)."""
    return redact("".join(traceback.format_exception(exc)))
