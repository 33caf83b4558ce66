"""Signing up, cancelling and moving (the waiting list: domain.registration.waitlist). One
transaction per call, not committed."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from eventreg.domain.backoffice import hybrid_rules
from eventreg.domain.communication import outbox
from eventreg.domain.errors import DomainError
from eventreg.domain.people import person_keys
from eventreg.domain.registration import capacity, holds, passes, signup_statement, waitlist
from eventreg.domain.registration.capacity import NoSeat
from eventreg.domain.timing import deadlines
from eventreg.extensions import db
from eventreg.models import EventSession, MailKind, Registration, Sector, Status
from eventreg.models.registration import SEATED


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
    # The same form (its signup_key) was sent again: the registration it made, nothing new (the
    # caller rolls back, so a seat this copy took goes back)
    repeated = "repeated"


def new_signup_key() -> str:
    """The sign-up form's one-time key (32 url-safe characters), new on every page shown."""
    return secrets.token_urlsafe(24)


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


def made_with(signup_key: str, event_id: int, email: str) -> Outcome | None:
    """The registration an earlier copy of this form made, or None when the key made none yet.

    The key is the form's, not the person's: a copy carrying another email or event changed what
    was sent, so it is refused (``signup_key_used``) rather than answered with someone's page."""
    row = db.session.execute(
        select(Registration.id, Registration.token, Registration.event_id, Registration.email)
        .where(Registration.signup_key == signup_key)
    ).first()
    if row is None:
        return None
    if (row.event_id, row.email) != (event_id, email):
        raise DomainError("signup_key_used")
    return Outcome(row.id, row.token, Result.repeated)


def _resend(existing: Registration, now: datetime) -> Outcome:
    outbox.enqueue(existing.id, MailKind.pass_resent, now, context={"reason": "duplicate"})
    return Outcome(existing.id, existing.token, Result.duplicate)


