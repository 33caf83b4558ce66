"""Staff accounts: who they are, their passwords, their roles per event and what those allow.

Signing in is domain.access.sign_in; API tokens are domain.access.api_tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from werkzeug.security import generate_password_hash

from eventreg.domain.access import permissions
from eventreg.domain.errors import DomainError
from eventreg.domain.people import text
from eventreg.extensions import db
from eventreg.models import Event, EventMember, EventRole, Role, StaffSession, StaffUser

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


def set_password(user: StaffUser, password: str, *, replacing: str | None = None) -> bool:
    """A new password (the rules of ``check_password``). With ``replacing``, the hash the caller
    decided from (a reset link's), it is one conditional UPDATE: False, and nothing changed, when
    the password has changed since."""
    check_password(password)
    new_hash = generate_password_hash(password)
    if replacing is None:
        user.password_hash = new_hash
    else:
        done = db.session.execute(update(StaffUser).where(
            StaffUser.id == user.id, StaffUser.password_hash == replacing).values(password_hash=new_hash)
            .execution_options(synchronize_session=False)).rowcount
        if done != 1:
            return False
        db.session.expire(user, ["password_hash"])
    if user.id is not None:  # every browser signed in with the old password is signed out
        db.session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    return True


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




