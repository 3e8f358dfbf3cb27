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

from config.settings_model import MailSettings
from yuqing.base.errors import DeliveryError

logger = logging.getLogger(__name__)
PASSWORD_ENV = "YUQING_SMTP_PASSWORD"


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
        raise DeliveryError(f"cannot write to the outbox {outbox}: {exc}",
                            "check that the data directory is writable") from None
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


def send_smtp(mail: MailSettings, recipient: str, message: bytes, environ: Mapping[str, str]) -> None:
    """Send one message to one recipient; every SMTP or network problem becomes a DeliveryError."""
    password = environ.get(PASSWORD_ENV)
    if mail.smtp.username and not password:
        raise DeliveryError(f"SMTP username {mail.smtp.username!r} is set but {PASSWORD_ENV} is not",
                            f"export {PASSWORD_ENV}=… in the daemon's environment")
    try:
        with _connect(mail) as client:
            if mail.smtp.username:
                client.login(mail.smtp.username, password or "")
            refused = client.sendmail(mail.from_addr, [recipient], message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {mail.smtp.host}:{mail.smtp.port}: {exc}",
                            "check mail.smtp in settings.yaml and that the server is reachable") from None
    if refused:
        raise DeliveryError(f"SMTP refused {recipient}: {refused[recipient]}")


def send_email(mail: MailSettings, outbox: Path, key: str, recipient: str, message: bytes,
               environ: Mapping[str, str]) -> str:
    """Deliver by the configured transport; returns where the message went."""
    if mail.transport == "outbox":
        return str(write_outbox(outbox, key, recipient, message))
    send_smtp(mail, recipient, message, environ)
    return f"smtp://{mail.smtp.host}:{mail.smtp.port}"
