"""Email out: an outbox folder of ``.eml`` files (the embedded default) or an SMTP server
(SSL on 465, STARTTLS on 587, plain for a local relay)."""

from __future__ import annotations

import hashlib
import logging
import os
import smtplib
import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path

from config.settings_model import SMTP_PASSWORD_ENV, MailSettings
from yuqing.base.errors import DeliveryError
from yuqing.base.text import redact

logger = logging.getLogger(__name__)
PASSWORD_ENV = SMTP_PASSWORD_ENV


def outbox_name(key: str, recipient: str) -> str:
    """One file per (key, recipient): a retry after a crash overwrites instead of duplicating."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)[:80]
    digest = hashlib.sha1(f"{key}|{recipient}".encode()).hexdigest()[:12]
    return f"{safe}-{digest}.eml"


def write_outbox(outbox: Path, key: str, recipient: str, message: bytes) -> Path:
    """Write the message atomically (temporary file, fsync, rename) into the outbox folder."""
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        target = outbox / outbox_name(key, recipient)
        fd, tmp = tempfile.mkstemp(dir=outbox, prefix=".tmp-", suffix=".eml")
        with os.fdopen(fd, "wb") as fh:
            fh.write(message)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise DeliveryError(
            f"cannot write to the outbox {outbox}: {exc}", "check that the data directory is writable"
        ) from None
    return target


def tls_context(mail: MailSettings) -> ssl.SSLContext:
    """Certificate and host name verified, against the system CAs and ``smtp.ca_file``."""
    context = ssl.create_default_context()
    if mail.smtp.ca_file:
        context.load_verify_locations(cafile=mail.smtp.ca_file)
    return context


def _connect(mail: MailSettings) -> smtplib.SMTP:
    smtp = mail.smtp
    if smtp.security == "ssl":
        return smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=tls_context(mail))
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    if smtp.security == "starttls":
        try:
            client.starttls(context=tls_context(mail))
        except BaseException:
            client.close()
            raise
    return client


def _hint(mail: MailSettings, exc: BaseException) -> str:
    """What to change for an SMTP failure; TLS spoken to a plain port is the usual mistake."""
    smtp = mail.smtp
    if (
        smtp.security == "ssl"
        and isinstance(exc, (ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionResetError))
        and not isinstance(exc, ssl.SSLCertVerificationError)
    ):
        return (
            f"port {smtp.port} does not speak TLS from the first byte: if the server expects STARTTLS "
            "(usually port 587, or 25) set mail.smtp.security: starttls; ssl is for port 465"
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            "the server's certificate is not trusted for this host name: use the name on the certificate as "
            "mail.smtp.host, or set mail.smtp.ca_file to the CA that signed it (certificates are always verified)"
        )
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the server refused the login: check mail.smtp.username and {PASSWORD_ENV}"
    if isinstance(exc, smtplib.SMTPNotSupportedError) and smtp.security == "starttls":
        return "the server does not offer STARTTLS on this port: use port 465 with security: ssl"
    return "check mail.smtp in settings.yaml and that the server is reachable"


def _password(mail: MailSettings, environ: Mapping[str, str]) -> str | None:
    """The login password, refusing to send it in clear (settings validation refuses it too)."""
    smtp = mail.smtp
    if not smtp.username:
        return None
    if smtp.security == "none" and not smtp.allow_plaintext_auth:
        raise DeliveryError(
            "SMTP login refused: with security: none the password would be sent in clear",
            "set mail.smtp.security to starttls or ssl (or allow_plaintext_auth: true for a local relay)",
        )
    password = environ.get(PASSWORD_ENV)
    if not password:
        raise DeliveryError(
            f"SMTP username {smtp.username!r} is set but {PASSWORD_ENV} is not",
            f"export {PASSWORD_ENV}=… in the daemon's environment",
        )
    return password


def send_smtp(mail: MailSettings, recipient: str, message: bytes, environ: Mapping[str, str]) -> None:
    """Send one message to one recipient; every SMTP or network problem becomes a DeliveryError."""
    password = _password(mail, environ)
    try:
        with _connect(mail) as client:
            if mail.smtp.username:
                client.login(mail.smtp.username, password or "")
            refused = client.sendmail(mail.from_addr, [recipient], message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {mail.smtp.host}:{mail.smtp.port}: {redact(str(exc))}", _hint(mail, exc)) from None
    if refused:
        raise DeliveryError(f"SMTP refused {recipient}: {refused[recipient]}")


def check_smtp(mail: MailSettings, environ: Mapping[str, str]) -> str:
    """Connect as sending would (TLS and certificate verified), log in when a username is set, and
    say what worked; a DeliveryError with a hint otherwise. Sends nothing."""
    smtp = mail.smtp
    password = _password(mail, environ)
    try:
        with _connect(mail) as client:
            if smtp.username:
                client.login(smtp.username, password or "")
            client.noop()
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {redact(str(exc))}", _hint(mail, exc)) from None
    how = {"ssl": "TLS, certificate verified", "starttls": "STARTTLS, certificate verified", "none": "no encryption"}[
        smtp.security
    ]
    login = f", logged in as {smtp.username}" if smtp.username else ", no login configured"
    return f"SMTP {smtp.host}:{smtp.port} answers ({how}{login})"


def send_email(
    mail: MailSettings, outbox: Path, key: str, recipient: str, message: bytes, environ: Mapping[str, str]
) -> str:
    """Deliver by the configured transport; returns where the message went."""
    if mail.transport == "outbox":
        return str(write_outbox(outbox, key, recipient, message))
    send_smtp(mail, recipient, message, environ)
    return f"smtp://{mail.smtp.host}:{mail.smtp.port}"
