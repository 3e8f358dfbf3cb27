"""SMTP with TLS and authentication against aiosmtpd: SSL (port-465 style), STARTTLS (587 style),
the password from YUQING_SMTP_PASSWORD, the server's certificate verified (via ``smtp.ca_file``)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult
from alerts_testlib import Inbox, PortZeroController
from click.testing import CliRunner
from cryptography import x509

from alerts.channels.mail import check_smtp, send_smtp
from config.settings_model import MailSettings, SmtpSettings
from yuqing.base.errors import DeliveryError
from yuqing.cli import cli

MESSAGE = b"From: yuqing@example.cn\r\nTo: a@example.cn\r\nSubject: t\r\n\r\nhello\r\n"


def make_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the test's own CA)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
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
    controller = PortZeroController(
        inbox, hostname="127.0.0.1", port=0, authenticator=logins, auth_exclude_mechanism=["LOGIN"], **kw
    )
    controller.start()
    try:
        yield inbox, logins, controller
    finally:
        controller.stop()


def _mail(port: int, security: str, ca_file: Path | None) -> MailSettings:
    return MailSettings.model_validate(
        {
            "transport": "smtp",
            "from_addr": "yuqing@example.cn",
            "smtp": {
                "host": "127.0.0.1",
                "port": port,
                "security": security,
                "username": "yuqing",
                "ca_file": str(ca_file) if ca_file else None,
                "timeout": 10,
            },
        }
    )


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_login(tls: tuple[Path, ssl.SSLContext], security: str) -> None:
    cert, context = tls
    # with implicit TLS aiosmtpd does not know the session is encrypted: allow AUTH explicitly
    kw = (
        {"ssl_context": context, "auth_require_tls": False}
        if security == "ssl"
        else {"tls_context": context, "require_starttls": True}
    )
    for inbox, logins, controller in _server(**kw):
        send_smtp(_mail(controller.port, security, cert), "a@example.cn", MESSAGE, {"YUQING_SMTP_PASSWORD": "s3cret"})
        assert logins.seen == [("yuqing", "s3cret")]
        assert [rcpts for rcpts, _ in inbox.messages] == [["a@example.cn"]]


def test_wrong_password_and_untrusted_certificate_fail(tls: tuple[Path, ssl.SSLContext]) -> None:
    cert, context = tls
    for _inbox, _logins, controller in _server(tls_context=context, require_starttls=True):
        with pytest.raises(DeliveryError, match="535|Authentication"):
            send_smtp(
                _mail(controller.port, "starttls", cert), "a@example.cn", MESSAGE, {"YUQING_SMTP_PASSWORD": "wrong"}
            )
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            send_smtp(
                _mail(controller.port, "starttls", None), "a@example.cn", MESSAGE, {"YUQING_SMTP_PASSWORD": "s3cret"}
            )
        with pytest.raises(DeliveryError, match="YUQING_SMTP_PASSWORD"):
            send_smtp(_mail(controller.port, "starttls", cert), "a@example.cn", MESSAGE, {})


def test_login_is_never_sent_in_clear(config_dir: Path) -> None:
    """Item 10: with security: none and a username, nothing reaches the server (even when the
    settings were built around the validation); with the opt-in it logs in."""
    inbox, logins = Inbox(), Logins()
    controller = PortZeroController(
        inbox,
        hostname="127.0.0.1",
        port=0,
        authenticator=logins,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    try:
        clear = MailSettings.model_construct(
            transport="smtp",
            from_addr="yuqing@example.cn",
            smtp=SmtpSettings.model_construct(
                host="127.0.0.1",
                port=controller.port,
                security="none",
                allow_plaintext_auth=False,
                username="yuqing",
                timeout=10,
                ca_file=None,
            ),
        )
        with pytest.raises(DeliveryError, match="in clear") as info:
            send_smtp(clear, "a@example.cn", MESSAGE, {"YUQING_SMTP_PASSWORD": "s3cret"})
        assert "starttls" in (info.value.hint or "")
        assert logins.seen == [] and inbox.messages == []
        opted = MailSettings.model_validate(
            {
                "transport": "smtp",
                "from_addr": "yuqing@example.cn",
                "smtp": {
                    "host": "127.0.0.1",
                    "port": controller.port,
                    "security": "none",
                    "allow_plaintext_auth": True,
                    "username": "yuqing",
                    "timeout": 10,
                },
            }
        )
        send_smtp(opted, "a@example.cn", MESSAGE, {"YUQING_SMTP_PASSWORD": "s3cret"})
        assert logins.seen == [("yuqing", "s3cret")]
    finally:
        controller.stop()


def test_ssl_against_a_plain_port_suggests_starttls(tls: tuple[Path, ssl.SSLContext]) -> None:
    cert, context = tls
    for _inbox, _logins, controller in _server(tls_context=context, require_starttls=True):
        with pytest.raises(DeliveryError) as info:
            send_smtp(_mail(controller.port, "ssl", cert), "a@example.cn", MESSAGE, {"YUQING_SMTP_PASSWORD": "s3cret"})
        assert "security: starttls" in (info.value.hint or ""), info.value.hint
        with pytest.raises(DeliveryError) as info:
            check_smtp(_mail(controller.port, "ssl", cert), {"YUQING_SMTP_PASSWORD": "s3cret"})
        assert "security: starttls" in (info.value.hint or "")


def test_doctor_logs_in_and_verifies_the_certificate(config_dir: Path, tls: tuple[Path, ssl.SSLContext]) -> None:
    """Item 10: `yuqing doctor` fails on a wrong password and on an untrusted certificate (it used
    to connect and say NOOP only), and passes with both right."""
    cert, context = tls
    for _inbox, logins, controller in _server(tls_context=context, require_starttls=True):
        settings = (config_dir / "settings.yaml").read_text(encoding="utf-8")
        settings = (
            settings.replace("transport: outbox", "transport: smtp", 1)
            .replace("    port: 25\n", f"    port: {controller.port}\n", 1)
            .replace("    security: none", "    security: starttls", 1)
            .replace("    username:   ", "    username: yuqing   ", 1)
        )

        def doctor(ca: str, password: str, settings: str = settings) -> str:
            (config_dir / "settings.yaml").write_text(
                settings.replace("    ca_file:  ", f"    ca_file: {ca}  ", 1), encoding="utf-8"
            )
            env = {**os.environ, "YUQING_SMTP_PASSWORD": password}
            result = CliRunner(env=env).invoke(cli, ["--config", str(config_dir), "doctor"])
            return next(line for line in result.output.splitlines() if " mail " in f" {line} ")

        assert doctor(str(cert), "wrong").startswith("FAIL") and logins.seen[-1] == ("yuqing", "wrong")
        untrusted = doctor("", "s3cret")
        assert untrusted.startswith("FAIL") and "certificate" in untrusted
        ok = doctor(str(cert), "s3cret")
        assert ok.startswith("ok") and "logged in as yuqing" in ok and "certificate verified" in ok
