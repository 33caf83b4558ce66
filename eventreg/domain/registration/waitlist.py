"""The waiting list: who may be promoted, in which order, and a waiting person's own switch.

A freed seat (a cancellation, a move, an expired hold, a raised capacity) goes to the first
promotable waiting person of the session: ``promote_waiting``. Sign-ups whose email is not yet
confirmed (events with confirm_email) wait without a place in the queue (``PROMOTABLE``) until
they confirm (domain.registration.holds). Each promotion is the conditional seat UPDATE of
domain.registration.capacity plus a conditional UPDATE of the registration on the state it was
chosen in, so a person cancelled meanwhile gives the seat back and the next one is taken.

Used by domain.registration.signup (cancel, move), domain.registration.holds (confirm, expire)
and the back office (a raised capacity): this module imports neither of the first two.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from eventreg.domain.communication import outbox
from eventreg.domain.errors import DomainError
from eventreg.domain.registration import capacity
from eventreg.domain.registration.capacity import NoSeat
from eventreg.extensions import db
from eventreg.models import EventSession, MailKind, Registration, Status

# Waiting people with a place in the queue: nothing pending (they confirmed their email, or the
# event asks for no confirmation). Confirming clears hold_expires_at; an expiry cancels.
PROMOTABLE = Registration.hold_expires_at.is_(None)


def promote_waiting(session_id: int, *, now: datetime) -> list[Registration]:
    """Moves waiting people, first come first served, into free seats. People who have not
    confirmed their email yet (events with confirm_email) are skipped (``PROMOTABLE``)."""
    promoted = []
    while True:
        candidate = db.session.scalar(
            select(Registration)
            .where(Registration.session_id == session_id, Registration.status == Status.waitlisted, PROMOTABLE)
            .order_by(Registration.id)
            .limit(1)
        )
        if candidate is None or not capacity.take_seat_any_time(session_id):
            return promoted
        result = db.session.execute(
            update(Registration)
            .where(Registration.id == candidate.id, Registration.session_id == session_id,
                   Registration.status == Status.waitlisted, PROMOTABLE)
            .values(status=Status.confirmed, confirmed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # cancelled or switched meanwhile: give the seat back and look again
            capacity.release_seat(session_id)
            db.session.expire(candidate)
            continue
        db.session.refresh(candidate)
        outbox.enqueue(candidate.id, MailKind.promoted, now)
        promoted.append(candidate)


def queue_position(registration: Registration) -> int | None:
    """A waiting person's place in their session's queue: 1 + the promotable people waiting
    before them (by id, the order promote_waiting takes them). None when not on the waiting list
    or not in the queue yet (email not confirmed)."""
    if registration.status != Status.waitlisted:
        return None
    before = db.session.scalar(
        select(func.count()).select_from(Registration).where(
            Registration.session_id == registration.session_id, Registration.status == Status.waitlisted,
            Registration.id < registration.id, PROMOTABLE,
        )
    )
    return before + 1


def switch_from_waitlist(registration: Registration, to_session: EventSession, *, now: datetime) -> None:
    """A waiting person takes a free seat in another session of the same event (the attendee's
    own choice, so only while that session's registration is open). The seat is the conditional
    UPDATE of capacity.take_seat; the waiting-list place is given up; a new pass is emailed."""
    if to_session.event_id != registration.event_id or to_session.id == registration.session_id:
        raise DomainError("invalid_request")
    if registration.status != Status.waitlisted:
        raise DomainError("not_waitlisted")
    if registration.hold_expires_at is not None and registration.email_confirmed_at is None:
        # A seat only for a confirmed address: else the sign-up page left open in the browser
        # would take a seat with a mistyped email, which email confirmation is there to stop.
        raise DomainError("email_not_confirmed")
    if capacity.take_seat(to_session.id, to_session.event_id, now) is None:
        why = capacity.why_no_seat(to_session.id, to_session.event_id, now)
        raise DomainError("session_full" if why in (NoSeat.full, NoSeat.waitlisted) else why.value)
    try:
        result = db.session.execute(
            update(Registration)
            .where(Registration.id == registration.id, Registration.status == Status.waitlisted,
                   Registration.session_id == registration.session_id, PROMOTABLE)
            .values(session_id=to_session.id, status=Status.confirmed, confirmed_at=now,
                    entry_version=Registration.entry_version + 1)
            .execution_options(synchronize_session=False)
        )
    except IntegrityError:  # the email already holds a registration there; the caller rolls back
        raise DomainError("already_registered") from None
    if result.rowcount != 1:
        raise DomainError("not_waitlisted")  # promoted, cancelled or moved meanwhile; caller rolls back
    db.session.refresh(registration)
    outbox.enqueue(registration.id, MailKind.pass_resent, now, context={"reason": "switched"})
