"""Render digests and alerts: Jinja2 (autoescape on for HTML) with CSS inlined for mail clients,
a plain-text alternative, markdown for chat webhooks, and the MIME message itself."""

from __future__ import annotations

import hashlib
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from alerts.digest import Digest
from yuqing.base.text import strip_controls

DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
# Characters that would let a crawled string add links or formatting to chat markdown.
MD_ESCAPES = str.maketrans(
    {
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "*": "＊",
        "_": "＿",
        "`": "｀",
        "#": "＃",
        "<": "＜",
        ">": "＞",
        "|": "｜",
        "~": "～",
        "\n": " ",
        "\r": " ",
    }
)


@dataclass
class AlertView:
    """A short immediate or admin alert."""

    subject: str
    headline: str
    lines: list[str]
    url: str = ""
    console_url: str = ""  # its page in the console (settings web.base_url), or ""
    footer: str = "舆情监测系统自动通报。个人信息已做脱敏处理。"
    extras: dict[str, str] = field(default_factory=dict)


def md_escape(value: object) -> str:
    """A crawled string made inert in chat markdown (WeCom, DingTalk, Slack)."""
    return str(value).translate(MD_ESCAPES)


def md_url(value: object) -> str:
    """A URL safe inside a markdown link: no spaces, parentheses or angle brackets."""
    return urllib.parse.quote(href(value), safe=":/?#@!$&'*+,;=%~.-_")


def href(value: object) -> str:
    """Only http(s) links are clickable: a crawled ``javascript:`` URL becomes ``#``."""
    url = str(value).strip()
    return url if urllib.parse.urlsplit(url).scheme.lower() in ("http", "https") else "#"


def one_line(value: str) -> str:
    """Header-safe text: no line breaks (no header injection), no control or bidi characters,
    spaces collapsed."""
    return " ".join(strip_controls(str(value)).split())


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("alerts", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["md"] = md_escape
    env.filters["mdurl"] = md_url
    env.filters["href"] = href
    return env


def inline_css(html: str) -> str:
    """Move the <style> rules into style attributes (Outlook and QQ Mail drop <style>)."""
    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False).inline(html)


def digest_html(env: Environment, d: Digest) -> str:
    """The digest as mail-ready HTML (the same file is the browser preview: no images to embed)."""
    return inline_css(env.get_template("digest.html.j2").render(d=d))


def digest_text(env: Environment, d: Digest) -> str:
    return env.get_template("digest.txt.j2").render(d=d)


def digest_markdown(env: Environment, d: Digest) -> str:
    return env.get_template("digest.md.j2").render(d=d)


def digest_subject(d: Digest) -> str:
    state = "零舆情" if d.zero else f"负面{d.negative}条"
    partial = f"（非完整，截至{d.partial_until}）" if d.partial_until else ""
    return one_line(f"【{d.title}】{d.group_name} {d.date_label}{partial}：{state}")


def alert_html(env: Environment, a: AlertView) -> str:
    return inline_css(env.get_template("alert.html.j2").render(a=a))


def alert_text(env: Environment, a: AlertView) -> str:
    return env.get_template("alert.txt.j2").render(a=a)


def alert_markdown(env: Environment, a: AlertView) -> str:
    return env.get_template("alert.md.j2").render(a=a)


@dataclass(frozen=True)
class Sender:
    """The From of every message."""

    name: str
    addr: str


def _address(name: str, addr: str) -> Address:
    local, _, domain = addr.partition("@")
    return Address(display_name=one_line(name), username=local, domain=domain or "localhost")


def build_email(
    sender: Sender,
    to: str,
    subject: str,
    text: str,
    html: str,
    key: str,
    now: datetime,
    docx: tuple[str, bytes] | None = None,
) -> EmailMessage:
    """multipart/alternative (text, then HTML: its chart is HTML too, no images), optionally
    inside multipart/mixed with a Word attachment. The subject is RFC 2047 encoded by the policy."""
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = one_line(subject)
    msg["From"] = _address(sender.name, sender.addr)
    msg["To"] = to
    msg["Date"] = format_datetime(now)
    # Short enough not to be folded; one id per (key, recipient), so retries keep the same id.
    digest = hashlib.sha1(f"{key}|{to}|{now.isoformat()}".encode()).hexdigest()[:24]
    msg["Message-ID"] = f"<{digest}@{sender.addr.partition('@')[2] or 'localhost'}>"
    msg["X-Yuqing-Key"] = one_line(key)
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    if docx:
        name, data = docx
        msg.add_attachment(data, *DOCX_TYPE, filename=name)
    return msg
