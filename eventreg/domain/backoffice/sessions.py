"""An event's sessions, changed by staff: added, moved, resized, removed.

A session whose times change gets a higher iCalendar ``sequence``, its registration window and
scheduled tasks move with it, and every confirmed or waiting person gets one ``session_changed``
email (idempotent per sequence). Lowering a capacity is one conditional UPDATE
(``… WHERE seats_taken <= :new``), refused with ``capacity_below_taken`` (detail: the number taken),
so a seat taken at the same moment cannot slip under it; raising one promotes waiting people at
once. A session anyone ever registered for (even cancelled) is not removed
(``session_has_registrations``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from eventreg.domain.backoffice import audit
from eventreg.domain.backoffice.event_checks import clean_session
from eventreg.domain.backoffice.events import registration_count, snapshot
from eventreg.domain.communication import outbox
from eventreg.domain.errors import DomainError
from eventreg.domain.registration.waitlist import promote_waiting
from eventreg.domain.timing import deadlines, schedule
from eventreg.extensions import db
from eventreg.models import Event, EventSession, EventStatus, MailKind, Registration, Status

_SESSION_FIELDS = ("title", "doors_at", "starts_at", "ends_at", "capacity", "deadline_at", "deadline_rule")


def add_session(event: Event, values: Mapping[str, Any], *, actor, now: datetime) -> EventSession:
    cleaned = clean_session(values, event.timezone)
    session = EventSession(seats_taken=0, sequence=0, **cleaned)
    event.sessions.append(session)
    deadlines.resolve_window(event, session)
    db.session.flush()
    schedule.reschedule(event)
    audit.record(event.id, "session_added", actor=actor, now=now,
                 changed=audit.changes({}, {"session_id": session.id, **snapshot(session, _SESSION_FIELDS)}))
    db.session.flush()
    return session


def _set_capacity(session: EventSession, capacity: int, *, now: datetime) -> None:
    if capacity == session.capacity:
        return
    raising = capacity > session.capacity
    result = db.session.execute(
        update(EventSession).where(EventSession.id == session.id, EventSession.seats_taken <= capacity)
        .values(capacity=capacity).execution_options(synchronize_session=False))
    db.session.refresh(session)
    if result.rowcount != 1:
        raise DomainError("capacity_below_taken", str(session.seats_taken))
    if raising:
        promote_waiting(session.id, now=now)
        db.session.refresh(session)


def update_session(session: EventSession, values: Mapping[str, Any], *, actor, now: datetime,
                   notify: bool = True) -> dict:
    """Changes a session. A changed date or time raises its ``sequence``, moves its window and
    scheduled tasks, and queues one ``session_changed`` email per confirmed or waiting person.
    Returns the changes."""
    event = session.event
    cleaned = clean_session(values, event.timezone)
    before = snapshot(session, _SESSION_FIELDS)
    _set_capacity(session, cleaned.pop("capacity"), now=now)
    moved = any(getattr(session, name) != cleaned[name] for name in ("doors_at", "starts_at", "ends_at"))
    for name, value in cleaned.items():
        setattr(session, name, value)
    changed = audit.changes(before, snapshot(session, _SESSION_FIELDS))
    if not changed:
        return {}
    if moved or changed.keys() & {"deadline_at", "deadline_rule"}:
        deadlines.resolve_window(event, session)
        db.session.flush()
        schedule.reschedule(event)
    if moved:
        session.sequence += 1
        if notify:
            changed["notified"] = [None, _notify_moved(session, now)]
    audit.record(event.id, "session_edited", actor=actor, now=now, changed={"session_id": [session.id, session.id],
                                                                              **changed})
    db.session.flush()
    return changed


def _notify_moved(session: EventSession, now: datetime) -> int:
    """One email per active registration of the session, with the new pass and calendar entry."""
    ids = db.session.scalars(
        select(Registration.id).where(Registration.session_id == session.id,
                                      Registration.status.in_((Status.confirmed, Status.held, Status.waitlisted)))
        .order_by(Registration.id)).all()
    for registration_id in ids:
        outbox.enqueue(registration_id, MailKind.session_changed, now,
                       attachments=[outbox.PASS_PDF, outbox.ICS_REQUEST],
                       idempotency_key=f"session_changed:{session.id}:{session.sequence}:{registration_id}")
    return len(ids)


def remove_session(session: EventSession, *, actor, now: datetime) -> None:
    event = session.event
    taken = registration_count(event.id, session.id)
    if taken:
        raise DomainError("session_has_registrations", str(taken))
    if event.status != EventStatus.draft and len(event.sessions) == 1:
        raise DomainError("last_session")
    audit.record(event.id, "session_removed", actor=actor, now=now,
                 changed=audit.changes({"session_id": session.id, **snapshot(session, _SESSION_FIELDS)}, {}))
    event.sessions.remove(session)
    db.session.flush()
