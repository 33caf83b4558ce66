"""One staff action on many registrations at once, all or nothing.

``check`` finds, without writing, every selected row the action would refuse (a cancelled
person cannot be cancelled again, a full session cannot take the people moved to it, …), so the
organizer reads all of them at once. ``run`` checks, then applies domain.backoffice.registration_edits to each
row in one transaction; when a row is refused anyway (someone changed it meanwhile) it raises
BulkRefused naming that row and the caller rolls the whole transaction back. Nothing commits here.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from eventreg.domain.backoffice import registration_edits
from eventreg.domain.errors import DomainError
from eventreg.extensions import db
from eventreg.models import EventSession, Registration, Status


class Action(str, enum.Enum):
    cancel = "cancel"
    move = "move"
    promote = "promote"
    resend = "resend"


MAX_ROWS = 5000  # one request, one transaction: more than this is refused as too many


@dataclass(frozen=True)
class Refusal:
    registration: Registration
    code: str  # a DomainError code of staff_actions, or same_session


class BulkRefused(DomainError):
    def __init__(self, refusals: list[Refusal]):
        super().__init__("bulk_refused", ", ".join(f"#{r.registration.id}:{r.code}" for r in refusals))
        self.refusals = refusals


def _free_seats(session_ids) -> dict[int, int]:
    rows = db.session.execute(
        select(EventSession.id, EventSession.capacity - EventSession.seats_taken).where(EventSession.id.in_(session_ids))
    ).all()
    return {session_id: max(free, 0) for session_id, free in rows}


def _order(action: Action, registrations: list[Registration]) -> list[Registration]:
    """Waiting people are cancelled first, so no freed seat goes to someone about to be cancelled;
    promotions follow the queue."""
    if action == Action.cancel:
        return sorted(registrations, key=lambda r: (r.status != Status.waitlisted, r.id))
    return sorted(registrations, key=lambda r: r.id)


def check(registrations: list[Registration], action: Action, *, target: EventSession | None = None) -> list[Refusal]:
    """Every row the action would refuse, in id order (empty: the action can go ahead)."""
    if len(registrations) > MAX_ROWS:
        raise DomainError("too_many_rows", str(MAX_ROWS))
    refusals: list[Refusal] = []
    if action == Action.cancel:
        refusals = [Refusal(r, "already_cancelled") for r in registrations if r.status == Status.cancelled]
    elif action == Action.resend:
        for r in registrations:
            if r.status != Status.confirmed:
                refusals.append(Refusal(r, "no_pass"))
            elif not r.email:
                refusals.append(Refusal(r, "no_email"))
    elif action == Action.promote:
        refusals = [Refusal(r, "not_waitlisted") for r in registrations if r.status != Status.waitlisted]
        waiting = [r for r in _order(action, registrations) if r.status == Status.waitlisted]
        free = _free_seats({r.session_id for r in waiting})
        for r in waiting:  # in queue order: those past the free seats are named
            if free.get(r.session_id, 0) <= 0:
                refusals.append(Refusal(r, "no_free_seat"))
            free[r.session_id] = free.get(r.session_id, 0) - 1
    elif action == Action.move:
        refusals = _check_move(registrations, target)
    return sorted(refusals, key=lambda r: r.registration.id)


def _check_move(registrations: list[Registration], target: EventSession | None) -> list[Refusal]:
    if target is None or any(target.event_id != r.event_id for r in registrations):
        raise DomainError("invalid_request", "target session")
    refusals, moving = [], []
    for r in _order(Action.move, registrations):
        if r.status != Status.confirmed:
            refusals.append(Refusal(r, "not_confirmed"))
        elif r.session_id == target.id:
            refusals.append(Refusal(r, "same_session"))
        else:
            moving.append(r)
    emails = Counter(r.email for r in moving if r.email)
    taken = set(db.session.scalars(
        select(Registration.email).where(
            Registration.session_id == target.id, Registration.status != Status.cancelled,
            Registration.email.in_(list(emails)),
        )
    )) if emails else set()
    seen: set[str] = set()
    free = _free_seats([target.id]).get(target.id, 0)
    for r in moving:
        if r.email and (r.email in taken or r.email in seen):
            refusals.append(Refusal(r, "already_registered"))
            continue
        if r.email:
            seen.add(r.email)
        if free <= 0:
            refusals.append(Refusal(r, "session_full"))
        free -= 1
    return refusals


def run(registrations: list[Registration], action: Action, *, target: EventSession | None = None,
        notify: bool = True, actor, now: datetime) -> int:
    """Applies the action to every row, or raises BulkRefused (the caller rolls back). Returns
    the number of rows changed. ``notify``: for cancel, whether the attendees are emailed."""
    refusals = check(registrations, action, target=target)
    if refusals:
        raise BulkRefused(refusals)
    for r in _order(action, registrations):
        try:
            if action == Action.cancel:
                registration_edits.cancel(r, actor=actor, now=now, notify=notify)
            elif action == Action.move:
                registration_edits.move(r, target, actor=actor, now=now)
            elif action == Action.promote:
                registration_edits.promote(r, actor=actor, now=now)
            else:
                registration_edits.resend_pass(r, actor=actor, now=now)
        except DomainError as exc:
            raise BulkRefused([Refusal(r, exc.code)]) from exc
    db.session.flush()
    return len(registrations)
