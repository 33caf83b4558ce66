"""Staff accounts, passwords, API tokens and the login rate limit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ApiToken, Event, LoginAttempt, Role, StaffUser, staff_event
from . import text
from .errors import DomainError

LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 30
MIN_PASSWORD_LENGTH = 10


def create_user(email: str, name: str, password: str, role: Role, *, now: datetime) -> StaffUser:
    email = text.normalize_email(email)
    if db.session.scalar(select(StaffUser.id).where(StaffUser.email == email)):
        raise DomainError("user_exists")
    user = StaffUser(email=email, name=text.clean(name, max_length=100) or email, role=role,
                     active=True, created_at=now, password_hash="")
    set_password(user, password)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: StaffUser, password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError("password_too_short", str(MIN_PASSWORD_LENGTH))
    user.password_hash = generate_password_hash(password)


def assign(user: StaffUser, event: Event) -> None:
    if event not in user.events:
        user.events.append(event)


@dataclass(frozen=True)
class Principal:
    """What the API needs to know of a token's user, as plain values (cacheable per process)."""

    id: int
    name: str
    role: Role
    event_ids: frozenset
    is_active: bool = True


def principal(user: StaffUser) -> Principal:
    return Principal(user.id, user.name, user.role, user.event_ids, user.is_active)


def can_use_desk(user: StaffUser | Principal, event_id: int) -> bool:
    if not user.is_active:
        return False
    return user.role == Role.organizer or event_id in user.event_ids


def login_blocked(email: str, ip: str, *, now: datetime) -> bool:
    since = now - LOGIN_WINDOW
    by_email, by_ip = db.session.execute(
        select(
            func.count().filter(LoginAttempt.email == email),
            func.count().filter(LoginAttempt.ip == ip),
        ).where(LoginAttempt.at >= since, or_(LoginAttempt.email == email, LoginAttempt.ip == ip))
    ).one()
    return by_email >= MAX_FAILURES_PER_EMAIL or by_ip >= MAX_FAILURES_PER_ADDRESS


def authenticate(email: str, password: str, ip: str, *, now: datetime) -> StaffUser:
    """The user, or DomainError: 'login_blocked' (too many failures) or 'login_failed'."""
    email = (email or "").strip().lower()[:254]
    ip = (ip or "")[:64]
    if login_blocked(email, ip, now=now):
        raise DomainError("login_blocked")
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
    if user is None or not user.is_active or not check_password_hash(user.password_hash, password or ""):
        db.session.add(LoginAttempt(email=email, ip=ip, at=now))
        raise DomainError("login_failed")
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    return user


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(user: StaffUser, name: str, *, now: datetime) -> str:
    """Returns the token once; only its hash is stored."""
    token = "er_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=text.clean(name, max_length=100), token_hash=_hash(token),
                            created_at=now))
    return token


def user_for_api_token(token: str, *, now: datetime) -> StaffUser | None:
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token),
                                                   ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = now  # coarse, so a busy scanner does not write on every scan
    return row.user


def principal_for_api_token(token: str, *, now: datetime) -> tuple[Principal | None, bool]:
    """The user of a bearer token with the ids of their events, in one query on the token's
    unique hash (no per-process cache: a revoked token fails at its next request, everywhere).

    Returns (principal or None, whether last_used_at was updated: the caller commits it).
    last_used_at is coarse (every 5 minutes), so a busy scanner does not write on every scan.
    """
    if not isinstance(token, str) or not token or len(token) > 200:
        return None, False
    rows = db.session.execute(
        select(ApiToken.id, ApiToken.last_used_at, StaffUser.id, StaffUser.name, StaffUser.role,
               StaffUser.active, staff_event.c.event_id)
        .join(StaffUser, StaffUser.id == ApiToken.user_id)
        .outerjoin(staff_event, staff_event.c.user_id == StaffUser.id)
        .where(ApiToken.token_hash == _hash(token), ApiToken.revoked_at.is_(None))
    ).all()
    if not rows or not rows[0][5]:
        return None, False
    token_id, last_used, user_id, name, role, active, _ = rows[0]
    who = Principal(user_id, name, role, frozenset(r[6] for r in rows if r[6] is not None), active)
    if last_used is not None and now - last_used <= timedelta(minutes=5):
        return who, False
    db.session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return who, True
