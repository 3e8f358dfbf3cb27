"""Personal data written the ways people write it never reaches anything sent (issue 13 item 11):
the digest as HTML, plain text, .docx attachment and webhook markdown, immediate and surge alerts
by mail and webhook, including the links (post, event and crawl-error URLs)."""

from __future__ import annotations

import email
import email.policy
import html
import io
import json
import re
import unicodedata
import urllib.parse
import zipfile
from datetime import timedelta
from pathlib import Path

from alerts_testlib import SEND_AT, WEBHOOK_ALERTS, Seed, WebhookServer, make_app, webhook_environ

from alerts.docx_export import build_docx
from alerts.render import digest_html, digest_markdown, digest_text, environment
from alerts.service import build_digest, select_groups, send_digests, send_immediate_alerts

NOW = SEND_AT + timedelta(minutes=1)  # 08:01 local: the digest is due, quiet hours are over

ID = "440301199003071230"
MOBILE = "13812345678"
MOBILE2 = "13800138000"
LANDLINE = "075587654321"
LANDLINE2 = "01062345678"
CARD = "6217000123456789019"  # Luhn valid
CARD_BAD = "6222021234567894"[:-1] + "5"  # fails Luhn
SECRETS = (ID, MOBILE, MOBILE2, LANDLINE, LANDLINE2, CARD, CARD_BAD)
LOCAL_PARTS = ("zhangsan", "lisi", "wangwu")
CN = dict(zip("0123456789", "〇一二三四五六七八九"))
FW = str.maketrans("0123456789", "０１２３４５６７８９")

PII_URL = f"https://bbs.example.cn/thread?mobile={MOBILE2}&email=zhangsan%40163.com&tid=42"
PII_PATH_URL = f"https://bbs.example.cn/user/{MOBILE}/posts"
ERROR_URL = f"https://city.example.cn/list?phone={MOBILE}"
TITLE = f"举报人电话{''.join(CN[c] for c in MOBILE)}：民警殴打群众"
TEXT = (
    f"民警殴打群众。举报人身份证{ID[:3]} {ID[3:6]} {ID[6:10]} {ID[10:14]} {ID[14:]}，"
    f"手机1381-2345-678，又写作(138)1234-5678、{MOBILE.translate(FW)}，家属座机{LANDLINE2}，"
    f"单位电话0755 8765 4321，银行卡{CARD[:6]} {CARD[6:]}，收款卡号{CARD_BAD}，"
    f"邮箱zhangsan[at]163.com、lisi@法院.中国、wangwu @ qq.com，原帖 {PII_URL} 已删除。"
)

ALERTS = WEBHOOK_ALERTS.replace("excerpt_chars: 80, docx: false", "excerpt_chars: 2000, docx: true")


def digits_of(text: str) -> str:
    """Every digit ``text`` shows (any script, Chinese numerals, percent-encoded), in order."""
    text = urllib.parse.unquote_plus(html.unescape(text))
    out = []
    for ch in text:
        if ch in "〇一二三四五六七八九":
            out.append(str("〇一二三四五六七八九".index(ch)))
        elif (value := unicodedata.digit(ch, None)) is not None:
            out.append(str(value))
    return "".join(out)


def leaks(text: str) -> list[str]:
    """The secrets readable in ``text`` in any digit form, and email local parts left whole."""
    digits = digits_of(text)
    plain = unicodedata.normalize("NFKC", urllib.parse.unquote(html.unescape(text))).lower()
    return [s for s in SECRETS if s in digits] + [p for p in LOCAL_PARTS if p in plain]


def docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", xml))


def mail_texts(outbox: Path) -> list[str]:
    """Subject, every text part and every .docx attachment of every message in the outbox."""
    texts = []
    for path in sorted(outbox.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        texts.append(str(msg["Subject"]))
        for part in msg.walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                texts.append(part.get_content())
            elif part.get_filename(""):
                if part.get_filename().endswith(".docx"):
                    texts.append(docx_text(part.get_content()))
    return texts


def _seed(seed: Seed) -> None:
    ev = seed.event(f"民警殴打群众 举报人电话{MOBILE}", posts=2, sources=2, risk=3, at=NOW - timedelta(hours=5))
    first = seed.post(
        TITLE,
        TEXT,
        source="forum",
        at=NOW - timedelta(minutes=30),
        negative=True,
        risk=3,
        event_id=ev,
        topics={"police": ["民警"]},
        url=PII_URL,
    )
    seed.set_representative(ev, first)
    seed.post(
        f"转载：民警殴打群众 电话{MOBILE}",
        TEXT,
        source="city",
        at=NOW - timedelta(minutes=40),
        negative=True,
        risk=3,
        event_id=ev,
        topics={"police": ["民警"]},
        url=PII_PATH_URL,
    )
    for n in range(6):  # a surge of the police topic: its alert lists the top posts with their links
        seed.post(
            f"民警执法引争议（{n}）手机{MOBILE[:3]} {MOBILE[3:7]} {MOBILE[7:]}",
            TEXT,
            source="province",
            at=NOW - timedelta(hours=1, minutes=n),
            negative=True,
            risk=1,
            topics={"police": ["民警"]},
            url=f"{PII_PATH_URL}?n={n}",
        )
    seed.run("central")
    seed.run("city", status="failed", items=0, new=0, error=f"HTTP 404 for {ERROR_URL}")


def test_rendered_digest_carries_no_personal_number(config_dir: Path, tmp_path: Path) -> None:
    app = make_app(config_dir, f"sqlite:///{tmp_path / 'r.db'}", alerts=ALERTS)
    with app.session() as session:
        _seed(Seed(session))
    d = build_digest(app, select_groups(app, "press-office")[0], SEND_AT, NOW, chart=False)
    env = environment()
    outputs = {
        "html": digest_html(env, d),
        "text": digest_text(env, d),
        "markdown": digest_markdown(env, d),
        "docx": docx_text(build_docx(d)),
    }
    for name, text in outputs.items():
        assert not leaks(text), (name, leaks(text))
    # the links went out masked, not dropped, and stay links
    assert "mobile=138****8000&amp;email=z*******%40163.com&amp;tid=42" in outputs["html"]
    assert "mobile=138****8000&email=z*******%40163.com&tid=42" in outputs["text"]
    assert "user/138****5678/posts" in outputs["text"] and "phone=138****5678" in outputs["text"]
    assert "mobile=138****8000" in outputs["docx"] and "440 301 **** **** 1230" in outputs["docx"]
    app.close()


def test_sent_mail_and_webhooks_carry_no_personal_number(
    config_dir: Path, tmp_path: Path, webhook_server: WebhookServer
) -> None:
    app = make_app(config_dir, f"sqlite:///{tmp_path / 's.db'}", alerts=ALERTS)
    with app.session() as session:
        _seed(Seed(session))
    environ = webhook_environ(webhook_server)
    sent = send_digests(app, NOW, environ=environ) + send_immediate_alerts(app, NOW, environ=environ)
    assert sent and all(r.status == "sent" for r in sent)
    kinds = {r.key.split(":")[1] if r.key.startswith("alert:") else "digest" for r in sent}
    assert {"event", "surge", "digest"} <= kinds
    mails = mail_texts(app.config.outbox_dir)
    hooks = [r.target + json.dumps(r.json(), ensure_ascii=False) for r in webhook_server.requests]
    assert mails and hooks
    for text in mails + hooks:
        assert not leaks(text), (leaks(text), text[:300])
    everything = "\n".join(mails + hooks)
    assert "mobile=138****8000" in everything and "/user/138****5678/posts" in everything
    app.close()
