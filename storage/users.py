"""Console users and their login sessions.

Passwords are hashed with argon2 (argon2-cffi); a session cookie carries a random token of which the
database keeps only the SHA-256, with the session's CSRF token. After ``MAX_FAILURES`` wrong passwords
in a row a user is locked for ``LOCKOUT``. Every change is audited (``storage.audit``) by the caller's
name.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.audit import record
from storage.models import UserRow, WebSessionRow
from yuqing.base.errors import YuqingError

Role = Literal["admin", "analyst", "viewer"]
ROLES: tuple[str, ...] = get_args(Role)
MIN_PASSWORD = 8
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_AGE = timedelta(hours=12)
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class User:
    """A user as the console and the CLI see it (never the password hash)."""

    id: int
    name: str
    role: str
    unit: str | None
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def can_label(self) -> bool:
        """Labels change what the press office and every unit see (the analysis is one), so they
        are the press office's: analysts and admins of no unit. A unit handles its events."""
        return self.role in ("admin", "analyst") and not self.unit

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _user(row: UserRow) -> User:
    return User(row.id, row.name, row.role, row.unit, row.disabled, row.created_at, row.last_login_at)


def _check(name: str, role: str, password: str | None) -> None:
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise YuqingError(f'invalid user name "{name}"', "use 1-64 characters without spaces, e.g. wangmin")
    if role not in ROLES:
        raise YuqingError(f'unknown role "{role}"', f"roles: {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD:
        raise YuqingError(f"the password is shorter than {MIN_PASSWORD} characters", "choose a longer one")


def _row(session: Session, name: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        names = ", ".join(session.scalars(select(UserRow.name).order_by(UserRow.name))) or "none yet"
        raise YuqingError(f'no user "{name}"', f"users: {names}; add one with `yuqing users add NAME --role analyst`")
    return row


def check_unit(unit: str | None, units: Iterable[str]) -> str | None:
    """The unit (``None`` for none) if it is one of ``units`` (the recipient groups of alerts.yaml)."""
    known = list(units)
    if unit and unit not in known:
        raise YuqingError(
            f'unknown unit "{unit}"', f"units are the recipient groups of alerts.yaml: {', '.join(known)}"
        )
    return unit or None


def add_user(
    session: Session, name: str, *, role: str, unit: str | None, password: str, by: str, now: datetime
) -> User:
    """Create a user (raises YuqingError for a taken name, an unknown role or a short password)."""
    _check(name, role, password)
    if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
        raise YuqingError(f'user "{name}" exists', f"change it with `yuqing users passwd {name}`")
    row = UserRow(
        name=name,
        password_hash=_HASHER.hash(password),
        role=role,
        unit=unit or None,
        disabled=False,
        created_at=now,
        failed_logins=0,
    )
    session.add(row)
    session.flush()
    record(session, actor=by, action="user.add", target=f"user:{name}", detail={"role": role, "unit": unit}, now=now)
    return _user(row)


def set_password(session: Session, name: str, password: str, *, by: str, now: datetime) -> None:
    """Set a new password; the user's sessions end and a lockout is lifted."""
    row = _row(session, name)
    _check(name, row.role, password)
    row.password_hash, row.failed_logins, row.locked_until = _HASHER.hash(password), 0, None
    session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))
    record(session, actor=by, action="user.passwd", target=f"user:{name}", detail={}, now=now)


def update_user(
    session: Session,
    name: str,
    *,
    by: str,
    now: datetime,
    role: str | None = None,
    unit: str | None = None,
    disabled: bool | None = None,
) -> User:
    """Change a user's role, unit (``""``: none) or disabled flag; disabling ends their sessions."""
    row = _row(session, name)
    change: dict[str, object] = {}
    if role is not None:
        _check(name, role, None)
        row.role, change["role"] = role, role
    if unit is not None:
        row.unit, change["unit"] = unit or None, unit or None
    if disabled is not None:
        row.disabled, change["disabled"] = disabled, disabled
        if disabled:
            session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))
    record(session, actor=by, action="user.update", target=f"user:{name}", detail=change, now=now)
    return _user(row)


def list_users(session: Session) -> list[User]:
    return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.name))]


def get_user(session: Session, user_id: int) -> User | None:
    row = session.get(UserRow, user_id)
    return _user(row) if row is not None else None


class LoginRefused(YuqingError):
    """A wrong name or password, a disabled user, or a locked one (the message never says which name exists)."""


# One answer for an unknown name, a wrong password and a locked user: a lockout that only existing names
# get would tell which names exist (OWASP's authentication guidance). It states the rule instead.
REFUSED = f"用户名或密码错误，或账号已停用（连续输错 {MAX_FAILURES} 次，账号将锁定 {LOCKOUT.seconds // 60} 分钟）"


def authenticate(session: Session, name: str, password: str, now: datetime) -> User:
    """The user with this name and password, or LoginRefused; counts failures and locks after MAX_FAILURES."""
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        _HASHER.hash(password)  # the same time as a wrong password: no telling which names exist
        raise LoginRefused(REFUSED)
    if row.disabled or (row.locked_until is not None and row.locked_until > now):
        _HASHER.hash(password)  # no telling whether the password of a disabled account is right
        raise LoginRefused(REFUSED)
    try:
        _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        row.failed_logins += 1
        if row.failed_logins >= MAX_FAILURES:
            row.locked_until, row.failed_logins = now + LOCKOUT, 0
            record(session, actor=name, action="user.locked", target=f"user:{name}", detail={}, now=now)
        raise LoginRefused(REFUSED) from None
    row.failed_logins, row.locked_until, row.last_login_at = 0, None, now
    if _HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = _HASHER.hash(password)
    return _user(row)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, now: datetime) -> tuple[str, str]:
    """A new login session: (cookie token, CSRF token). Expired sessions are cleared on the way."""
    session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WebSessionRow(
            token_hash=_digest(token), user_id=user.id, csrf=csrf, created_at=now, expires_at=now + SESSION_AGE
        )
    )
    return token, csrf


def session_user(session: Session, token: str, now: datetime) -> tuple[User, str] | None:
    """The enabled user and CSRF token of a live session, or None."""
    row = session.get(WebSessionRow, _digest(token))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or user.disabled:
        return None
    return _user(user), row.csrf


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == _digest(token)))


def new_password() -> str:
    """A random password for a new account (the demo's analyst, ``users add`` without --password)."""
    return secrets.token_urlsafe(9)
