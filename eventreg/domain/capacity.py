"""Seat counting. The database guards the seats: a conditional update, then the row count.

The statements are Core and built once: they run on every registration.
"""

from __future__ import annotations

from sqlalchemy import bindparam, update

from ..extensions import db
from ..models import EventSession

_seats = EventSession.__table__.c
_TAKE = (
    update(EventSession.__table__)
    .where(_seats.id == bindparam("sid"), _seats.seats_taken < _seats.capacity)
    .values(seats_taken=_seats.seats_taken + 1)
)
_RELEASE = (
    update(EventSession.__table__)
    .where(_seats.id == bindparam("sid"), _seats.seats_taken > 0)
    .values(seats_taken=_seats.seats_taken - 1)
)


def take_seat(session_id: int) -> bool:
    """Takes one seat if one is left. Safe under any number of concurrent callers."""
    return db.session.execute(_TAKE, {"sid": session_id}).rowcount == 1


def release_seat(session_id: int) -> None:
    db.session.execute(_RELEASE, {"sid": session_id})