def insert_unless_active(values: dict) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING, on every unique index.

    Returns the new row's id, or None when the email already holds an active registration for the
    session or the signup_key made a registration (committed, or being committed by a concurrent
    request: the insert waits for it). One round trip, and no savepoint to recover from a unique
    violation.
    """
    try:
        return db.session.scalar(_insert_statement(db.session.get_bind().dialect.name), person_keys.with_keys(values))
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
        # No conflict target: the one-active-registration index and the signup_key's unique
        # constraint both answer "already there" (PostgreSQL allows one target, or all).
        .on_conflict_do_nothing()
        .returning(Registration.__table__.c.id)
    )


def register(session: EventSession, applicant: Applicant, *, now: datetime,
             signup_key: str | None = None) -> Outcome:
    """Confirms, waitlists, or recognises a second sign-up with the same email or the same form.

    Every rule is read from the database at the moment of the write: the seat UPDATE checks
    capacity and the session's window together; when it takes no seat, one fresh query of the
    window and the event's waiting-list switch decides (``capacity.why_no_seat``). Only
    ``session.id`` and ``session.event_id`` are read from ``session``.

    A duplicate never takes a second seat: the pass link is emailed again instead, to the
    address on file, so a stranger typing someone's email learns nothing.

    ``signup_key`` (the form's one-time key, or None for a form without one): a copy of a form
    that already made a registration answers ``repeated`` with it and changes nothing (the
    caller rolls back). The first sending pays nothing for this: the key is looked up only when
    the insert found its unique constraint taken, or when no seat was taken.
    """
    session_id, event_id = session.id, session.event_id
    seat = capacity.take_seat(session_id, event_id, now)
    seated = seat is not None
    if not seated:
        earlier = made_with(signup_key, event_id, applicant.email) if signup_key else None
        if earlier is not None:  # sent again after the window closed or the seats ran out
            return earlier
        why = capacity.why_no_seat(session_id, event_id, now)
        if why != NoSeat.waitlisted:
            existing = find_active(session_id, applicant.email) if why == NoSeat.full else None
            if existing is None:
                raise DomainError(why.value)
            return _resend(existing, now)
    # None: the event asks for no email confirmation (read with the seat, or now when none was taken)
    hold = holds.hold_length(seat.confirm_email, seat.hold_minutes) if seated else holds.hold_for(event_id)
    status = (Status.held if hold else Status.confirmed) if seated else Status.waitlisted
    token = passes.new_token()
    registration_id = insert_unless_active(_values(session_id, event_id, token, status, now, hold, signup_key, applicant))
    if registration_id is None:
        # A copy of this form won (the unique constraint decided); else the email's earlier sign-up.
        earlier = made_with(signup_key, event_id, applicant.email) if signup_key else None
        if earlier is not None:
            return earlier
        existing = find_active(session_id, applicant.email)
        if existing is None:  # another unique value (token, entry id) collided: as good as never
            raise DomainError("event_changed")
        if seated:
            capacity.release_seat(session_id)
        return _resend(existing, now)
    if hold:
        outbox.enqueue(registration_id, MailKind.confirm_email, now)
        return Outcome(registration_id, token, Result.held if seated else Result.waitlisted)
    kind = MailKind.confirmation if seated else MailKind.waitlisted
    outbox.enqueue(registration_id, kind, now)
    return Outcome(registration_id, token, Result.confirmed if seated else Result.waitlisted)


def _values(session_id: int, event_id: int, token: str, status: Status, now: datetime, hold, signup_key: str | None,
            applicant: Applicant) -> dict:
    """A new registration's row (insert_unless_active adds the search and sort keys)."""
    return dict(
        event_id=event_id,
        session_id=session_id,
        token=token,
        entry_id=passes.new_entry_id(),
        status=status,
        created_at=now,
        confirmed_at=now if status == Status.confirmed else None,
        hold_expires_at=now + hold if hold else None,
        signup_key=signup_key,
        **vars(applicant),
    )


def register_confirmed(session: EventSession, applicant: Applicant, *, now: datetime,
                       signup_key: str | None = None) -> Outcome | None:
    """The usual sign-up on PostgreSQL in one statement (domain.registration.signup_statement):
    a seat left, the window open, no email confirmation asked, the email and the form new. The
    confirmed registration and its confirmation mail, as ``register`` writes them; None when
    anything else holds: then nothing was written and ``register`` decides (a caller in a
    transaction rolls back first: the statement may have failed on a unique index)."""
    token = passes.new_token()
    values = person_keys.with_keys(_values(session.id, session.event_id, token, Status.confirmed, now, None,
                                           signup_key, applicant))
    registration_id = signup_statement.take_seat_and_register(
        session.id, session.event_id, now, values, outbox.attendee_values(MailKind.confirmation, now))
    return None if registration_id is None else Outcome(registration_id, token, Result.confirmed)


CANCEL_ATTEMPTS = 3  # a row changed under the cancel this often in a row: the person reloads


def cancel(registration: Registration, *, now: datetime, notify: bool = True,
           by_staff: bool = False) -> list[Registration]:
    """Cancels; a freed seat goes to the first waiting person. Returns those promoted.

    The attendee is emailed unless ``notify`` is False; staff (``by_staff``) may cancel after
    the session started, attendees may not. Attendee, staff, bulk and privacy cancels all come
    here. The row is changed by one conditional UPDATE on the exact state the decision was made
    from (status, session, pass version): when it changed since it was read (promoted, moved,
    confirmed, cancelled), it is read again and decided again, so a seat is released exactly
    when the row held one."""
    for _ in range(CANCEL_ATTEMPTS):
        if registration.status == Status.cancelled:
            raise DomainError("already_cancelled")
        if not by_staff:
            deadlines.check_cancellable(registration.session, now)
        was, session_id = registration.status, registration.session_id
        if _withdraw(registration, now):
            break
        db.session.refresh(registration)
    else:
        raise DomainError("registration_changed")
    db.session.refresh(registration)
    if notify:
        outbox.enqueue(registration.id, MailKind.cancelled, now)
    if was not in SEATED:
        return []
    capacity.release_seat(session_id)
    return waitlist.promote_waiting(session_id, now=now)


def _withdraw(registration: Registration, now: datetime) -> bool:
    """The guarded transition: True when the row still held what ``registration`` says."""
    r = Registration
    result = db.session.execute(
        update(r)
        .where(r.id == registration.id, r.status == registration.status, r.session_id == registration.session_id,
               r.entry_version == registration.entry_version)
        # entry_version + 1: every pass printed or sent so far scans as "cancelled".
        .values(status=Status.cancelled, cancelled_at=now, entry_version=r.entry_version + 1, hold_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


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
    # Between on site and online: the mail says the pass became a join link, or the other way.
    mode_changed = hybrid_rules.on_site(registration.session) != hybrid_rules.on_site(to_session)
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
    outbox.enqueue(registration.id, MailKind.pass_resent, now,
                   context={"reason": "moved", **({"mode_changed": True} if mode_changed else {})})
    capacity.release_seat(old_session_id)
    return waitlist.promote_waiting(old_session_id, now=now)
