"""Chat webhooks: WeCom (企业微信), DingTalk (钉钉, with its HMAC-SHA256 signing), Feishu (飞书, with
its signing when a secret is set) and Slack, posted directly with their documented JSON."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from config.alerts_model import Channel, webhook_url_problem
from yuqing.base.errors import DeliveryError
from yuqing.base.text import redact

TIMEOUT = 15.0
WECOM_MAX_BYTES = 4000


def _truncate_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore") + "…"


# Slack's own escaping (https://api.slack.com/reference/surfaces/formatting#escaping): with "&",
# "<" and ">" escaped no crawled string can mention (<!channel>, <@U…>) or link (<url|label>).
SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Feishu text messages interpret tags (<at user_id="all">, <a>, <b> …) and [label](url) links and
# define no escape: the characters are replaced by their full-width forms, as in chat markdown.
FEISHU_ESCAPES = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］"})


def slack_text(text: str) -> str:
    """Plain text inert in a Slack message: no mention, link or channel broadcast."""
    return text.translate(SLACK_ESCAPES)


def feishu_text(text: str) -> str:
    """Plain text inert in a Feishu text message: no <at>, no tag, no [label](url) link."""
    return text.translate(FEISHU_ESCAPES)


def payload(kind: str, title: str, markdown: str, text: str) -> dict[str, Any]:
    """The JSON body each service documents for a markdown (or text) message. ``markdown`` has
    its crawled strings made inert already (WeCom, DingTalk); ``text`` is the plain render and is
    escaped here for the service that reads it (Feishu, Slack)."""
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": _truncate_bytes(markdown, WECOM_MAX_BYTES)}}
    if kind == "dingtalk":
        # The title is shown as plain text in the chat list; no tag survives there either.
        return {"msgtype": "markdown", "markdown": {"title": feishu_text(title), "text": markdown}}
    if kind == "feishu":
        return {"msg_type": "text", "content": {"text": feishu_text(text)}}
    if kind == "slack":
        return {"text": slack_text(text)}
    raise ValueError(f"not a webhook channel type: {kind}")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-encoded."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(mac).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: base64(HMAC-SHA256 keyed by "timestamp\\nsecret" over an empty message)."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def signed(
    channel: Channel, url: str, body: dict[str, Any], secret: str | None, now: datetime
) -> tuple[str, dict[str, Any]]:
    """URL and body with the service's signature added when a secret is configured."""
    if not secret:
        return url, body
    if channel.type == "dingtalk":
        ts = int(now.timestamp() * 1000)
        sep = "&" if "?" in url else "?"
        return f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(secret, ts)}", body
    if channel.type == "feishu":
        ts = int(now.timestamp())
        return url, {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
    return url, body


def _check_reply(channel: Channel, status: int, raw: bytes) -> None:
    text = redact(raw.decode("utf-8", "replace")[:300])
    if channel.type == "slack":
        if status != 200 or text.strip() not in ("ok", ""):
            raise DeliveryError(f"Slack webhook answered {status}: {text}")
        return
    try:
        reply = json.loads(text or "{}")
    except json.JSONDecodeError:
        raise DeliveryError(f"{channel.type} webhook answered {status} with non-JSON: {text}") from None
    code = reply.get("errcode", reply.get("code", reply.get("StatusCode", 0))) if isinstance(reply, dict) else 0
    if code not in (0, None):
        raise DeliveryError(
            f"{channel.type} webhook refused the message: {text}",
            "check the robot's keyword / IP / signing settings and the secret",
        )


def post(
    channel: Channel, body: dict[str, Any], environ: Mapping[str, str], now: datetime, timeout: float = TIMEOUT
) -> None:
    """POST one message to the channel's webhook (URL and secret from the environment). Every
    error is a DeliveryError whose message never holds the URL's token, timestamp or signature."""
    url = (environ.get(channel.url_env or "") or "").strip()
    if not url:
        raise DeliveryError(
            f"channel {channel.id}: environment variable {channel.url_env} is not set",
            f"export {channel.url_env}=<the robot's webhook URL>",
        )
    problem = webhook_url_problem(url)
    if problem:
        raise DeliveryError(
            f"channel {channel.id}: {channel.url_env} {problem}",
            f"set {channel.url_env} to the robot's webhook URL exactly as the service shows it",
        )
    secret = (environ.get(channel.secret_env) or "").strip() if channel.secret_env else None
    if channel.secret_env and not secret:
        raise DeliveryError(f"channel {channel.id}: environment variable {channel.secret_env} is not set")
    url, body = signed(channel, url, body, secret, now)
    try:
        request = urllib.request.Request(
            url,
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (URL from admin env)
            status, raw = response.status, response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"channel {channel.id}: HTTP {exc.code} {redact(str(exc.reason))}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:  # http.client.InvalidURL is a ValueError
        raise DeliveryError(
            f"channel {channel.id}: cannot reach the webhook: {redact(str(exc))}",
            f"check {channel.url_env} and that the service is reachable",
        ) from None
    _check_reply(channel, status, raw)
