"""What offline desks send: batches of operations (scans, search check-ins, walk-ins, undos) made
on a device, possibly while it could not reach the server, applied once each.

- Idempotent by (event, client-made id): an operation stored already answers from what is
  stored and changes nothing (the same batch twice, a lost response and the batch resent). Two
  requests carrying the same operation at once both try to store it first; the unique constraint
  decides (INSERT … ON CONFLICT DO NOTHING), and the loser answers from the winner's row.
- Device time: each operation's ``at`` is when the desk admitted the person. A batch whose
  ``sent_at`` is more than SKEW_LIMIT off the server's clock is flagged (``clock_skew_seconds``
  on each operation) and its times are corrected by that offset.
- The rules are the online desk's: domain.reception.checkin (``apart``: the earliest admission
  counts, the other is a CheckinConflict) and domain.reception.walk_ins (``walk_in_apart``: an
  overflow or another desk's same-name walk-in is registered and becomes a DeskTask).

The web layer validates the operations (the walk-in form's rules included) and commits after each
operation, so one batch never holds many rows locked (two desks' batches touching the same
people in another order would deadlock) and a batch cut off half-way keeps what it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from eventreg.domain.backoffice import audit
from eventreg.domain.errors import DomainError
from eventreg.domain.reception import checkin, walk_ins
from eventreg.domain.registration.signup import Applicant
from eventreg.extensions import db
from eventreg.models import (
    CheckinConflict,
    DeskOperation,
    DeskTask,
    Event,
    EventSession,
    Registration,
    ScanMethod,
    ScanResult,
    StaffUser,
)

MAX_OPERATIONS = 200
SKEW_LIMIT = timedelta(minutes=5)
# A sent_at further off than this is not a clock that drifted: the batch is refused.
MAX_SKEW = timedelta(days=366)
# An operation made this long before its batch was sent (or after it) is not one of a desk's queue.
MAX_AGE = timedelta(days=7)
MAX_AHEAD = timedelta(minutes=1)

SCAN, CHECKIN, WALK_IN, UNDO = "scan", "checkin", "walk_in", "undo"
KINDS = (SCAN, CHECKIN, WALK_IN, UNDO)
WALK_IN_OVERFLOW = "walk_in_overflow"  # registered and checked in with no free seat
SEAT_OVERFLOW, WALK_IN_DUPLICATE = "seat_overflow", "walk_in_duplicate"  # DeskTask kinds
CAPACITY_RAISED = "capacity_raised_by_walk_in"  # the audit action
_PENDING = "pending"  # the claimed row's result until the operation has run (same transaction)
_ops = DeskOperation.__table__.c
_RESULT = (update(DeskOperation.__table__).where(_ops.id == bindparam("oid"))
           .values(result=bindparam("result"), registration_id=bindparam("rid")))


@dataclass(frozen=True)
class Batch:
    event_id: int
    device: str
    desk: str
    user_id: int | None
    received_at: datetime
    skew_seconds: int | None  # device minus server, when over SKEW_LIMIT


@dataclass(frozen=True)
class Operation:
    """One validated operation. ``at``: the device's clock when it was made."""

    client_id: str
    seq: int
    at: datetime
    kind: str
    payload: str = ""
    method: ScanMethod = ScanMethod.keyboard
    registration_id: int | None = None
    session_id: int | None = None
    applicant: Applicant | None = None  # walk_in
    confirm: bool = False
    # scan/checkin: False when the device itself showed "already checked in" (it knew of the other
    # admission, so it admitted nobody): then no conflict, as at an online desk.
    admitted: bool = True


@dataclass
class Applied:
    result: str  # a ScanResult value, walk_in_overflow, or the code of a refusal
    registration: Registration | None
    conflict: CheckinConflict | None = None
    tasks: list[DeskTask] = field(default_factory=list)
    replayed: bool = False  # answered from the stored operation: nothing changed now
    # What the scan read with the check-in (checkin.ScanOutcome), so the answer needs no query.
    session: dict | None = None
    list_sent: bool | None = None


def skew_seconds(sent_at: datetime, received_at: datetime) -> int | None:
    """The device's clock minus the server's when it is more than SKEW_LIMIT off, else None.
    DomainError clock_unusable when it is more than MAX_SKEW off."""
    skew = sent_at - received_at
    if abs(skew) > MAX_SKEW:
        raise DomainError("clock_unusable")
    return round(skew.total_seconds()) if abs(skew) > SKEW_LIMIT else None


def plausible_time(at: datetime, sent_at: datetime) -> bool:
    """Whether ``at`` can be the time of an operation of a batch sent at ``sent_at`` (device clock)."""
    return sent_at - MAX_AGE <= at <= sent_at + MAX_AHEAD


def effective_at(at: datetime, batch: Batch) -> datetime:
    """The device time on the server's clock: corrected by a flagged skew, and never after the
    batch arrived (a device clock a little ahead, under the limit)."""
    if batch.skew_seconds is not None:
        at -= timedelta(seconds=batch.skew_seconds)
    return min(at, batch.received_at)


def stored(event_id: int, client_id: str) -> DeskOperation | None:
    return db.session.scalar(select(DeskOperation).where(DeskOperation.event_id == event_id,
                                                         DeskOperation.client_id == client_id))


