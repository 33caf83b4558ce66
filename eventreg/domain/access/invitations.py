"""An event's team: invitations by email, roles, and removing people.

- ``invite``: an owner invites an email address with a role. The invitation carries a random
  256-bit secret; only its SHA-256 is stored, and the link (built by the web edge from
  BASE_URL, passed in as ``link``) goes out through the outbox. It expires after 7 days.
  Inviting the same address again replaces the pending invitation: the old link stops working.
- ``lookup``: what a link is: pending, accepted, revoked, expired or unknown. The same answer
  whether or not the address has an account (a dead link says nothing about that).
- ``accept_new``: someone without an account chooses a name and a password (the rules of
  ``accounts.set_password``) and gets a ``Role.staff`` account with the role;
  ``accept_existing``: a signed-in account whose email is the invited one takes the role (it
  replaces the one they had on the event).
- ``change_role``, ``remove``: an owner only; an event keeps at least one active owner.

Every change writes an audit entry. Changes to one event's team are serialised by locking the
event's row (PostgreSQL; SQLite's write lock serialises them already), so two owners demoting
each other at once cannot leave the event without an owner.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from eventreg.domain.access import accounts, api_tokens
from eventreg.domain.access.permissions import Capability
from eventreg.domain.backoffice import audit
from eventreg.domain.communication import outbox
from eventreg.domain.errors import DomainError
from eventreg.domain.people import text
from eventreg.extensions import db
from eventreg.models import Event, EventMember, EventRole, Invitation, MailKind, Role, StaffUser

LIFETIME = timedelta(days=7)

PENDING, ACCEPTED, REVOKED, EXPIRED, UNKNOWN = "pending", "accepted", "revoked", "expired", "unknown"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _require_owner(actor, event: Event) -> None:
    if actor is None or not accounts.can(actor, event.id, Capability.manage_staff):
        raise DomainError("not_allowed")


def _lock(event: Event) -> None:
    """Serialises changes to the event's team (FOR UPDATE; SQLite ignores it, its write lock suffices)."""
    db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update())


def pending(event: Event, *, now: datetime) -> list[Invitation]:
    return list(db.session.scalars(
        select(Invitation).where(Invitation.event_id == event.id, Invitation.accepted_at.is_(None),
                                 Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())))


def members(event: Event) -> list[EventMember]:
    """The event's team: owners first, then by name."""
    order = {role: n for n, role in enumerate(EventRole)}
    rows = db.session.scalars(select(EventMember).where(EventMember.event_id == event.id)).all()
    return sorted(rows, key=lambda m: (order[m.role], m.user.name, m.user.email))


def invite(event: Event, email: str, role: EventRole, *, actor, now: datetime,
           link: Callable[[str], str]) -> Invitation:
    """Invites ``email`` as ``role`` (replacing a pending invitation of that address) and queues
    the email. ``link(secret)`` is the acceptance URL the edge builds. Raises DomainError:
    not_allowed, invalid_email / email_not_ascii, already_member."""
    _require_owner(actor, event)
    email, role = text.normalize_email(email), EventRole(role)
    _lock(event)
    member = db.session.scalar(select(EventMember).join(StaffUser).where(
        EventMember.event_id == event.id, StaffUser.email == email))
    if member is not None:
        raise DomainError("already_member")
    replaced = db.session.execute(
        update(Invitation).where(Invitation.event_id == event.id, Invitation.email == email,
                                 Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    raw = secrets.token_urlsafe(32)  # 256 bits
    invitation = Invitation(event_id=event.id, email=email, role=role, token_hash=_hash(raw),
                            invited_by=actor.id, created_at=now, expires_at=now + LIFETIME)
    db.session.add(invitation)
    db.session.flush()
    outbox.enqueue(None, MailKind.invitation, now, to_address=email, language=event.language,
                   context=_mail_context(event, invitation, actor, link(raw)))
    audit.record(event.id, "staff_invited", actor=actor, now=now,
                 changed={"email": [None, email], "role": [None, role.value]},
                 note="replaces_pending_invitation" if replaced else "")
    return invitation


def _mail_context(event: Event, invitation: Invitation, actor, url: str) -> dict:
    """The invitation email's values (plain JSON; ``*_at`` strings become datetimes at delivery)."""
    return {
        "event_id": event.id, "event_title": event.title, "organizer": event.organizer,
        "role": invitation.role.value, "inviter_name": getattr(actor, "name", ""),
        "email": invitation.email, "expires_at": invitation.expires_at.isoformat(),
        "timezone": event.timezone, "accept_url": url,
    }


def resend(invitation: Invitation, *, actor, now: datetime, link: Callable[[str], str]) -> Invitation:
    """A new link (and 7 more days) for a pending invitation; the old link stops working."""
    event = db.session.get(Event, invitation.event_id)
    if _state(invitation, now) != PENDING:
        raise DomainError("invitation_not_pending")
    return invite(event, invitation.email, invitation.role, actor=actor, now=now, link=link)


def revoke(invitation: Invitation, *, actor, now: datetime) -> None:
    event = db.session.get(Event, invitation.event_id)
    _require_owner(actor, event)
    if _state(invitation, now) != PENDING:
        raise DomainError("invitation_not_pending")
    # Conditional, like _take: an invitation accepted (or withdrawn) meanwhile stays as it is.
    done = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
                                 Invitation.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(invitation)
    if done != 1:
        raise DomainError("invitation_not_pending")
    audit.record(event.id, "invitation_revoked", actor=actor, now=now,
                 changed={"email": [invitation.email, None], "role": [invitation.role.value, None]})


@dataclass(frozen=True)
class Found:
    state: str  # PENDING, ACCEPTED, REVOKED, EXPIRED or UNKNOWN
    invitation: Invitation | None


def _state(invitation: Invitation, now: datetime) -> str:
    if invitation.accepted_at is not None:
        return ACCEPTED
    if invitation.revoked_at is not None:
        return REVOKED
    if invitation.expires_at <= now:
        return EXPIRED
    return PENDING


def lookup(raw: str, *, now: datetime) -> Found:
    """The invitation a link's secret belongs to, and its state. Found by the hash (a unique
    index); the stored hash is compared again in constant time."""
    if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
        return Found(UNKNOWN, None)
    digest = _hash(raw)
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == digest))
    if invitation is None or not hmac.compare_digest(invitation.token_hash, digest):
        return Found(UNKNOWN, None)
    return Found(_state(invitation, now), invitation)


