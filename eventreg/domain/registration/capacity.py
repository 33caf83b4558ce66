"""Seat counting. The database guards the seats: a conditional update, then the row count.

A registration's seat UPDATE checks capacity and the session's registration window together
(``opens_at``/``closes_at``, resolved on the session row by domain.timing.deadlines), so no rule is
read from a copy of the event. When it takes no seat, ``why_no_seat`` asks the database once
why. The statements are Core and built once: they run on every registration.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, exists, or_, select, update

from eventreg.domain.errors import DomainError
from eventreg.domain.timing import deadlines
from eventreg.domain.timing.deadlines import DeadlineState
from eventreg.extensions import db
from eventreg.models import AttendanceMode, Event, EventSession, EventStatus

_seats = EventSession.__table__.c
_now = bindparam("now", type_=_seats.closes_at.type)
_events = Event.__table__.c
# Sign-up is open only while the event is published: a draft or closed event takes nobody,
# whatever its window says (staff paths such as walk-ins and promotions use _TAKE_ANY_TIME).
_PUBLISHED = exists().where(_events.id == _seats.event_id, _events.status == EventStatus.published.value)
_IN_WINDOW = (or_(_seats.opens_at.is_(None), _seats.opens_at <= _now), _seats.closes_at > _now, _PUBLISHED)

def _event_setting(column):
    return select(column).where(_events.id == _seats.event_id).scalar_subquery()


# RETURNING the event's email-confirmation settings: the sign-up reads them with its seat, in the
# same round trip (domain.registration.holds.hold_length).
# The session must belong to the event the caller names: the sign-up POST takes the session id
# from the form without reading the event's sessions first.
def _take_statement(*seat_left):
    return (
        update(EventSession.__table__)
        .where(_seats.id == bindparam("sid"), _seats.event_id == bindparam("eid"), *seat_left, *_IN_WINDOW)
        .values(seats_taken=_seats.seats_taken + 1)
        .returning(_event_setting(_events.confirm_email).label("confirm_email"),
                   _event_setting(_events.hold_minutes).label("hold_minutes"))
    )


SEAT_LEFT = _seats.seats_taken < _seats.capacity  # the guard (tests/races/test_guards_matter.py takes it away)
# On PostgreSQL the sign-up runs TAKE as the first step of one statement
# (domain.registration.signup_statement).
TAKE = _take_statement(SEAT_LEFT)
_TAKE_ANY_TIME = (
    update(EventSession.__table__)
    .where(_seats.id == bindparam("sid"), _seats.seats_taken < _seats.capacity)
    .values(seats_taken=_seats.seats_taken + 1)
)
# A walk-in an offline desk let in when no seat was left: the seat is theirs (they are in the
# room), so the capacity grows with the counter, only while the session is still full.
_TAKE_OVER_CAPACITY = (
    update(EventSession.__table__)
    .where(_seats.id == bindparam("sid"), _seats.seats_taken >= _seats.capacity)
    .values(seats_taken=_seats.seats_taken + 1, capacity=_seats.seats_taken + 1)
)
_RELEASE = (
    update(EventSession.__table__)
    .where(_seats.id == bindparam("sid"), _seats.seats_taken > 0)
    .values(seats_taken=_seats.seats_taken - 1)
)
_WHY = (
    select(_seats.opens_at, _seats.closes_at, _seats.seats_taken, _seats.capacity,
           Event.__table__.c.waitlist_enabled, Event.__table__.c.status)
    .join_from(EventSession.__table__, Event.__table__, Event.__table__.c.id == _seats.event_id)
    .where(_seats.id == bindparam("sid"), _seats.event_id == bindparam("eid"))
)


NEARLY_FULL_SHARE_PERCENT = 10  # a session with at most 10 % of its seats left is "nearly full"


class NoSeat(str, enum.Enum):
    """Why a registration took no seat (the codes are DomainError codes, except waitlisted)."""

    not_open = "registration_not_open"
    closed = "registration_closed"
    full = "session_full"  # and the waiting list is off
    waitlisted = "waitlisted"  # full, the waiting list is on, the window is open
    gone = "event_changed"  # the session no longer exists


def take_seat(session_id: int, event_id: int, now: datetime) -> Row | None:
    """Takes one seat if one is left, registration is open at ``now`` and the session is one of
    ``event_id``'s. Safe under any number of concurrent callers. The taken seat comes with the event's ``confirm_email`` and
    ``hold_minutes`` as they are now; None: no seat was taken."""
    return db.session.execute(TAKE, {"sid": session_id, "eid": event_id, "now": now}).first()


def take_seat_any_time(session_id: int) -> bool:
    """Takes one seat if one is left, whatever the registration window (walk-ins at the desk,
    promotions from the waiting list)."""
    return db.session.execute(_TAKE_ANY_TIME, {"sid": session_id}).rowcount == 1


def take_seat_over_capacity(session_id: int) -> bool:
    """Takes a seat whether one is left or not: one more than the capacity raises the capacity
    (the caller makes the overbooking visible). True when the session was full."""
    for _attempt in range(5):  # full (raise) or not (take): one of the two matches unless seats move meanwhile
        if take_seat_any_time(session_id):
            return False
        if db.session.execute(_TAKE_OVER_CAPACITY, {"sid": session_id}).rowcount == 1:
            return True
    raise DomainError("event_changed")  # no such session any more


def release_seat(session_id: int) -> None:
    db.session.execute(_RELEASE, {"sid": session_id})


def why_no_seat(session_id: int, event_id: int, now: datetime) -> NoSeat:
    """After ``take_seat`` failed: one fresh query of the session's window and the event's
    waiting-list switch decides (``gone``: no such session in ``event_id``)."""
    row = db.session.execute(_WHY, {"sid": session_id, "eid": event_id}).first()
    if row is None:
        return NoSeat.gone
    state = window(row.opens_at, row.closes_at, row.status, now)
    if state == DeadlineState.not_open:
        return NoSeat.not_open
    if state == DeadlineState.closed:
        return NoSeat.closed
    return NoSeat.waitlisted if row.waitlist_enabled else NoSeat.full


def window(opens_at: datetime | None, closes_at: datetime, status, now: datetime) -> DeadlineState:
    """The window's state, closed whenever the event is not published (a draft, or closed)."""
    if EventStatus(status) != EventStatus.published:
        return DeadlineState.closed
    return deadlines.window_state(opens_at, closes_at, now)


