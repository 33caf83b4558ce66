"""Signing up, cancelling, and moving the waiting list. One transaction per call, not committed."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from eventreg.domain.communication import outbox
from eventreg.domain.errors import DomainError
from eventreg.domain.registration import capacity, holds, passes
from eventreg.domain.registration.capacity import NoSeat
from eventreg.domain.timing import deadlines
from eventreg.extensions import db
from eventreg.models import EventSession, MailKind, Registration, Sector, Status
from eventreg.models.registration import ACTIVE, SEATED


@dataclass
class Applicant:
    """What a person entered, already normalised by domain.people.text."""

    family_name: str
    given_name: str
    family_kana: str
    given_kana: str
    email: str
    sector: Sector
    organization: str = ""
    department: str = ""
    phone: str = ""
    answers: dict = field(default_factory=dict)
    language: str = "ja"


class Result(str, enum.Enum):
    """What a sign-up did."""

    confirmed = "confirmed"
    waitlisted = "waitlisted"
    held = "held"  # a seat held until the email is confirmed (events with confirm_email)
    duplicate = "duplicate"  # the email already held a registration: its pass was sent again


@dataclass
class Outcome:
    registration_id: int
    token: str  # the management secret, for the redirect to /r/<token> (never shown otherwise)
    result: Result

    @property
    def registration(self) -> Registration:
        return db.session.get(Registration, self.registration_id)


def find_active(session_id: int, email: str) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(
            Registration.session_id == session_id,
            Registration.email == email,
            Registration.status != Status.cancelled,
        )
    )


def _resend(existing: Registration, now: datetime) -> Outcome:
    outbox.enqueue(existing.id, MailKind.pass_resent, now, context={"reason": "duplicate"})
    return Outcome(existing.id, existing.token, Result.duplicate)


def insert_unless_active(values: dict) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING on the one-active-registration index.

    Returns the new row's id, or None when the email already holds an active registration for the
    session (committed, or being committed by a concurrent request: the insert waits for it).
    One round trip, and no savepoint to recover from a unique violation.
    """
    try:
        return db.session.scalar(_insert_statement(db.session.get_bind().dialect.name), values)
    except IntegrityError:
        # Not the email (ON CONFLICT covers that): the session is gone, replaced while the
        # page showed it. The caller rolls back.
        raise DomainError("event_changed") from None


@lru_cache(maxsize=2)
def _insert_statement(dialect: str):
    # Core, built once per dialect: this is the hot path. Values come as parameters.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(Registration.__table__)
        .on_conflict_do_nothing(index_elements=["session_id", "email"], index_where=text(ACTIVE))
        .returning(Registration.__table__.c.id)
    )


def register(session: EventSession, applicant: Applicant, *, now: datetime) -> Outcome:
    """Confirms, waitlists, or recognises a second sign-up with the same email.

    Every rule is read from the database at the moment of the write: the seat UPDATE checks
    capacity and the session's window together; when it takes no seat, one fresh query of the
    window and the event's waiting-list switch decides (``capacity.why_no_seat``). Only
    ``session.id`` and ``session.event_id`` are read from ``session``.

    A duplicate never takes a second seat: the pass link is emailed again instead, to the
    address on file, so a stranger typing someone's email learns nothing.
    """
    session_id, event_id = session.id, session.event_id
    seated = capacity.take_seat(session_id, now)
    if not seated:
        why = capacity.why_no_seat(session_id, now)
        if why != NoSeat.waitlisted:
            existing = find_active(session_id, applicant.email) if why == NoSeat.full else None
            if existing is None:
                raise DomainError(why.value)
            return _resend(existing, now)
    hold = holds.hold_for(event_id)  # None: the event asks for no email confirmation
    status = (Status.held if hold else Status.confirmed) if seated else Status.waitlisted
    token = passes.new_token()
    registration_id = insert_unless_active(dict(
        event_id=event_id,
        session_id=session_id,
        token=token,
        entry_id=passes.new_entry_id(),
        status=status,
        created_at=now,
        confirmed_at=now if status == Status.confirmed else None,
        hold_expires_at=now + hold if hold else None,
        **vars(applicant),
    ))
    if registration_id is None:
        if seated:
            capacity.release_seat(session_id)
        return _resend(find_active(session_id, applicant.email), now)
    if hold:
        outbox.enqueue(registration_id, MailKind.confirm_email, now)
        return Outcome(registration_id, token, Result.held if seated else Result.waitlisted)
    kind = MailKind.confirmation if seated else MailKind.waitlisted
    outbox.enqueue(registration_id, kind, now)
    return Outcome(registration_id, token, Result.confirmed if seated else Result.waitlisted)


