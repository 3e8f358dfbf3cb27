"""Turn a rendered digest or alert into the recorded messages (one per channel and recipient)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def digest_messages(env: Environment, config: Config, d: Digest, targets: list[Target], key: str,
                    now: datetime, docx: bytes | None = None) -> list[Outgoing]:
    """One recorded message per target for a digest."""
    subject = r.digest_subject(d)
    text = r.digest_text(env, d)
    out = []
    html = r.digest_html(env, d) if any(t.type == EMAIL for t in targets) else ""
    markdown = r.digest_markdown(env, d)
    attachment = (f"{d.title}-{d.group_id}-{d.date_label}.docx", docx) if docx else None
    for t in targets:
        if t.type == EMAIL:
            msg = r.build_email(sender(config), t.recipient, subject, text, html, key, now, d.chart_png, attachment)
            payload = {"type": EMAIL, "eml": msg.as_string()}
        else:
            payload = {"type": t.type, "body": webhook.payload(t.type, subject, markdown, text)}
        out.append(Outgoing(key, "digest", t.channel, t.recipient, subject, payload))
    return out


def alert_messages(env: Environment, config: Config, a: r.AlertView, targets: list[Target], key: str, kind: str,
                   now: datetime, not_before: datetime | None = None) -> list[Outgoing]:
    """One recorded message per target for an immediate or admin alert."""
    text, markdown = r.alert_text(env, a), r.alert_markdown(env, a)
    html = r.alert_html(env, a)
    out = []
    for t in targets:
        if t.type == EMAIL:
            msg = r.build_email(sender(config), t.recipient, a.subject, text, html, key, now)
            payload = {"type": EMAIL, "eml": msg.as_string()}
        else:
            payload = {"type": t.type, "body": webhook.payload(t.type, a.subject, markdown, text)}
        out.append(Outgoing(key, kind, t.channel, t.recipient, r.one_line(a.subject), payload, not_before))
    return out