def _take(raw: str, now: datetime) -> Invitation:
    """Marks a pending invitation accepted, once: one conditional UPDATE, so two tabs (or two
    servers) accepting the same link at once give one success."""
    found = lookup(raw, now=now)
    if found.state != PENDING:
        raise DomainError(f"invitation_{found.state}")
    invitation = found.invitation
    done = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
                                 Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .values(accepted_at=now).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise DomainError("invitation_accepted")
    db.session.refresh(invitation)
    return invitation


def accept_new(raw: str, *, name: str, password: str, now: datetime) -> StaffUser:
    """A new ``Role.staff`` account for the invited address, with the invited role. Raises
    DomainError: invitation_<state>, account_exists (sign in to accept), password_too_short,
    and the name checks of domain.people.text."""
    accounts.check_password(password)
    name = text.clean_name(name, max_length=100)
    if not name:
        raise DomainError("name_required")
    found = lookup(raw, now=now)
    if found.state == PENDING and db.session.scalar(
            select(StaffUser.id).where(StaffUser.email == found.invitation.email)):
        raise DomainError("account_exists")
    invitation = _take(raw, now)
    user = accounts.create_user(invitation.email, name, password, Role.staff, now=now)
    _join(invitation, user, now)
    return user


def accept_existing(raw: str, user: StaffUser, *, now: datetime) -> EventMember:
    """The signed-in ``user`` takes the invited role (replacing their role on the event).
    Raises DomainError: invitation_<state>, wrong_account, last_owner."""
    found = lookup(raw, now=now)
    if found.state == PENDING and found.invitation.email != user.email:
        raise DomainError("wrong_account")
    invitation = _take(raw, now)
    return _join(invitation, user, now)


def _join(invitation: Invitation, user: StaffUser, now: datetime) -> EventMember:
    event = db.session.get(Event, invitation.event_id)
    _lock(event)
    member = _member(event, user.id)
    before = member.role.value if member else None
    if member is not None:
        _keep_an_owner(event, member, invitation.role)
        member.role = invitation.role
    else:
        member = EventMember(event_id=event.id, user_id=user.id, role=invitation.role, created_at=now)
        db.session.add(member)
    db.session.flush()
    db.session.expire(user, ["memberships"])
    audit.record(event.id, "staff_joined", actor=user, now=now,
                 changed={"member": [None, user.email], "role": [before, invitation.role.value]})
    return member


def _member(event: Event, user_id: int) -> EventMember | None:
    return db.session.get(EventMember, (event.id, user_id))


def _keep_an_owner(event: Event, member: EventMember, new_role: EventRole | None) -> None:
    """Refuses (last_owner) a change that would leave the event without an active owner."""
    if member.role != EventRole.owner or new_role == EventRole.owner:
        return
    others = db.session.scalar(
        select(func.count()).select_from(EventMember).join(StaffUser).where(
            EventMember.event_id == event.id, EventMember.role == EventRole.owner,
            EventMember.user_id != member.user_id, StaffUser.active.is_(True)))
    if not others:
        raise DomainError("last_owner")


def change_role(event: Event, user_id: int, role: EventRole, *, actor, now: datetime) -> EventMember:
    """Raises DomainError: not_allowed, not_a_member, last_owner."""
    _require_owner(actor, event)
    role = EventRole(role)
    _lock(event)
    member = _member(event, user_id)
    if member is None:
        raise DomainError("not_a_member")
    before = member.role
    if before == role:
        return member
    _keep_an_owner(event, member, role)
    member.role = role
    db.session.flush()
    audit.record(event.id, "staff_role_changed", actor=actor, now=now,
                 changed={"member": [member.user.email, member.user.email], "role": [before.value, role.value]})
    return member


def remove(event: Event, user_id: int, *, actor, now: datetime) -> None:
    """Takes the person off the event's team (their account stays). Their API tokens for the
    event are revoked for good: invited again, the old tokens (a lost iPad's) stay dead. A token
    without an event follows its user's roles, so it stops working here too.
    Raises DomainError: not_allowed, not_a_member, last_owner."""
    _require_owner(actor, event)
    _lock(event)
    member = _member(event, user_id)
    if member is None:
        raise DomainError("not_a_member")
    _keep_an_owner(event, member, None)
    email, role = member.user.email, member.role.value
    tokens = api_tokens.revoke_member_tokens(member.user_id, event.id, now=now)
    db.session.delete(member)
    db.session.flush()
    changed = {"member": [email, None], "role": [role, None]}
    audit.record(event.id, "staff_removed", actor=actor, now=now,
                 changed={**changed, "api_tokens": [tokens, None]} if tokens else changed)
