"""Signing up, cancelling, and moving the waiting list. One transaction per call, not committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import EventSession, MailKind, Registration, Sector, Status
from . import capacity, deadlines, outbox, passes
from .errors import DomainError


@dataclass
class Applicant:
    """What a person entered, already normalised by domain.text."""

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


@dataclass
class Outcome:
    registration: Registration
    result: str  # "confirmed", "waitlisted" or "duplicate"


def find_active(session_id: int, email: str) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(
            Registration.session_id == session_id,
            Registration.email == email,
            Registration.status != Status.cancelled,
        )
    )


def _resend(existing: Registration, now: datetime) -> Outcome:
    outbox.enqueue(existing, MailKind.pass_resent, now)
    return Outcome(existing, "duplicate")


def register(session: EventSession, applicant: Applicant, *, now: datetime) -> Outcome:
    """Confirms, waitlists, or recognises a second sign-up with the same email.

    A duplicate never takes a second seat: the pass link is emailed again instead, to the
    address on file, so a stranger typing someone's email learns nothing.
    """
    event = session.event
    deadlines.check_open(event, session, now)
    existing = find_active(session.id, applicant.email)
    if existing is not None:
        return _resend(existing, now)
    try:
        with db.session.begin_nested():
            if capacity.take_seat(session.id):
                status = Status.confirmed
            elif event.waitlist_enabled:
                status = Status.waitlisted
            else:
                raise DomainError("session_full")
            registration = Registration(
                event_id=event.id,
                session_id=session.id,
                token=passes.new_token(),
                status=status,
                created_at=now,
                confirmed_at=now if status == Status.confirmed else None,
                **vars(applicant),
            )
            db.session.add(registration)
            db.session.flush()
    except IntegrityError:
        # The same email won a concurrent race for this session; its row is committed now.
        existing = find_active(session.id, applicant.email)
        if existing is None:
            raise
        return _resend(existing, now)
    kind = MailKind.confirmation if status == Status.confirmed else MailKind.waitlisted
    outbox.enqueue(registration, kind, now)
    return Outcome(registration, status.value)


def cancel(registration: Registration, *, now: datetime) -> list[Registration]:
    """Cancels; a freed seat goes to the first waiting person. Returns those promoted."""
    deadlines.check_cancellable(registration.session, now)
    was_confirmed = registration.status == Status.confirmed
    # Conditional, so two cancel clicks at once cannot free two seats.
    result = db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.status != Status.cancelled)
        .values(status=Status.cancelled, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise DomainError("already_cancelled")
    db.session.refresh(registration)
    outbox.enqueue(registration, MailKind.cancelled, now)
    if not was_confirmed:
        return []
    capacity.release_seat(registration.session_id)
    return promote_waiting(registration.session_id, now=now)


def promote_waiting(session_id: int, *, now: datetime) -> list[Registration]:
    """Moves waiting people, first come first served, into free seats."""
    promoted = []
    while True:
        candidate = db.session.scalar(
            select(Registration)
            .where(Registration.session_id == session_id, Registration.status == Status.waitlisted)
            .order_by(Registration.id)
            .limit(1)
        )
        if candidate is None or not capacity.take_seat(session_id):
            return promoted
        result = db.session.execute(
            update(Registration)
            .where(Registration.id == candidate.id, Registration.status == Status.waitlisted)
            .values(status=Status.confirmed, confirmed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # cancelled meanwhile: give the seat back and look again
            capacity.release_seat(session_id)
            db.session.expire(candidate)
            continue
        db.session.refresh(candidate)
        outbox.enqueue(candidate, MailKind.promoted, now)
        promoted.append(candidate)
