"""With ``web.base_url`` set, each item of the digest (HTML, text, markdown) and each immediate alert
links to its page in the console, beside the original link, escaped for each format; without it,
no console link at all."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

from alerts_testlib import SEND_AT, WEBHOOK_ALERTS, Seed, WebhookServer, make_app, seed_day, webhook_environ

from alerts.render import digest_html, digest_markdown, digest_text, environment
from alerts.service import build_digest, select_groups, send_immediate_alerts
from storage.context import AppContext

BASE = "https://yuqing.example.gov.cn/console"
NOW = SEND_AT + timedelta(hours=2)  # 10:00 in Shanghai


def with_base_url(app: AppContext, base: str) -> None:
    path = app.config_dir / "settings.yaml"
    settings = path.read_text(encoding="utf-8")
    assert "\n  base_url:  " in settings
    path.write_text(settings.replace("\n  base_url:  ", f"\n  base_url: '{base}'  ", 1), encoding="utf-8")
    assert app.reload().settings.web.base_url == base.rstrip("/")


def rendered_digest(app: AppContext) -> tuple[list[int], list[str], str, str, str]:
    d = build_digest(app, select_groups(app, "press-office")[0], SEND_AT, SEND_AT)
    assert d.items and d.events
    env = environment()
    return (
        [i.id for i in d.items],
        [e.console_url for e in d.events],
        digest_html(env, d),
        digest_text(env, d),
        digest_markdown(env, d),
    )


def test_digest_items_and_events_link_to_the_console(app: AppContext) -> None:
    with app.session() as session:
        seed_day(Seed(session), SEND_AT)
    with_base_url(app, BASE + "/")  # a trailing slash makes no double slash
    ids, events, html, text, markdown = rendered_digest(app)
    for pid in ids:
        link = f"{BASE}/posts/{pid}"
        assert f'href="{link}"' in html
        assert f"   控制台：{link}\n" in text
    for pid in ids[:5]:  # the markdown summary lists the first five
        assert f"「#{pid}」 [控制台]({BASE}/posts/{pid})" in markdown
    assert all(e.startswith(f"{BASE}/events/") and e.rsplit("/", 1)[1].isdigit() for e in events)
    for link in events:
        assert f'href="{link}"' in html and f"  控制台：{link}\n" in text
    assert "https://" in text.split("控制台：")[0]  # the original links are still there


def test_no_base_url_no_console_link(sqlite_app: AppContext) -> None:
    with sqlite_app.session() as session:
        seed_day(Seed(session), SEND_AT)
    _, events, html, text, markdown = rendered_digest(sqlite_app)
    assert events == [""] * len(events)
    assert "控制台" not in html + text + markdown and "/posts/" not in html + text + markdown


def test_the_base_url_is_escaped_for_each_format(sqlite_app: AppContext) -> None:
    with sqlite_app.session() as session:
        seed_day(Seed(session), SEND_AT)
    with_base_url(sqlite_app, 'https://yq.example.gov.cn/a"b(c)')
    ids, _, html, text, markdown = rendered_digest(sqlite_app)
    assert f'href="https://yq.example.gov.cn/a&quot;b(c)/posts/{ids[0]}"' in html and 'a"b' not in html
    assert f"https://yq.example.gov.cn/a%22b%28c%29/posts/{ids[0]})" in markdown  # no early end of the link
    assert f'控制台：https://yq.example.gov.cn/a"b(c)/posts/{ids[0]}' in text  # plain text needs none


def _alert_posts(app: AppContext) -> tuple[int, int]:
    with app.session() as session:
        seed = Seed(session)
        event = seed.event("民警殴打群众", posts=2, sources=2, risk=3, at=NOW - timedelta(hours=2))
        for n, source in enumerate(["forum", "central"]):
            seed.post(
                f"民警殴打群众（{n}）",
                "民警殴打群众。",
                source=source,
                at=NOW - timedelta(hours=1, minutes=n),
                negative=True,
                risk=3,
                topics={"police": ["民警"]},
                event_id=event,
            )
        lone = seed.post(
            "法院执行局被指拖延",
            "当事人称法院拖延执行。",
            source="province",
            at=NOW - timedelta(hours=1),
            negative=True,
            risk=2,
            topics={"courts": ["法院"]},
        )
    return event, lone


def test_immediate_alerts_link_the_event_or_the_post(app: AppContext) -> None:
    event, lone = _alert_posts(app)
    with_base_url(app, BASE)
    results = send_immediate_alerts(app, NOW)
    assert {r.key for r in results if r.status == "sent"} >= {f"alert:event:{event}", f"alert:post:{lone}"}
    bodies = {}
    for path in app.config.outbox_dir.glob("alert_*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        html = message.get_body(("html",))
        plain = message.get_body(("plain",))
        assert html is not None and plain is not None
        bodies[path.name] = (html.get_content(), plain.get_content())
    event_mail = next(b for name, b in bodies.items() if "event" in name)
    post_mail = next(b for name, b in bodies.items() if "post" in name)
    assert f'href="{BASE}/events/{event}"' in event_mail[0] and "在控制台查看</a>" in event_mail[0]
    assert f"控制台：{BASE}/events/{event}" in event_mail[1] and "原文：https://" in event_mail[1]
    assert f'href="{BASE}/posts/{lone}"' in post_mail[0] and "在控制台查看</a>" in post_mail[0]
    assert f"控制台：{BASE}/posts/{lone}" in post_mail[1]


def test_chat_alerts_carry_the_console_link_in_markdown(
    config_dir: Path, tmp_path: Path, webhook_server: WebhookServer
) -> None:
    app = make_app(config_dir, f"sqlite:///{tmp_path / 'w.db'}", alerts=WEBHOOK_ALERTS)
    _, lone = _alert_posts(app)
    with_base_url(app, BASE)
    send_immediate_alerts(app, NOW, environ=webhook_environ(webhook_server))
    contents = [r.json()["markdown"]["content"] for r in webhook_server.requests if r.path == "/wecom"]
    assert any(f"[在控制台查看]({BASE}/posts/{lone})" in c for c in contents), contents
    app.close()
