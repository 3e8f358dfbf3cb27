"""The digest through a real SMTP server (aiosmtpd): arrives once, well-formed, escaped, masked;
survives the server being down; is never sent twice (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

from alerts_testlib import (
    SEND_AT,
    WHISTLEBLOWER_ID,
    WHISTLEBLOWER_PHONE,
    Inbox,
    PortZeroController,
    Seed,
    SmtpServer,
    make_app,
    seed_day,
)
from sqlalchemy import select

from alerts.service import retry_pending, send_digests
from storage.context import AppContext
from storage.models import DeliveryRow

NOW = SEND_AT + timedelta(minutes=2)
HOSTILE = '<script>alert("x")</script>民警殴打群众'


def _seed(app: AppContext) -> None:
    with app.session() as session:
        seed = Seed(session)
        seed_day(seed, SEND_AT)
        seed.post(
            HOSTILE,
            f"民警殴打群众。知情人电话{WHISTLEBLOWER_PHONE}，身份证{WHISTLEBLOWER_ID}。",
            source="central",
            negative=True,
            risk=3,
            topics={"police": ["民警"]},
        )


def _rows(app: AppContext) -> list[DeliveryRow]:
    with app.session() as session:
        return list(session.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))


def _body(msg, subtype: str) -> str:  # type: ignore[no-untyped-def]
    return msg.get_body(preferencelist=(subtype,)).get_content()


def test_digest_arrives_once_well_formed_escaped_and_masked(
    config_dir: Path, db_url: str, smtp_server: SmtpServer
) -> None:
    app = make_app(config_dir, db_url, smtp_server)
    _seed(app)
    results = send_digests(app, NOW)
    mine = [r for r in results if r.key == "digest:2026-11-27:press-office"]
    assert sorted(r.recipient for r in mine) == ["analyst@example.cn", "chief@example.cn"]
    assert all(r.status == "sent" for r in results), results
    [msg] = smtp_server.inbox.to("analyst@example.cn")
    assert len(smtp_server.inbox.to("chief@example.cn")) == 1
    assert len(smtp_server.inbox.to("sz@example.cn")) == 1  # the other group's own digest

    assert msg.get_content_type() == "multipart/alternative"
    text_part, html_part = msg.get_payload()
    assert text_part.get_content_type() == "text/plain"
    assert html_part.get_content_type() == "text/html"  # the chart is HTML: no image part
    assert "近7日相关与负面信息" in html_part.get_content()

    raw = next(r for r in smtp_server.inbox.raw if b"analyst@example.cn" in r).decode("ascii")  # as on the wire
    encoded = ("\n" + raw).split("\nSubject:", 1)[1].split("\nFrom:", 1)[0]
    assert encoded.isascii() and "=?utf-8?" in encoded.lower()  # RFC 2047 on the wire
    assert str(make_header(decode_header(encoded.replace("\n", "")))) == "【舆情日报】政法委宣传处 2026-11-27：负面9条"
    assert msg["Subject"] == "【舆情日报】政法委宣传处 2026-11-27：负面9条"
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@localhost>")
    assert msg["Date"].datetime == NOW

    html = _body(msg, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and 'bgcolor="#d9363e"' in html and "style=" in html and "<style" not in html
    text = _body(msg, "plain")
    for body in (html, text):
        assert WHISTLEBLOWER_PHONE not in body and WHISTLEBLOWER_ID not in body
        assert "138****5678" in body
        assert "440301********1230" in body

    again = send_digests(app, NOW + timedelta(hours=1))
    assert again == []
    assert retry_pending(app, NOW + timedelta(hours=1)) == []
    assert len(smtp_server.inbox.to("analyst@example.cn")) == 1
    app.close()


def test_server_down_then_back_sends_exactly_once(config_dir: Path, db_url: str, smtp_server: SmtpServer) -> None:
    app = make_app(config_dir, db_url, smtp_server)
    _seed(app)
    port = smtp_server.port
    smtp_server.controller.stop()  # the server goes down
    results = send_digests(app, NOW)
    assert results and all(r.status == "failed" for r in results)
    rows = _rows(app)
    assert all(r.status == "failed" and r.attempts == 1 and r.last_error for r in rows)
    # the backoff counts from the moment each send failed (the run's start plus the time it took)
    assert all(timedelta(0) <= r.next_attempt_at - (NOW + timedelta(minutes=1)) < timedelta(seconds=30) for r in rows)

    assert retry_pending(app, NOW + timedelta(seconds=30)) == []  # backoff not over yet
    inbox = Inbox()
    back = PortZeroController(inbox, hostname="127.0.0.1", port=port)  # the server is back
    back.start()
    try:
        results = retry_pending(app, NOW + timedelta(minutes=2))
        assert sorted(r.status for r in results) == ["sent"] * 3
        assert retry_pending(app, NOW + timedelta(minutes=30)) == []
        assert send_digests(app, NOW + timedelta(minutes=30)) == []
    finally:
        back.stop()
    assert sorted(a for rcpts, _ in inbox.messages for a in rcpts) == [
        "analyst@example.cn",
        "chief@example.cn",
        "sz@example.cn",
    ]
    assert all(r.status == "sent" and r.attempts == 2 and r.sent_at for r in _rows(app))
    app.close()


class PickyInbox(Inbox):
    """Refuses one mailbox, accepts the others."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address.startswith("chief@"):
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_one_recipient_failing_does_not_block_the_others(config_dir: Path, tmp_path: Path) -> None:
    inbox = PickyInbox()
    controller = PortZeroController(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        server = SmtpServer("127.0.0.1", controller.port, inbox, controller)
        app = make_app(config_dir, f"sqlite:///{tmp_path / 'a.db'}", server)
        _seed(app)
        status = {r.recipient: r.status for r in send_digests(app, NOW)}
        assert status == {"analyst@example.cn": "sent", "chief@example.cn": "failed", "sz@example.cn": "sent"}
        failed = [r for r in _rows(app) if r.status == "failed"]
        assert "550" in failed[0].last_error
    finally:
        controller.stop()
    app.close()


def test_crash_mid_send_is_retried_after_the_lease(config_dir: Path, tmp_path: Path, smtp_server: SmtpServer) -> None:
    from alerts import deliveries as dl

    app = make_app(config_dir, f"sqlite:///{tmp_path / 'a.db'}", smtp_server)
    _seed(app)
    from alerts.service import queue_digest, select_groups

    ids = queue_digest(app, select_groups(app, "press-office")[0], SEND_AT, NOW)
    with app.session() as session:  # a process claimed it, then died
        assert dl.claim(session, ids[0], NOW, dl.LEASE)
    assert [r.recipient for r in retry_pending(app, NOW + timedelta(seconds=60))] == ["chief@example.cn"]
    assert [r.recipient for r in retry_pending(app, NOW + dl.LEASE)] == ["analyst@example.cn"]
    assert len(smtp_server.inbox.messages) == 2
    app.close()


def test_outbox_transport_writes_eml_files_once(sqlite_app: AppContext) -> None:
    _seed(sqlite_app)
    results = send_digests(sqlite_app, NOW)
    assert len(results) == 3 and all(r.status == "sent" for r in results)
    files = sorted(sqlite_app.config.outbox_dir.glob("*.eml"))
    assert len(files) == 3 and not list(sqlite_app.config.outbox_dir.glob(".tmp-*"))
    assert send_digests(sqlite_app, NOW + timedelta(hours=2)) == []
    assert len(list(sqlite_app.config.outbox_dir.glob("*.eml"))) == 3
    assert b"Subject: =?utf-8?" in files[0].read_bytes()


def test_two_workers_never_send_the_same_delivery_twice(config_dir: Path, db_url: str, smtp_server: SmtpServer) -> None:
    import threading

    from alerts import deliveries as dl
    from alerts.deliveries import Outgoing

    app = make_app(config_dir, db_url, smtp_server)
    with app.session() as session:
        dl.record(
            session,
            [
                Outgoing(
                    f"admin:test:{n}",
                    "admin",
                    "mail",
                    f"u{n}@example.cn",
                    "s",
                    {"type": "email", "eml": f"Subject: {n}\r\n\r\nbody {n}\r\n"},
                )
                for n in range(30)
            ],
            NOW,
        )
    workers = [AppContext.create(app.config_dir) for _ in range(2)]
    results: list[list[str]] = [[], []]

    def work(i: int) -> None:
        results[i] = [r.status for r in retry_pending(workers[i], NOW)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for worker in workers:
        worker.close()
    assert sorted(results[0] + results[1]) == ["sent"] * 30
    assert sorted(a for rcpts, _ in smtp_server.inbox.messages for a in rcpts) == sorted(
        f"u{n}@example.cn" for n in range(30)
    )
    app.close()
