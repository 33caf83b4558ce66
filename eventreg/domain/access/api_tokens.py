"""API tokens: made for one person (optionally limited to one event and role), stored as a hash, revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update

from eventreg.domain.access import permissions
from eventreg.domain.access.accounts import Principal
from eventreg.domain.backoffice import audit
from eventreg.domain.errors import DomainError
from eventreg.domain.people import text
from eventreg.extensions import db
from eventreg.models import ApiToken, Event, EventMember, EventRole, StaffUser


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_of(token) -> str | None:
    """The stored hash a bearer token is looked up by; None for what cannot be a token."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return _hash(token)


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
    """Revokes the token (at its next request, on every server); False if it was revoked already.
    One conditional UPDATE: of two owners revoking at once, one revokes and writes the audit entry."""
    done = db.session.execute(
        update(ApiToken).where(ApiToken.id == row.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(row)
    if done and row.event_id is not None:
        audit.record(row.event_id, "api_token_revoked", actor=actor, now=now,
                     changed={"token": [f"#{row.id} {row.name}", None]})
    return done


def revoke_member_tokens(user_id: int, event_id: int, *, now: datetime) -> list[str]:
    """Revokes every token of ``user_id`` limited to ``event_id`` (when they leave its team), for
    good: invited again, they make new ones. One conditional UPDATE; returns "#id name" of each."""
    revoked = db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.event_id == event_id,
                               ApiToken.revoked_at.is_(None))
        .values(revoked_at=now).returning(ApiToken.id, ApiToken.name)
        .execution_options(synchronize_session=False)
    ).all()
    return [f"#{token_id} {name}" for token_id, name in sorted(revoked)]


def event_api_tokens(event_id: int) -> list[ApiToken]:
    """The tokens limited to an event, newest first (revoked ones too: the list shows them)."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.event_id == event_id).order_by(ApiToken.id.desc())))


LAST_USED_EVERY = timedelta(minutes=5)  # last_used_at is coarse: a polling scanner writes rarely


# Built once: every API request runs it (building the select costs more than running it).
_PRINCIPAL = (
    select(ApiToken.id, ApiToken.last_used_at, ApiToken.event_id, ApiToken.role, StaffUser.id, StaffUser.name,
           StaffUser.role, StaffUser.active, EventMember.event_id, EventMember.role)
    .join(StaffUser, StaffUser.id == ApiToken.user_id)
    .outerjoin(EventMember, EventMember.user_id == StaffUser.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


def principal_for_api_token(token: str, *, now: datetime) -> tuple[Principal | None, int | None]:
    """The user of a bearer token with the ids of their events, in one query on the token's
    unique hash (no per-process cache: a revoked token fails at its next request, everywhere).

    Returns (principal or None, the token's id when its last_used_at is due for ``touch``). Only
    reads: the caller writes last_used_at in a transaction of its own (SQLite's write intent).
    """
    token_hash = hash_of(token)
    if token_hash is None:
        return None, None
    rows = db.session.execute(_PRINCIPAL, {"token_hash": token_hash}).all()
    if not rows or not rows[0][7]:
        return None, None
    token_id, last_used, token_event, token_role, user_id, name, role, active = rows[0][:8]
    grants = {
        event_id: permissions.limited(member_role, [token_role])
        for *_, event_id, member_role in rows
        if event_id is not None and (token_event is None or event_id == token_event)
    }
    who = Principal(user_id, name, role, grants, active)
    return who, token_id if touch_due(last_used, now) else None


def touch_due(last_used: datetime | None, now: datetime) -> bool:
    """Whether a token used at ``now`` should be ``touch``ed (at most once per LAST_USED_EVERY)."""
    return last_used is None or now - last_used > LAST_USED_EVERY


def grants_sql(capability: permissions.Capability) -> str:
    """The rule of principal_for_api_token and accounts.can, as a condition for a statement that
    checks the token itself (the desk's one-statement scan): the token ``t`` (hash :token_hash)
    is not revoked, its user ``u`` is active, and the user's membership ``m`` (on :event_id)
    gives ``capability``, and so does the token's own role, when it has one, on its event, if it
    is limited to one. The roles come from permissions.GRANTS; tests/domain/test_api_tokens.py
    checks that both ways agree for every role."""
    roles = ", ".join(f"'{role.value}'" for role in EventRole if capability in permissions.capabilities(role))
    return (f"t.token_hash = :token_hash AND t.revoked_at IS NULL AND u.active AND m.role IN ({roles})"
            f" AND (t.event_id IS NULL OR t.event_id = :event_id) AND (t.role IS NULL OR t.role IN ({roles}))")


def touch(token_id: int, now: datetime) -> bool:
    """Records that the token was used, at most once per LAST_USED_EVERY: a conditional UPDATE,
    so of many requests polling at once (on several servers) one writes."""
    return db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id,
               or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_EVERY))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
