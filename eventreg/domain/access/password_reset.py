"""A forgotten staff password: a link by email that sets a new one.

- ``request_link``: someone types an address on /login/forgot. It is counted like a sign-in
  attempt (the same rows and limits as domain.access.sign_in, so a reset form is no way around
  the login lock), and only an active account's address gets a mail, through the outbox. The
  caller answers the same page for every address; the work here is the same too (one lookup, one
  count), except for the one queued row.
- The link is stateless: the user's id and a short digest of their current password hash (and
  address), signed with the app's secret key and its own salt (itsdangerous). It stops working
  after ``LIFETIME``, and once the password changes: using it changes the password, so a used
  link, or one sent before another reset, is dead without a row that remembers it.
- ``complete``: sets the new password (accounts.set_password: the same rules, every browser
  signed out) by one conditional UPDATE on the hash the link was checked against, so two tabs
  posting one link at once change the password once.

At most ``MAILS_PER_WINDOW`` reset mails go to one address per ``MAIL_WINDOW`` (counted from
the outbox): a stranger cannot fill someone's inbox by asking from many addresses.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import delete, func, select

from eventreg.domain.access import accounts, sign_in
from eventreg.domain.backoffice import audit
from eventreg.domain.communication import outbox
from eventreg.domain.errors import DomainError
from eventreg.extensions import db
from eventreg.models import LoginAttempt, MailKind, OutboxMessage, StaffUser

LIFETIME = timedelta(hours=1)
SALT = "eventreg.staff-password-reset"  # a signature made for anything else never reads as a reset link
MAIL_WINDOW = timedelta(hours=1)
MAILS_PER_WINDOW = 3
# The request page answers no sooner than this after the POST arrived (the web edge waits), so
# the one extra INSERT for a known address cannot be timed.
ANSWER_FLOOR_SECONDS = 0.2

VALID, EXPIRED, USED, INVALID = "valid", "expired", "used", "invalid"


class _ClockSigner(TimestampSigner):
    """itsdangerous reads time.time(); ours comes from the caller (the development clock, tests)."""

    def __init__(self, *args, now: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return int(self._now.timestamp())


def _serializer(secret_key: str, now: datetime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT, signer=_ClockSigner, signer_kwargs={"now": now})


def _fingerprint(user: StaffUser) -> str:
    """16 hex digits of the password hash and the address: a new password (or address) kills the
    link. The hash carries its own random salt, so the digest helps nobody guess a password."""
    return hashlib.sha256(f"{user.password_hash}\x00{user.email}".encode()).hexdigest()[:16]


def make_token(user: StaffUser, *, secret_key: str, now: datetime) -> str:
    return _serializer(secret_key, now).dumps([user.id, _fingerprint(user)])


@dataclass(frozen=True)
class Link:
    state: str  # VALID, EXPIRED, USED or INVALID
    user: StaffUser | None = None
    seen_hash: str | None = None  # the password hash the link was checked against


def read(token: str, *, secret_key: str, now: datetime) -> Link:
    """What a link is. The signature is checked before the age (itsdangerous), so EXPIRED and
    USED are said only of links we made; a deactivated account's link is INVALID."""
    if not isinstance(token, str) or not 20 <= len(token) <= 300:
        return Link(INVALID)
    try:
        payload = _serializer(secret_key, now).loads(token, max_age=int(LIFETIME.total_seconds()))
    except SignatureExpired:
        return Link(EXPIRED)
    except BadSignature:  # tampered, cut short, another salt or key; BadPayload too
        return Link(INVALID)
    if (not isinstance(payload, list) or len(payload) != 2 or type(payload[0]) is not int
            or not isinstance(payload[1], str)):
        return Link(INVALID)
    user = db.session.get(StaffUser, payload[0])
    if user is None or not user.is_active:
        return Link(INVALID)
    if not hmac.compare_digest(payload[1], _fingerprint(user)):
        return Link(USED)
    return Link(VALID, user, user.password_hash)


def request_link(attempt: LoginAttempt, *, secret_key: str, now: datetime, link: Callable[[str], str],
                 language: str) -> None:
    """Step 2 of a request (step 1 is sign_in.reserve_login_attempt, committed by the caller):
    raises DomainError 'login_blocked' past the sign-in limits; otherwise queues the mail if the
    address is an active account's and it has had fewer than MAILS_PER_WINDOW lately, and
    returns nothing either way. ``link(token)`` is the URL the edge builds from BASE_URL."""
    if sign_in.login_blocked(attempt.email, attempt.ip, now=now):
        db.session.delete(attempt)
        raise DomainError("login_blocked")
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == attempt.email))
    recent = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == MailKind.password_reset, OutboxMessage.to_address == attempt.email,
        OutboxMessage.created_at >= now - MAIL_WINDOW))
    if user is None or not user.is_active or recent >= MAILS_PER_WINDOW:
        return
    expires_at = now + LIFETIME
    outbox.enqueue(None, MailKind.password_reset, now, to_address=user.email, to_name=user.name,
                   language=language if language in outbox.LANGUAGES else None,
                   context={"name": user.name, "email": user.email, "reset_url": link(
                       make_token(user, secret_key=secret_key, now=now)), "expires_at": expires_at.isoformat()})


def complete(token: str, password: str, *, secret_key: str, now: datetime) -> Link:
    """Sets the new password if the link is VALID and still unused; returns the link as it was
    found (USED when another request used it first). Raises DomainError for the password rules
    (password_too_short, password_too_long). Every browser of the user is signed out; the
    email's failed sign-ins are cleared (the person has shown they hold the mailbox); an audit
    entry goes to each event the person works on (the audit log is per event)."""
    found = read(token, secret_key=secret_key, now=now)
    if found.state != VALID:
        return found
    user = found.user
    if not accounts.set_password(user, password, replacing=found.seen_hash):
        return Link(USED)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))
    for member in user.memberships:
        audit.record(member.event_id, "staff_password_reset", actor=user, now=now,
                     changed={"member": [user.email, user.email]})
    return found