@dataclass(frozen=True)
class Availability:
    """One session as the event page shows it, read from the database on each request."""

    id: int
    event_id: int
    title: str
    doors_at: datetime
    starts_at: datetime
    ends_at: datetime
    capacity: int
    seats_taken: int
    opens_at: datetime | None
    closes_at: datetime
    waitlist_enabled: bool
    event_status: EventStatus  # read with the seats: the page never takes it from a cache
    state: DeadlineState
    # Hybrid dates (domain.backoffice.hybrid): the session's mode, and whether the page names it
    # (an online session, or an on-site one with an online twin: the choice is 会場 / オンライン).
    attendance_mode: AttendanceMode = AttendanceMode.onsite
    hybrid_of_id: int | None = None
    shows_mode: bool = False

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def full(self) -> bool:
        return self.seats_left == 0

    @property
    def nearly_full(self) -> bool:
        """Seats left, but at most NEARLY_FULL_SHARE of the capacity (rounded up): 「残りわずか」."""
        return 0 < self.seats_left <= -(-self.capacity * NEARLY_FULL_SHARE_PERCENT // 100)


_AVAILABILITY = (
    select(_seats.id, _seats.event_id, _seats.title, _seats.doors_at, _seats.starts_at, _seats.ends_at, _seats.capacity,
           _seats.seats_taken, _seats.opens_at, _seats.closes_at, _seats.attendance_mode, _seats.hybrid_of_id,
           Event.__table__.c.waitlist_enabled,
           Event.__table__.c.status.label("event_status"))
    .join_from(EventSession.__table__, Event.__table__, Event.__table__.c.id == _seats.event_id)
    .where(_seats.event_id == bindparam("eid"))
    .order_by(_seats.starts_at, _seats.id)
)


def availability(event_id: int, now: datetime) -> list[Availability]:
    """The event's sessions with seats, window and waiting-list switch: one cheap query, never
    a cached copy."""
    rows = db.session.execute(_AVAILABILITY, {"eid": event_id}).all()
    twinned = {row.hybrid_of_id for row in rows if row.hybrid_of_id is not None}
    return [
        Availability(**{**row._mapping, "event_status": EventStatus(row.event_status),
                        "attendance_mode": AttendanceMode(row.attendance_mode)},
                     state=window(row.opens_at, row.closes_at, row.event_status, now),
                     shows_mode=row.attendance_mode == AttendanceMode.online or row.id in twinned)
        for row in rows
    ]
