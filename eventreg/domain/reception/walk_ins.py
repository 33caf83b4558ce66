"""Walk-ins: people who register at the desk on the day, checked in as they register.

The same person twice is refused (``DuplicateWalkIn``, naming the earlier walk-in) unless staff
confirm; a walk-in needs a free seat (no deadline, no waiting list, no override at the desk).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from eventreg.domain.communication import outbox
from eventreg.domain.errors import DomainError
from eventreg.domain.reception.checkin import log_scan
from eventreg.domain.registration import capacity, passes, signup
from eventreg.domain.registration.signup import Applicant
from eventreg.extensions import db
from eventreg.models import EventSession, MailKind, Registration, ScanMethod, ScanResult, Status


class DuplicateWalkIn(DomainError):
    """Someone of this name (and this email, when one is given) was registered as a walk-in at
    this event already: the desk asks before entering them again. ``existing`` is that walk-in."""

    def __init__(self, existing: Registration):
        super().__init__("walk_in_duplicate")
        self.existing = existing


def earlier_walk_in(event_id: int, applicant: Applicant, *, desk: str | None = None) -> Registration | None:
    """The latest active walk-in of the event with the applicant's name (family and given, as
    the form normalised them) and, when the applicant gave an email, that email (checked in at
    ``desk``, when given)."""
    where = [Registration.event_id == event_id, Registration.walk_in.is_(True),
             Registration.status != Status.cancelled,
             Registration.family_name == applicant.family_name, Registration.given_name == applicant.given_name]
    if applicant.email:
        where.append(Registration.email == applicant.email)
    if desk is not None:
        where.append(Registration.checked_in_desk == desk[:50])
    return db.session.scalar(select(Registration).where(*where).order_by(Registration.id.desc()).limit(1))


def walk_in(session: EventSession, applicant: Applicant, *, desk: str, user_id: int | None,
            now: datetime, confirm: bool = False) -> Registration:
    """Registers someone at the desk on the day and checks them in at once.

    No deadline and no waiting list: a seat must be free (the database's count decides). The
    email is optional; with one, the confirmation (and pass) is sent as for any registration.

    A second walk-in of the same name (and email, when given) at the event raises
    DuplicateWalkIn (nothing is registered; the seat taken is freed by the caller's rollback),
    unless ``confirm`` (the desk asked and was told
    "enter again"). This is a question to the volunteer, not a guarantee: two desks entering the
    same person in the same second both pass the check (nothing unique can be said of a name).
    """
    if not capacity.take_seat_any_time(session.id):
        raise DomainError("session_full")  # first: no question about someone who cannot sit
    if not confirm:
        existing = earlier_walk_in(session.event_id, applicant)
        # The same email in the same session is refused below (already_registered): no question.
        if existing is not None and not (applicant.email and existing.session_id == session.id):
            raise DuplicateWalkIn(existing)  # the caller rolls back, which frees the seat
    return _register(session, applicant, desk=desk, user_id=user_id, now=now)


@dataclass
class OfflineWalkIn:
    registration: Registration
    overflow: bool  # no seat was left: the capacity was raised (a seat_overflow task)
    duplicate_of: Registration | None  # another desk's walk-in of the same name (a walk_in_duplicate task)


def walk_in_apart(session: EventSession, applicant: Applicant, *, desk: str, user_id: int | None,
                  now: datetime, confirm: bool) -> OfflineWalkIn:
    """A walk-in an offline desk registered at ``now`` (its device time): the person is in the
    room already, so a full session still registers them (the capacity grows by their seat) and a
    same-name walk-in of another desk, which the desk could not see, registers them again; the
    caller makes both visible. The desk's own earlier walk-in of the name was on its screen, so
    without ``confirm`` that one is still a DuplicateWalkIn."""
    overflow = capacity.take_seat_over_capacity(session.id)
    existing = None
    if not confirm:
        own = earlier_walk_in(session.event_id, applicant, desk=desk)
        if own is not None:
            raise DuplicateWalkIn(own)  # the caller rolls back, which frees the seat
        existing = earlier_walk_in(session.event_id, applicant)
    registration = _register(session, applicant, desk=desk, user_id=user_id, now=now)
    return OfflineWalkIn(registration, overflow, existing)


def _register(session: EventSession, applicant: Applicant, *, desk: str, user_id: int | None,
              now: datetime) -> Registration:
    """Inserts the confirmed, checked-in walk-in (the seat is taken), mails the pass, logs it."""
    registration_id = signup.insert_unless_active(dict(
        event_id=session.event_id, session_id=session.id, token=passes.new_token(),
        entry_id=passes.new_entry_id(), status=Status.confirmed, created_at=now, confirmed_at=now,
        checked_in_at=now, checked_in_desk=desk[:50], walk_in=True, **vars(applicant),
    ))
    if registration_id is None:
        raise DomainError("already_registered")  # the caller rolls back, which frees the seat
    registration = db.session.get(Registration, registration_id)
    if registration.email:
        outbox.enqueue(registration_id, MailKind.confirmation, now)
    log_scan(session.event_id, ScanResult.walk_in, registration=registration, token="", method=ScanMethod.walk_in,
         desk=desk, user_id=user_id, session_id=session.id, now=now)
    return registration