def cancel(registration: Registration, *, now: datetime, notify: bool = True,
           by_staff: bool = False) -> list[Registration]:
    """Cancels; a freed seat goes to the first waiting person. Returns those promoted.

    The attendee is emailed unless ``notify`` is False; staff (``by_staff``) may cancel after
    the session started, attendees may not."""
    if not by_staff:
        deadlines.check_cancellable(registration.session, now)
    was_confirmed = registration.status in SEATED
    # Conditional, so two cancel clicks at once cannot free two seats.
    result = db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.status != Status.cancelled)
        # entry_version + 1: every pass printed or sent so far scans as "cancelled".
        .values(status=Status.cancelled, cancelled_at=now, entry_version=Registration.entry_version + 1,
                hold_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise DomainError("already_cancelled")
    db.session.refresh(registration)
    if notify:
        outbox.enqueue(registration.id, MailKind.cancelled, now)
    if not was_confirmed:
        return []
    capacity.release_seat(registration.session_id)
    return promote_waiting(registration.session_id, now=now)


def promote_waiting(session_id: int, *, now: datetime) -> list[Registration]:
    """Moves waiting people, first come first served, into free seats. People who have not
    confirmed their email yet (events with confirm_email) are skipped (``holds.PROMOTABLE``)."""
    promoted = []
    while True:
        candidate = db.session.scalar(
            select(Registration)
            .where(Registration.session_id == session_id, Registration.status == Status.waitlisted,
                   holds.PROMOTABLE)
            .order_by(Registration.id)
            .limit(1)
        )
        if candidate is None or not capacity.take_seat_any_time(session_id):
            return promoted
        result = db.session.execute(
            update(Registration)
            .where(Registration.id == candidate.id, Registration.status == Status.waitlisted, holds.PROMOTABLE)
            .values(status=Status.confirmed, confirmed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # cancelled meanwhile: give the seat back and look again
            capacity.release_seat(session_id)
            db.session.expire(candidate)
            continue
        db.session.refresh(candidate)
        outbox.enqueue(candidate.id, MailKind.promoted, now)
        promoted.append(candidate)


def move(registration: Registration, to_session: EventSession, *, now: datetime) -> list[Registration]:
    """Moves a confirmed registration to another session of its event (staff, no deadline: a
    seat must be free there). The old pass stops working (``superseded``), a new one is sent,
    and the freed seat goes to the first waiting person. Returns those promoted."""
    if to_session.event_id != registration.event_id or to_session.id == registration.session_id:
        raise DomainError("invalid_request")
    if registration.status != Status.confirmed:
        raise DomainError("not_confirmed")
    if not capacity.take_seat_any_time(to_session.id):
        raise DomainError("session_full")
    old_session_id = registration.session_id
    try:
        result = db.session.execute(
            update(Registration)
            .where(Registration.id == registration.id, Registration.status == Status.confirmed,
                   Registration.session_id == old_session_id)
            .values(session_id=to_session.id, entry_version=Registration.entry_version + 1,
                    checked_in_at=None, checked_in_desk="")
            .execution_options(synchronize_session=False)
        )
    except IntegrityError:  # the email already holds a registration there; the caller rolls back
        raise DomainError("already_registered") from None
    if result.rowcount != 1:
        raise DomainError("not_confirmed")  # cancelled or moved meanwhile; the caller rolls back
    db.session.refresh(registration)
    outbox.enqueue(registration.id, MailKind.pass_resent, now, context={"reason": "moved"})
    capacity.release_seat(old_session_id)
    return promote_waiting(old_session_id, now=now)


def queue_position(registration: Registration) -> int | None:
    """A waiting person's place in their session's queue: 1 + the people waiting before them
    (by id, the order promote_waiting takes them), not counting sign-ups whose email is not yet
    confirmed (they are not promoted until it is). None when not on the waiting list."""
    if registration.status != Status.waitlisted:
        return None
    before = db.session.scalar(
        select(func.count()).select_from(Registration).where(
            Registration.session_id == registration.session_id, Registration.status == Status.waitlisted,
            Registration.id < registration.id,
            or_(Registration.hold_expires_at.is_(None), Registration.email_confirmed_at.is_not(None)),
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
    if not capacity.take_seat(to_session.id, now):
        why = capacity.why_no_seat(to_session.id, now)
        raise DomainError("session_full" if why in (NoSeat.full, NoSeat.waitlisted) else why.value)
    try:
        result = db.session.execute(
            update(Registration)
            .where(Registration.id == registration.id, Registration.status == Status.waitlisted,
                   Registration.session_id == registration.session_id)
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
