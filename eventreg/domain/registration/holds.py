"""Email confirmation before the seat counts (events with ``confirm_email``).

A sign-up that gets a seat is ``held``: the seat is taken in ``seats_taken`` by the same
conditional UPDATE as any other (domain.registration.capacity), and ``hold_expires_at`` says until when.
One that gets no seat joins the waiting list unconfirmed (``hold_expires_at`` set too); the
promotion of the waiting list skips it (``waitlist.PROMOTABLE``) until the person confirms.

- ``confirm``: one conditional UPDATE (``… WHERE status = 'held' AND hold_expires_at > now``):
  held becomes confirmed, an unconfirmed waiting place becomes a confirmed one. Two clicks at
  once confirm once.
- Only the mail proves the mailbox: the confirmation link carries a **proof**, an HMAC of the
  management secret under the site's key (``confirmation_proof``). Whoever signed up knows
  ``/r/<token>`` (the page after the form), so that alone confirms nothing; the proof is in the
  confirm_email (and pass_resent) mail only, and a typo'd address never gets a pass.
  ``resend_confirmation`` sends that mail again, to the address the person gave and no other.
- ``expire``: the sweep (domain.timing.periodic.SWEEPS) finds ``hold_expires_at <= now`` on its index and
  cancels each with a conditional UPDATE (``… AND hold_expires_at <= now AND email_confirmed_at
  IS NULL``); a released seat goes to the next confirmed waiting person. Racing a click, one wins.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update

from eventreg.domain.backoffice import audit
from eventreg.domain.communication import outbox
from eventreg.domain.errors import DomainError
from eventreg.domain.registration import capacity, waitlist
from eventreg.extensions import db
from eventreg.models import AuditEntry, Event, MailKind, OutboxMessage, Registration, Status

MIN_MINUTES, MAX_MINUTES = 5, 1440
EXPIRED = "hold_expired"  # the audit action of an expiry (the confirm page reads it)
RESENDS = 3  # how often the person may ask for the confirmation mail again
_PROOF_CONTEXT = b"eventreg email confirmation\x00"
_PROOF_CHARACTERS = 22  # 132 bits in base64url


def hold_for(event_id: int) -> timedelta | None:
    """How long a new sign-up of the event is held unconfirmed; None: no email confirmation.
    Read from the database at the moment of the sign-up, never from a cached event (the seat
    UPDATE reads the same two columns: ``capacity.take_seat``)."""
    row = db.session.execute(select(Event.confirm_email, Event.hold_minutes).where(Event.id == event_id)).first()
    return None if row is None else hold_length(row.confirm_email, row.hold_minutes)


def hold_length(confirm_email: bool, hold_minutes: int | None) -> timedelta | None:
    """The event's two settings as the time a sign-up is held; None: no email confirmation."""
    if not confirm_email:
        return None
    return timedelta(minutes=max(MIN_MINUTES, min(MAX_MINUTES, int(hold_minutes or 60))))


def pending(registration: Registration) -> bool:
    """Whether the registration waits for its email to be confirmed."""
    return (registration.status in (Status.held, Status.waitlisted)
            and registration.hold_expires_at is not None and registration.email_confirmed_at is None)


def confirmation_proof(token: str, key: str) -> str:
    """What the confirmation link adds to the management secret ``token``: an HMAC under the
    site's secret ``key`` (the edge passes it), so only the mail's link confirms."""
    digest = hmac.new(key.encode(), _PROOF_CONTEXT + token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_PROOF_CHARACTERS]


def proof_matches(token: str, key: str, proof: str) -> bool:
    """Whether ``proof`` is the confirmation proof of ``token`` (compared in constant time)."""
    return (isinstance(proof, str) and proof.isascii()
            and hmac.compare_digest(confirmation_proof(token, key).encode(), proof.encode()))


