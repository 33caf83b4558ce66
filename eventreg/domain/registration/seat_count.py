"""The seat counter checked against the registrations, on every tick.

A session's ``seats_taken`` must equal the number of its registrations that hold a seat
(``SEATED``: confirmed, or held until the email is confirmed). Every path keeps the two equal
with guarded UPDATEs in one transaction; a drift means a bug or a hand edit of the database, and
nothing else would ever recount it: a seat nobody holds stays taken for good (or one is given
twice). The tick's sweep (domain.timing.periodic.SWEEPS) finds sessions not yet over whose
counter drifted (``drifted``), and ``repair`` sets the counter to the count, logs it and writes
an audit entry.

``repair`` locks the session's row first (PostgreSQL; SQLite's write lock serialises the tick
already): every seat change updates that row, so no sign-up, cancel or promotion is half done
while it counts, and its UPDATE is conditional on the counter it read.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select, update

from eventreg.domain.backoffice import audit
from eventreg.extensions import db
from eventreg.models import EventSession, Registration
from eventreg.models.registration import SEATED

log = logging.getLogger(__name__)

RECOUNTED = "seats_recounted"  # the audit action and the sweep's outcome


def _holding(session_id):
    return (select(func.count()).select_from(Registration)
            .where(Registration.session_id == session_id, Registration.status.in_(SEATED)))


def drifted(now: datetime, *, limit: int = 100) -> list[int]:
    """Ids of sessions not yet over whose seats_taken differs from the registrations holding a
    seat (one query; the count runs on the (session_id, status, id) index)."""
    s = EventSession
    return list(db.session.scalars(
        select(s.id).where(s.ends_at > now, s.seats_taken != _holding(s.id).scalar_subquery())
        .order_by(s.id).limit(limit)))


def repair(session_id: int, now: datetime) -> bool:
    """Sets the session's seats_taken to the registrations holding a seat; True when it drifted.
    More people holding a seat than the capacity (an overbooking left by the drift) raises the
    capacity to them: the seats are theirs, and the counter may never pass the capacity."""
    s = EventSession
    row = db.session.execute(
        select(s.seats_taken, s.capacity, s.event_id).where(s.id == session_id).with_for_update()).first()
    if row is None:
        return False
    counted = db.session.scalar(_holding(session_id))
    if counted == row.seats_taken:
        return False
    changed = {"session_id": [session_id, session_id], "seats_taken": [row.seats_taken, counted]}
    values = {"seats_taken": counted}
    if counted > row.capacity:
        values["capacity"] = counted
        changed["capacity"] = [row.capacity, counted]
    result = db.session.execute(
        update(s).where(s.id == session_id, s.seats_taken == row.seats_taken).values(**values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    log.warning("session #%d: seats_taken was %d, %d registrations hold a seat; recounted",
                session_id, row.seats_taken, counted)
    audit.record(row.event_id, RECOUNTED, actor=None, now=now, changed=changed)
    db.session.flush()
    return True
