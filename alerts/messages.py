"""Turn a rendered digest or alert into the recorded messages (one per channel and recipient)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from jinja2 import Environment

from alerts import render as r
from alerts.channels import webhook
from alerts.deliveries import Outgoing
from alerts.digest import Digest
from config import Config
from config.alerts_model import Group
from yuqing.base.text import redact

EMAIL = "email"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Where one copy goes: a channel id, its type and the recipient (an address or the channel)."""

    channel: str
    type: str
    recipient: str


def group_targets(config: Config, group: Group) -> list[Target]:
    """A group's emails (through its email channel) and each of its webhook channels."""
    channels = {c.id: c for c in config.alerts.channels}
    mail_ids = [cid for cid in group.channels if cid in channels and channels[cid].type == EMAIL]
    targets = []
    if group.emails and (mail_ids or not group.channels):
        channel = mail_ids[0] if mail_ids else email_channel(config)
        targets += [Target(channel, EMAIL, addr) for addr in group.emails]
    for cid in group.channels:
        if cid in channels and channels[cid].type != EMAIL:
            targets.append(Target(cid, channels[cid].type, cid))
    return targets


def email_channel(config: Config) -> str:
    """The id of the first email channel, or ``email`` when alerts.yaml lists none."""
    return next((c.id for c in config.alerts.channels if c.type == EMAIL), EMAIL)


def admin_targets(config: Config) -> list[Target]:
    return [Target(email_channel(config), EMAIL, addr) for addr in config.alerts.admins]


def sender(config: Config) -> r.Sender:
    return r.Sender(config.settings.mail.from_name, config.settings.mail.from_addr)


def _payload(
    target: Target,
    email: Callable[[str], EmailMessage],
    subject: str,
    markdown: str,
    text: str,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """What is stored to send ``target`` its copy: the whole email, or the webhook's JSON body.
    A copy that cannot be built is stored with its ``error`` (its delivery fails visibly), so one
    channel's problem never stops the others."""
    try:
        if target.type == EMAIL:
            payload: dict[str, Any] = {"type": EMAIL, "eml": email(target.recipient).as_string()}
        else:
            payload = {"type": target.type, "body": webhook.payload(target.type, subject, markdown, text)}
    except Exception as exc:  # noqa: BLE001 — recorded on this delivery, the other targets go on
        logger.error(
            "cannot build the %s message for %s: %s",
            target.channel,
            target.recipient,
            redact(f"{type(exc).__name__}: {exc}"),
        )
        payload = {"type": target.type, "error": redact(f"message could not be built: {type(exc).__name__}: {exc}")}
    if warnings and target.type == EMAIL:
        payload["warnings"] = list(warnings)
    return payload


def note(payload: dict[str, Any]) -> str:
    """The problems recorded with a stored message, as one line for ``last_error``."""
    return "; ".join(str(w) for w in payload.get("warnings") or [])


def digest_messages(
    env: Environment,
    config: Config,
    d: Digest,
    targets: list[Target],
    key: str,
    now: datetime,
    docx: bytes | None = None,
    warnings: list[str] | None = None,
) -> list[Outgoing]:
    """One recorded message per target for a digest; ``warnings`` (an attachment that could not
    be built) go with each email and stay visible on its delivery."""
    subject, text, markdown = r.digest_subject(d), r.digest_text(env, d), r.digest_markdown(env, d)
    html = r.digest_html(env, d) if any(t.type == EMAIL for t in targets) else ""
    attachment = (f"{d.title}-{d.group_id}-{d.date_label}.docx", docx) if docx else None

    def email(to: str) -> EmailMessage:
        return r.build_email(sender(config), to, subject, text, html, key, now, attachment)

    out = []
    for t in targets:
        payload = _payload(t, email, subject, markdown, text, warnings)
        out.append(
            Outgoing(
                key, "digest", t.channel, t.recipient, subject, payload, note=payload.get("error") or note(payload)
            )
        )
    return out


def alert_messages(
    env: Environment,
    config: Config,
    a: r.AlertView,
    targets: list[Target],
    key: str,
    kind: str,
    now: datetime,
    not_before: datetime | None = None,
) -> list[Outgoing]:
    """One recorded message per target for an immediate or admin alert."""
    subject, text, markdown = r.one_line(a.subject), r.alert_text(env, a), r.alert_markdown(env, a)
    html = r.alert_html(env, a)

    def email(to: str) -> EmailMessage:
        return r.build_email(sender(config), to, subject, text, html, key, now)

    out = []
    for t in targets:
        payload = _payload(t, email, subject, markdown, text)
        out.append(
            Outgoing(key, kind, t.channel, t.recipient, subject, payload, not_before, note=payload.get("error", ""))
        )
    return out


def report_messages(
    config: Config,
    targets: list[Target],
    key: str,
    now: datetime,
    subject: str,
    text: str,
    html: str,
    markdown: str,
    docx: tuple[str, bytes] | None = None,
    warnings: list[str] | None = None,
) -> list[Outgoing]:
    """One recorded message per target for a rendered weekly, monthly or special report."""

    def email(to: str) -> EmailMessage:
        return r.build_email(sender(config), to, subject, text, html, key, now, docx)

    out = []
    for t in targets:
        payload = _payload(t, email, subject, markdown, text, warnings)
        out.append(
            Outgoing(
                key, "report", t.channel, t.recipient, subject, payload, note=payload.get("error") or note(payload)
            )
        )
    return out