def resend_confirmation(registration: Registration, *, now: datetime) -> None:
    """Queues the confirm_email mail again, to the registration's own address (read at delivery).

    At most ``RESENDS`` times; each send has its own outbox key, so two presses at once send one.
    Raises DomainError: nothing_to_confirm (confirmed, cancelled or run out), resend_limit.
    """
    if not pending(registration) or registration.hold_expires_at <= now:
        raise DomainError("nothing_to_confirm")
    sent = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.registration_id == registration.id, OutboxMessage.kind == MailKind.confirm_email))
    if sent > RESENDS:
        raise DomainError("resend_limit")
    outbox.enqueue(registration.id, MailKind.confirm_email, now,
                   idempotency_key=f"confirm_email:{registration.id}:{sent}")


def confirm(registration: Registration, *, now: datetime) -> bool:
    """Confirms the email; True for the one click that did it. A held seat becomes confirmed (the
    confirmation with the pass goes out); a waiting place counts in the queue from now on (and
    is promoted at once if a seat is free). False: already confirmed, expired, or cancelled."""
    r = Registration
    result = db.session.execute(
        update(r)
        .where(r.id == registration.id, r.status.in_((Status.held, Status.waitlisted)),
               r.email_confirmed_at.is_(None), r.hold_expires_at > now)
        .values(status=case((r.status == Status.held, Status.confirmed.value), else_=r.status),
                confirmed_at=case((r.status == Status.held, now), else_=r.confirmed_at),
                email_confirmed_at=now, hold_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(registration)
    if result.rowcount != 1:
        return False
    audit.record(registration.event_id, "email_confirmed", actor=None, now=now, registration_id=registration.id)
    if registration.status == Status.confirmed:
        outbox.enqueue(registration.id, MailKind.confirmation, now)
    else:
        outbox.enqueue(registration.id, MailKind.waitlisted, now)
        waitlist.promote_waiting(registration.session_id, now=now)
    db.session.flush()
    return True


def expired_at(registration: Registration) -> datetime | None:
    """When the registration was cancelled because its hold ran out (None: it was not)."""
    if registration.status != Status.cancelled or registration.email_confirmed_at is not None:
        return None
    return db.session.scalar(select(AuditEntry.at).where(
        AuditEntry.registration_id == registration.id, AuditEntry.action == EXPIRED).limit(1))


def due(now: datetime, *, limit: int = 500) -> list[int]:
    """Ids of holds that have run out at ``now`` (the ix_registration_hold_expires index)."""
    return list(db.session.scalars(
        select(Registration.id).where(Registration.hold_expires_at <= now)
        .order_by(Registration.hold_expires_at, Registration.id).limit(limit)))


def expire(registration_id: int, now: datetime) -> bool:
    """Cancels one run-out hold; True for the one worker whose conditional UPDATE did it. A held
    seat is released and goes to the next confirmed waiting person; the person is told."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.hold_expires_at is None:
        return False
    was = registration.status
    r = Registration
    guard = (r.id == registration_id, r.status == was, r.hold_expires_at <= now, r.email_confirmed_at.is_(None))
    if was not in (Status.held, Status.waitlisted):  # e.g. promoted by staff: nothing pending any more
        db.session.execute(update(r).where(*guard).values(hold_expires_at=None)
                           .execution_options(synchronize_session=False))
        return False
    result = db.session.execute(
        update(r).where(*guard)
        .values(status=Status.cancelled, cancelled_at=now, hold_expires_at=None,
                entry_version=r.entry_version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # confirmed or expired by someone else meanwhile
        return False
    audit.record(registration.event_id, EXPIRED, actor=None, now=now, registration_id=registration_id,
                 changed={"status": [was.value, Status.cancelled.value]})
    outbox.enqueue(registration_id, MailKind.hold_expired, now, attachments=[])
    if was == Status.held:
        capacity.release_seat(registration.session_id)
        waitlist.promote_waiting(registration.session_id, now=now)
    db.session.flush()
    return True
