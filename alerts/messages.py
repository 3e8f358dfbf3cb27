"""Turn a rendered digest or alert into the recorded messages (one per channel and recipient)."""

from __future__ import annotations

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

EMAIL = "email"


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


def _payload(target: Target, email: Callable[[str], EmailMessage], subject: str, markdown: str,
             text: str) -> dict[str, Any]:
    """What is stored to send ``target`` its copy: the whole email, or the webhook's JSON body."""
    if target.type == EMAIL:
        return {"type": EMAIL, "eml": email(target.recipient).as_string()}
    return {"type": target.type, "body": webhook.payload(target.type, subject, markdown, text)}


def digest_messages(env: Environment, config: Config, d: Digest, targets: list[Target], key: str,
                    now: datetime, docx: bytes | None = None) -> list[Outgoing]:
    """One recorded message per target for a digest."""
    subject, text, markdown = r.digest_subject(d), r.digest_text(env, d), r.digest_markdown(env, d)
    html = r.digest_html(env, d) if any(t.type == EMAIL for t in targets) else ""
    attachment = (f"{d.title}-{d.group_id}-{d.date_label}.docx", docx) if docx else None

    def email(to: str) -> EmailMessage:
        return r.build_email(sender(config), to, subject, text, html, key, now, d.chart_png, attachment)

    return [Outgoing(key, "digest", t.channel, t.recipient, subject, _payload(t, email, subject, markdown, text))
            for t in targets]


def alert_messages(env: Environment, config: Config, a: r.AlertView, targets: list[Target], key: str, kind: str,
                   now: datetime, not_before: datetime | None = None) -> list[Outgoing]:
    """One recorded message per target for an immediate or admin alert."""
    subject, text, markdown = r.one_line(a.subject), r.alert_text(env, a), r.alert_markdown(env, a)
    html = r.alert_html(env, a)

    def email(to: str) -> EmailMessage:
        return r.build_email(sender(config), to, subject, text, html, key, now)

    return [Outgoing(key, kind, t.channel, t.recipient, subject, _payload(t, email, subject, markdown, text),
                     not_before) for t in targets]