def apply(op: Operation, *, event: Event, batch: Batch) -> Applied:
    """Runs ``op`` once: a known client id answers from the stored operation."""
    operation_id = claim(op, batch)
    if operation_id is None:  # stored before, or by a request racing with the same operation
        return replay(stored(event.id, op.client_id))
    at = effective_at(op.at, batch)
    try:
        if op.kind == WALK_IN:
            with db.session.begin_nested():  # a refusal gives back the seat taken, and keeps the claim
                applied = _run(op, event=event, batch=batch, operation_id=operation_id, at=at)
        else:  # the others refuse before they change anything
            applied = _run(op, event=event, batch=batch, operation_id=operation_id, at=at)
    except walk_ins.DuplicateWalkIn as exc:
        applied = Applied(exc.code, exc.existing)
    except DomainError as exc:
        applied = Applied(exc.code, None)
    db.session.flush()  # a conflict or task made above gets its id
    db.session.execute(_RESULT, {"oid": operation_id, "result": applied.result,
                                 "rid": applied.registration.id if applied.registration is not None else None})
    return applied


def claim(op: Operation, batch: Batch) -> int | None:
    """Stores the operation before it runs; None when its (event, client id) is stored already.
    INSERT … ON CONFLICT DO NOTHING on the unique constraint: a request racing with the same
    operation waits for the first one's commit and then inserts nothing (no savepoint to recover)."""
    values = dict(
        event_id=batch.event_id, client_id=op.client_id, kind=op.kind, desk=batch.desk, device=batch.device,
        device_seq=op.seq, device_at=op.at, received_at=batch.received_at, clock_skew_seconds=batch.skew_seconds,
        user_id=batch.user_id, result=_PENDING,
    )
    return db.session.scalar(_claim_statement(db.session.get_bind().dialect.name), values)


@lru_cache(maxsize=2)
def _claim_statement(dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(DeskOperation.__table__).on_conflict_do_nothing(index_elements=["event_id", "client_id"])
            .returning(DeskOperation.__table__.c.id))


def _run(op: Operation, *, event: Event, batch: Batch, operation_id: int, at: datetime) -> Applied:
    who = {"event": event, "desk": batch.desk, "user_id": batch.user_id, "now": at}
    if op.kind == UNDO:
        return Applied(ScanResult.undone.value, checkin.undo(op.registration_id, **who))
    if op.kind == WALK_IN:
        return _walk_in(op, event=event, batch=batch, at=at)
    if op.kind == SCAN:
        outcome = checkin.scan(op.payload, session_id=op.session_id, method=op.method, apart=op.admitted, **who)
    else:
        outcome = checkin.check_in_by_id(op.registration_id, session_id=op.session_id, method=ScanMethod.search,
                                         apart=op.admitted, **who)
    applied = Applied(outcome.result.value, outcome.registration, session=outcome.session,
                      list_sent=outcome.list_sent)
    if outcome.admissions is not None:
        a = outcome.admissions
        applied.conflict = CheckinConflict(
            event_id=event.id, registration_id=outcome.registration.id, kept_at=a.kept_at, kept_desk=a.kept_desk,
            other_at=a.other_at, other_desk=a.other_desk, operation_id=operation_id, recorded_at=batch.received_at)
        db.session.add(applied.conflict)
    return applied


def _walk_in(op: Operation, *, event: Event, batch: Batch, at: datetime) -> Applied:
    session = db.session.get(EventSession, op.session_id)
    if session is None or session.event_id != event.id:
        raise DomainError("event_changed")
    done = walk_ins.walk_in_apart(session, op.applicant, desk=batch.desk, user_id=batch.user_id, now=at,
                                  confirm=op.confirm)
    applied = Applied(WALK_IN_OVERFLOW if done.overflow else ScanResult.walk_in.value, done.registration)
    if done.overflow:  # the capacity changed: the event's history says so, with the task
        db.session.refresh(session, ["capacity"])
        actor = db.session.get(StaffUser, batch.user_id) if batch.user_id is not None else None
        audit.record(event.id, CAPACITY_RAISED, actor=actor, now=batch.received_at, registration_id=done.registration.id,
                     changed={"session_id": [session.id, session.id], "capacity": [session.capacity - 1, session.capacity]})
    kinds = ([SEAT_OVERFLOW] if done.overflow else []) + ([WALK_IN_DUPLICATE] if done.duplicate_of else [])
    for kind in kinds:
        task = DeskTask(event_id=event.id, session_id=session.id, registration_id=done.registration.id, kind=kind,
                        desk=batch.desk, created_at=batch.received_at)
        db.session.add(task)
        applied.tasks.append(task)
    return applied


def replay(operation: DeskOperation) -> Applied:
    """The answer of an operation stored before, from what was stored."""
    conflict = db.session.scalar(select(CheckinConflict).where(CheckinConflict.operation_id == operation.id))
    tasks = []
    if operation.kind == WALK_IN and operation.registration_id is not None and operation.result != WALK_IN_DUPLICATE:
        tasks = list(db.session.scalars(select(DeskTask).where(DeskTask.registration_id == operation.registration_id)
                                        .order_by(DeskTask.id)))
    return Applied(operation.result, operation.registration, conflict, tasks, replayed=True)
