"""Signing staff in: the login rate limit, the password check, and sign-in sessions.

Sign-in limits (failed attempts in the last ``LOGIN_WINDOW``):
- 5 per (email, address) pair: a stranger guessing a password locks only his own address out of
  that account, never the real user at her desk;
- 30 per address, whatever the emails: one address cannot spray many accounts;
- 100 per email across all addresses: the ceiling for a guesser with many addresses. Reaching it
  needs 20 addresses inside the window; it then locks that account for everyone, which is the
  price of bounding distributed guessing at about 10 000 guesses a day.
Each attempt is written (and committed by the caller) before it is counted and before the password
is checked, so parallel attempts see each other: 40 at once get at most 5 password checks.
Known and unknown emails, and inactive users, cost the same: one password hash check each.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import and_, delete, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from eventreg.domain.errors import DomainError
from eventreg.domain.people import text
from eventreg.extensions import db
from eventreg.models import LoginAttempt, StaffSession, StaffUser

LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_PAIR = 5
MAX_FAILURES_PER_ADDRESS = 30
MAX_FAILURES_PER_EMAIL = 100


def normalize_login(email: str, ip: str) -> tuple[str, str]:
    return text.email_key(email), (ip or "")[:64]


def reserve_login_attempt(email: str, ip: str, *, now: datetime) -> LoginAttempt:
    """Step 1 of a sign-in: the attempt's row. The caller commits it before calling authenticate."""
    email, ip = normalize_login(email, ip)
    attempt = LoginAttempt(email=email, ip=ip, at=now)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def login_blocked(email: str, ip: str, *, now: datetime) -> bool:
    """Whether the attempts in the window (the caller's reserved one included) pass a limit."""
    pair, by_ip, by_email = db.session.execute(
        select(
            func.count().filter(LoginAttempt.email == email, LoginAttempt.ip == ip),
            func.count().filter(LoginAttempt.ip == ip),
            func.count().filter(LoginAttempt.email == email),
        ).where(LoginAttempt.at >= now - LOGIN_WINDOW, or_(LoginAttempt.email == email, LoginAttempt.ip == ip))
    ).one()
    return pair > MAX_FAILURES_PER_PAIR or by_ip > MAX_FAILURES_PER_ADDRESS or by_email > MAX_FAILURES_PER_EMAIL


@lru_cache(maxsize=1)
def _unmatchable_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(24))


def _hash_to_check(user: StaffUser | None) -> str:
    """The user's hash, or a hash of the same method and cost that nothing matches."""
    if user is not None and user.is_active and user.password_hash:
        return user.password_hash
    return _unmatchable_hash()


def authenticate(attempt: LoginAttempt, password: str, *, now: datetime) -> StaffUser:
    """Step 2: the user, or DomainError 'login_blocked' (too many failures) or 'login_failed'.

    A failure keeps the attempt row (it counts); a blocked attempt's row is removed, so a lock
    ends 15 minutes after the last real failure; a success clears the failures of its pair."""
    email, ip = attempt.email, attempt.ip
    if login_blocked(email, ip, now=now):
        db.session.delete(attempt)
        raise DomainError("login_blocked")
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
    matches = check_password_hash(_hash_to_check(user), password or "")  # always one check
    if user is None or not user.is_active or not matches:
        raise DomainError("login_failed")
    db.session.execute(delete(LoginAttempt).where(
        or_(LoginAttempt.id == attempt.id, and_(LoginAttempt.email == email, LoginAttempt.ip == ip))))
    return user


def _session_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()  # the row keeps a hash: a database dump signs no one in


def start_session(user: StaffUser, *, now: datetime, lifetime: timedelta) -> str:
    """A new signed-in browser for ``user``; returns the secret its cookie carries (256 bits)."""
    db.session.execute(delete(StaffSession).where(  # the user's finished sessions
        StaffSession.user_id == user.id, or_(StaffSession.expires_at <= now, StaffSession.revoked_at.is_not(None))))
    raw = secrets.token_urlsafe(32)
    db.session.add(StaffSession(id=_session_key(raw), user_id=user.id, created_at=now, expires_at=now + lifetime))
    db.session.flush()
    user.session_secret = raw
    return raw


def user_for_session(raw: str, *, now: datetime) -> StaffUser | None:
    """The active user of a live (not revoked, not expired) session, in one query."""
    if not raw or len(raw) > 100:
        return None
    user = db.session.scalar(
        select(StaffUser).join(StaffSession, StaffSession.user_id == StaffUser.id).where(
            StaffSession.id == _session_key(raw), StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > now, StaffUser.active.is_(True)))
    if user is not None:
        user.session_secret = raw
    return user


def end_session(raw: str | None, *, now: datetime) -> None:
    if raw:
        db.session.execute(update(StaffSession).where(
            StaffSession.id == _session_key(raw), StaffSession.revoked_at.is_(None)).values(revoked_at=now))
