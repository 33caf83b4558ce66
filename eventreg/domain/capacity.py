"""Seat counting. The database guards the seats: a conditional update, then the row count."""

from __future__ import annotations

from sqlalchemy import update

from ..extensions import db
from ..models import EventSession


def take_seat(session_id: int) -> bool:
    """Takes one seat if one is left. Safe under any number of concurrent callers."""
    result = db.session.execute(
        update(EventSession)
        .where(EventSession.id == session_id, EventSession.seats_taken < EventSession.capacity)
        .values(seats_taken=EventSession.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_seat(session_id: int) -> None:
    db.session.execute(
        update(EventSession)
        .where(EventSession.id == session_id, EventSession.seats_taken > 0)
        .values(seats_taken=EventSession.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )
