"""Staff accounts, passwords, API tokens, sign-in sessions and the login rate limit.

Sign-in limits (failed attempts in the last 15 minutes):
- 5 per (email, address) pair: a stranger guessing a password locks only his own address out of
  that account, never the real user at her desk;
- 30 per address, whatever the emails: one address cannot spray many accounts;
- 100 per email across all addresses: the ceiling for a guesser with many addresses. Reaching it
  needs 20 addresses inside 15 minutes; it then locks that account for everyone, which is the
  price of bounding distributed guessing at about 10 000 guesses a day.
Each attempt is written (and committed by the caller) before it is counted and before the password
is checked, so parallel attempts see each other: 40 at once get at most 5 password checks.
Known and unknown emails, and inactive users, cost the same: one password hash check each.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from eventreg.domain.access import permissions
from eventreg.domain.backoffice import audit
from eventreg.domain.errors import DomainError
from eventreg.domain.people import text
from eventreg.extensions import db
from eventreg.models import (
    ApiToken,
    Event,
    EventMember,
    EventRole,
    LoginAttempt,
    Role,
    StaffSession,
    StaffUser,
)

LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_PAIR = 5
MAX_FAILURES_PER_ADDRESS = 30
MAX_FAILURES_PER_EMAIL = 100
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200  # the login form accepts no longer one


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


def check_password(password: str) -> None:
    """The password rules (the command line, the invitation page and the password page)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError("password_too_short", str(MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError("password_too_long", str(MAX_PASSWORD_LENGTH))


def set_password(user: StaffUser, password: str) -> None:
    check_password(password)
    user.password_hash = generate_password_hash(password)
    if user.id is not None:  # every browser signed in with the old password is signed out
        db.session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))


def assign(user: StaffUser, event: Event, role: EventRole = EventRole.reception, *, now: datetime) -> None:
    """Gives ``user`` ``role`` on ``event`` (replacing the role they had there)."""
    for member in user.memberships:
        if member.event_id == event.id:
            member.role = role
            return
    user.memberships.append(EventMember(event_id=event.id, role=role, created_at=now))


@dataclass(frozen=True)
class Principal:
    """Who is asking, as plain values: a signed-in user or an API token's user, with what they
    may do on each of their events (a token's own event and role already applied)."""

    id: int
    name: str
    role: Role
    grants: Mapping[int, frozenset]  # event id -> capabilities (domain.access.permissions)
    is_active: bool = True

    @property
    def event_ids(self) -> frozenset:
        return frozenset(self.grants)


def principal(user: StaffUser) -> Principal:
    return Principal(user.id, user.name, user.role,
                     {m.event_id: permissions.capabilities(m.role) for m in user.memberships}, user.is_active)


def has_role(who: StaffUser | Principal, event_id: int) -> bool:
    """Whether ``who`` works on the event at all (a token limited to another event does not)."""
    if isinstance(who, Principal):
        return event_id in who.grants
    return who.role_on(event_id) is not None


def can(who: StaffUser | Principal, event_id: int, capability: permissions.Capability) -> bool:
    """Whether ``who`` may use ``capability`` on the event; inactive accounts may do nothing."""
    if not who.is_active:
        return False
    if isinstance(who, Principal):
        return capability in who.grants.get(event_id, frozenset())
    return permissions.allows(who.role_on(event_id), capability)


def can_use_desk(who: StaffUser | Principal, event_id: int) -> bool:
    return can(who, event_id, permissions.Capability.desk)


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


_dummy_hash: str | None = None


def _hash_to_check(user: StaffUser | None) -> str:
    """The user's hash, or a hash of the same method and cost that nothing matches."""
    global _dummy_hash
    if user is not None and user.is_active and user.password_hash:
        return user.password_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_urlsafe(24))
    return _dummy_hash


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


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(user: StaffUser, name: str, *, now: datetime, event: Event | None = None,
                     role: EventRole | None = None, actor=None) -> str:
    """A bearer token for ``user``; returns it once (only its hash is stored).

    With ``event`` and ``role``: limited to that event and role, which may grant nothing the
    user's own role there does not (at every request the token gets the smaller of the two, see
    principal_for_api_token). Without both: the token acts with the user's roles on all their
    events (the command-line tokens of before per-event roles). The event's audit log records
    the creation (``actor``: who made it, by default ``user``)."""
    label = text.clean(name, max_length=100)
    if not label:
        raise DomainError("token_name_required")
    if (event is None) != (role is None):
        raise DomainError("token_scope")
    if event is not None:
        role = EventRole(role)
        own = user.role_on(event.id)
        if own is None:
            raise DomainError("not_a_member")
        if not permissions.capabilities(role) <= permissions.capabilities(own):
            raise DomainError("token_role_too_high")
    token = "er_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=label, token_hash=_hash(token), created_at=now,
                   event_id=event.id if event is not None else None, role=role)
    db.session.add(row)
    db.session.flush()
    if event is not None:
        audit.record(event.id, "api_token_created", actor=actor or user, now=now,
                     changed={"token": [None, f"#{row.id} {label}"], "role": [None, role.value]})
    return token


def revoke_api_token(row: ApiToken, *, actor, now: datetime) -> bool:
    """Revokes the token (at its next request, on every server); False if it was revoked already."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now
    if row.event_id is not None:
        audit.record(row.event_id, "api_token_revoked", actor=actor, now=now,
                     changed={"token": [f"#{row.id} {row.name}", None]})
    return True


def event_api_tokens(event_id: int) -> list[ApiToken]:
    """The tokens limited to an event, newest first (revoked ones too: the list shows them)."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.event_id == event_id).order_by(ApiToken.id.desc())))


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
        select(ApiToken.id, ApiToken.last_used_at, ApiToken.event_id, ApiToken.role, StaffUser.id, StaffUser.name,
               StaffUser.role, StaffUser.active, EventMember.event_id, EventMember.role)
        .join(StaffUser, StaffUser.id == ApiToken.user_id)
        .outerjoin(EventMember, EventMember.user_id == StaffUser.id)
        .where(ApiToken.token_hash == _hash(token), ApiToken.revoked_at.is_(None))
    ).all()
    if not rows or not rows[0][7]:
        return None, False
    token_id, last_used, token_event, token_role, user_id, name, role, active = rows[0][:8]
    grants = {
        event_id: permissions.limited(member_role, [token_role])
        for *_, event_id, member_role in rows
        if event_id is not None and (token_event is None or event_id == token_event)
    }
    who = Principal(user_id, name, role, grants, active)
    if last_used is not None and now - last_used <= timedelta(minutes=5):
        return who, False
    db.session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return who, True
