"""What staff do to one registration: edit, add by hand, cancel, move, promote, resend the pass.

Each function checks, changes, queues the attendee's email through the outbox, writes an audit
entry (who, when, field by field ``[old, new]``; never a token or a pass payload) and flushes.
None commits: the caller commits, or rolls back after a DomainError (some refusals come after a
first write, e.g. a seat taken before the email turned out to be registered already).

Seats are the database's: every seat taken here is a conditional update (domain.registration.capacity), so
two staff members adding or promoting into the last seat at once never overbook. Staff are not
bound by the registration window (they may add after the deadline), but by the capacity, unless
they override it explicitly: then the capacity is raised by the overflow in the same UPDATE that
takes the seat (the seat counter's CHECK constraint holds) and a ``capacity_override`` entry
records the numbers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from eventreg.domain.backoffice import audit
from eventreg.domain.communication import outbox
from eventreg.domain.errors import DomainError
from eventreg.domain.people import fields, person_keys
from eventreg.domain.people.fields import PERSON, REQUIRED, Covers
from eventreg.domain.registration import capacity, passes, signup
from eventreg.domain.registration.signup import Applicant
from eventreg.extensions import db
from eventreg.models import EventSession, MailKind, Registration, Sector, Status

_seats = EventSession.__table__.c
# Full (seats_taken = capacity: the CHECK allows no more): one more seat and one more place.
_OVERFLOW = (
    update(EventSession.__table__)
    .where(_seats.id == bindparam("sid"), _seats.seats_taken >= _seats.capacity)
    .values(capacity=_seats.seats_taken + 1, seats_taken=_seats.seats_taken + 1)
    .returning(_seats.capacity)
)


def _plain(value):
    return value.value if isinstance(value, Sector | Status) else value


def snapshot(registration: Registration) -> dict:
    """The audited values of a registration: its PERSON fields and ``answers.<id>``."""
    values = {name: _plain(getattr(registration, name)) for name in PERSON}
    values.update({f"answers.{key}": value for key, value in (registration.answers or {}).items()})
    return values


def _other_active(session_id: int, email: str | None, registration_id: int | None) -> bool:
    if not email:
        return False
    return db.session.scalar(
        select(Registration.id).where(
            Registration.session_id == session_id, Registration.email == email,
            Registration.status != Status.cancelled, Registration.id != (registration_id or 0),
        ).limit(1)
    ) is not None


def edit(reg: Registration, values: dict, *, actor, now: datetime, covers: Covers = None, note: str = "",
         params: dict | None = None) -> dict:
    """Changes the person's fields and answers given in ``values`` (PERSON names, and
    ``answers``: {question id: answer}, merged into the stored answers), checked as the public
    form checks them (hidden questions are never required). A walk-in may have no email.
    Returns the changes ``{field: [old, new]}`` (empty: nothing changed, nothing logged).
    ``note``/``params``: the audit entry's note (an import names its file and row).

    DomainError: ``invalid_fields`` (fields.InvalidFields, with each field's error),
    ``email_taken`` (another active registration of the session has that email),
    ``invalid_request`` (a key that is no field).
    """
    unknown = set(values) - set(PERSON) - {"answers"}
    if unknown:
        raise DomainError("invalid_request", ", ".join(sorted(unknown)))
    required = REQUIRED - {"email"} if reg.walk_in else REQUIRED
    errors = {}
    try:
        person = fields.clean_person(values, covers=covers, required=required)
    except fields.InvalidFields as exc:
        person, errors = {}, dict(exc.errors)
    answers = values.get("answers") or {}
    if not isinstance(answers, dict):
        raise DomainError("invalid_request", "answers")
    try:
        new_answers = fields.clean_answers(reg.event.questions, answers, before=reg.answers or {})
    except fields.InvalidFields as exc:
        errors.update(exc.errors)
    if errors:
        raise fields.InvalidFields(errors)
    # A question added after the sign-up, left empty: nothing to record.
    new_answers = {key: value for key, value in new_answers.items()
                   if key in (reg.answers or {}) or value not in (None, "", [], False)}
    before = snapshot(reg)
    if "email" in person and person["email"] != reg.email and reg.status != Status.cancelled \
            and _other_active(reg.session_id, person["email"], reg.id):
        raise DomainError("email_taken")
    for name, value in person.items():
        setattr(reg, name, value)
    person_keys.refresh(reg)
    reg.answers = {**(reg.answers or {}), **new_answers}  # a new dict: JSON columns track assignment
    changed = audit.changes(before, snapshot(reg))
    if not changed:
        return {}
    try:
        db.session.flush()
    except IntegrityError:  # an active registration with that email appeared meanwhile; caller rolls back
        raise DomainError("email_taken") from None
    audit.record(reg.event_id, "registration_edited", actor=actor, now=now, registration_id=reg.id,
                 changed=changed, note=note, params=params)
    db.session.flush()
    return changed


def _take_seat(session_id: int, *, override_capacity: bool, waitlist: bool) -> tuple[Status, list | None]:
    """A seat whatever the window; else, with the override, one more place (the capacity's
    ``[old, new]``); else the waiting list if asked; else DomainError session_full."""
    if capacity.take_seat_any_time(session_id):
        return Status.confirmed, None
    if override_capacity:
        raised = db.session.execute(_OVERFLOW, {"sid": session_id}).scalar()
        if raised is not None:
            return Status.confirmed, [raised - 1, raised]
        if capacity.take_seat_any_time(session_id):  # a seat was freed in between
            return Status.confirmed, None
    if waitlist and not override_capacity:
        return Status.waitlisted, None
    raise DomainError("session_full")


def add_by_hand(session: EventSession, applicant: Applicant, *, actor, now: datetime,
                override_capacity: bool = False, send_confirmation: bool = True, waitlist: bool = False,
                covers: Covers = None, note: str | None = None, params: dict | None = None) -> Registration:
    """Registers someone as the public form does (same checks, confirmation email through the
    outbox unless ``send_confirmation`` is False), at any time: the registration window does
    not apply to staff. A full session is refused (``session_full``), unless ``waitlist`` (the
    person waits) or ``override_capacity`` (the capacity is raised by one, logged as
    ``capacity_override``). ``email_taken``: the email holds an active registration there.
    ``note``/``params``: the audit entry's note instead of the default (an import names its
    file and row).
    """
    values = fields.clean_person(vars(applicant), covers=covers)
    answers = fields.clean_answers(session.event.questions, applicant.answers or {}, complete=True)
    if _other_active(session.id, values["email"], None):
        raise DomainError("email_taken")
    status, raised = _take_seat(session.id, override_capacity=override_capacity, waitlist=waitlist)
    registration_id = signup.insert_unless_active(dict(
        event_id=session.event_id, session_id=session.id, token=passes.new_token(),
        entry_id=passes.new_entry_id(), status=status, created_at=now,
        confirmed_at=now if status == Status.confirmed else None, walk_in=False,
        answers=answers, language=applicant.language, **values,
    ))
    if registration_id is None:  # registered meanwhile; the caller rolls back (frees the seat)
        raise DomainError("email_taken")
    reg = db.session.get(Registration, registration_id)
    if send_confirmation:
        outbox.enqueue(reg.id, MailKind.confirmation if status == Status.confirmed else MailKind.waitlisted, now)
    added = {key: [None, value] for key, value in snapshot(reg).items() if value not in (None, "", [], False)}
    added.update(status=[None, status.value], session_id=[None, session.id])
    if note is None:
        note = "" if send_confirmation else "no_confirmation_email"
    audit.record(reg.event_id, "registration_added", actor=actor, now=now, registration_id=reg.id,
                 changed=added, note=note, params=params)
    if raised is not None:
        audit.record(reg.event_id, "capacity_override", actor=actor, now=now, registration_id=reg.id,
                     changed={"capacity": raised, "seats_taken": [raised[0], raised[1]]},
                     note="above_capacity")
        db.session.expire(session, ["capacity", "seats_taken"])
    db.session.flush()
    return reg


def _log_promotions(promoted: list[Registration], *, actor, now: datetime, note: str) -> None:
    for person in promoted:
        audit.record(person.event_id, "promoted", actor=actor, now=now, registration_id=person.id,
                     changed={"status": [Status.waitlisted.value, Status.confirmed.value]}, note=note)


def cancel(reg: Registration, *, actor, now: datetime, notify: bool = True) -> list[Registration]:
    """Cancels on the attendee's behalf (also after the session started): the seat goes to the
    first waiting person, every pass stops working, the attendee is emailed only if ``notify``.
    Returns those promoted. DomainError ``already_cancelled``."""
    before = {"status": reg.status.value, "entry_version": reg.entry_version}
    promoted = signup.cancel(reg, now=now, notify=notify, by_staff=True)
    audit.record(reg.event_id, "cancelled_by_staff", actor=actor, now=now, registration_id=reg.id,
                 changed=audit.changes(before, {"status": reg.status.value, "entry_version": reg.entry_version}),
                 note="" if notify else "attendee_not_told")
    _log_promotions(promoted, actor=actor, now=now, note="seat_freed_by_cancellation")
    db.session.flush()
    return promoted


def move(reg: Registration, session: EventSession, *, actor, now: datetime) -> list[Registration]:
    """Moves a confirmed registration to another session of its event if a seat is free there.
    The old pass stops working; the attendee gets the new one; the freed seat goes to the first
    waiting person of the old session (returned). DomainError ``invalid_request`` (same session
    or another event), ``not_confirmed``, ``session_full``, ``already_registered``."""
    before = {"session_id": reg.session_id, "entry_version": reg.entry_version, "checked_in_at": reg.checked_in_at}
    promoted = signup.move(reg, session, now=now)
    after = {"session_id": reg.session_id, "entry_version": reg.entry_version, "checked_in_at": reg.checked_in_at}
    changed = {key: [_iso(value[0]), _iso(value[1])] for key, value in audit.changes(before, after).items()}
    audit.record(reg.event_id, "moved", actor=actor, now=now, registration_id=reg.id, changed=changed)
    _log_promotions(promoted, actor=actor, now=now, note="seat_freed_by_move")
    db.session.flush()
    return promoted


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


def promote(reg: Registration, *, actor, now: datetime) -> None:
    """Gives a waiting person a seat, if one is free (a conditional update: never overbooks),
    whatever their place in the queue. DomainError ``not_waitlisted``, ``no_free_seat``."""
    if reg.status != Status.waitlisted:
        raise DomainError("not_waitlisted")
    if not capacity.take_seat_any_time(reg.session_id):
        raise DomainError("no_free_seat")
    result = db.session.execute(
        update(Registration)
        .where(Registration.id == reg.id, Registration.status == Status.waitlisted)
        # staff vouch for the person: an unconfirmed email no longer holds them back
        .values(status=Status.confirmed, confirmed_at=now, hold_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # promoted or cancelled meanwhile
        capacity.release_seat(reg.session_id)
        raise DomainError("not_waitlisted")
    db.session.refresh(reg)
    outbox.enqueue(reg.id, MailKind.promoted, now)
    audit.record(reg.event_id, "promoted", actor=actor, now=now, registration_id=reg.id,
                 changed={"status": [Status.waitlisted.value, Status.confirmed.value]}, note="promoted_by_staff")
    db.session.flush()


def resend_pass(reg: Registration, *, actor, now: datetime) -> None:
    """Emails the registration page and the pass again. DomainError ``no_pass`` unless confirmed
    (a waiting or cancelled registration has no pass), ``no_email`` for a walk-in without one."""
    if reg.status != Status.confirmed:
        raise DomainError("no_pass")
    if not reg.email:
        raise DomainError("no_email")
    outbox.enqueue(reg.id, MailKind.pass_resent, now, context={"reason": "staff"})
    audit.record(reg.event_id, "pass_resent", actor=actor, now=now, registration_id=reg.id)
    db.session.flush()
