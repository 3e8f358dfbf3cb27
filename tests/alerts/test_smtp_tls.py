"""SMTP with TLS and authentication against aiosmtpd: SSL (port-465 style), STARTTLS (587 style),
the password from YUQING_SMTP_PASSWORD, the server's certificate verified (via ``smtp.ca_file``)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult
from alerts_testlib import Inbox, PortZeroController
from cryptography import x509

from alerts.channels.mail import send_smtp
from config.settings_model import MailSettings
from yuqing.base.errors import DeliveryError

MESSAGE = b"From: yuqing@example.cn\r\nTo: a@example.cn\r\nSubject: t\r\n\r\nhello\r\n"


def make_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the test's own CA)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Logins:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        self.seen.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)


@pytest.fixture
def tls(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    cert, key = make_cert(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


def _server(**kw: Any) -> Iterator[tuple[Inbox, Logins, PortZeroController]]:
    inbox, logins = Inbox(), Logins()
    # aiosmtpd's LOGIN mechanism and smtplib's disagree on the initial response: offer PLAIN only.
    controller = PortZeroController(inbox, hostname="127.0.0.1", port=0, authenticator=logins,
                                    auth_exclude_mechanism=["LOGIN"], **kw)
    controller.start()
    try:
        yield inbox, logins, controller
    finally:
        controller.stop()


def _mail(port: int, security: str, ca_file: Path | None) -> MailSettings:
    return MailSettings.model_validate({"transport": "smtp", "from_addr": "yuqing@example.cn", "smtp": {
        "host": "127.0.0.1", "port": port, "security": security, "username": "yuqing",
        "ca_file": str(ca_file) if ca_file else None, "timeout": 10}})


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_login(tls: tuple[Path, ssl.SSLContext], security: str) -> None:
    cert, context = tls
    # with implicit TLS aiosmtpd does not know the session is encrypted: allow AUTH explicitly
    kw = ({"ssl_context": context, "auth_require_tls": False} if security == "ssl"
          else {"tls_context": context, "require_starttls": True})
    for inbox, logins, controller in _server(**kw):
        send_smtp(_mail(controller.port, security, cert), "a@example.cn", MESSAGE, {"YUQING_SMTP_PASSWORD": "s3cret"})
        assert logins.seen == [("yuqing", "s3cret")]
        assert [rcpts for rcpts, _ in inbox.messages] == [["a@example.cn"]]


def test_wrong_password_and_untrusted_certificate_fail(tls: tuple[Path, ssl.SSLContext]) -> None:
    cert, context = tls
    for _inbox, _logins, controller in _server(tls_context=context, require_starttls=True):
        with pytest.raises(DeliveryError, match="535|Authentication"):
            send_smtp(_mail(controller.port, "starttls", cert), "a@example.cn", MESSAGE,
                      {"YUQING_SMTP_PASSWORD": "wrong"})
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            send_smtp(_mail(controller.port, "starttls", None), "a@example.cn", MESSAGE,
                      {"YUQING_SMTP_PASSWORD": "s3cret"})
        with pytest.raises(DeliveryError, match="YUQING_SMTP_PASSWORD"):
            send_smtp(_mail(controller.port, "starttls", cert), "a@example.cn", MESSAGE, {})
