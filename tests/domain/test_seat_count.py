"""The tick checks seats_taken against the registrations holding a seat and repairs a drift
(domain.registration.seat_count, a sweep of domain.timing.periodic.SWEEPS)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from eventreg import clock, worker
from eventreg.domain.registration import seat_count
from eventreg.extensions import db
from eventreg.models import AuditEntry, EventSession, Registration, Status

from .. import factories


def set_seats(session_id: int, **values) -> None:
    """A drift made by hand, behind every guard (a bug, or an edit in the database)."""
    db.session.execute(update(EventSession).where(EventSession.id == session_id).values(**values))
    db.session.commit()


def session_row(session_id: int) -> EventSession:
    db.session.rollback()
    return db.session.get(EventSession, session_id)


def recounts(event_id: int) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(
        AuditEntry.event_id == event_id, AuditEntry.action == seat_count.RECOUNTED)).all()


def test_the_tick_repairs_a_drifted_counter_and_leaves_a_correct_one(app, make_event, caplog):
    drifted, correct = make_event(capacity=5), make_event(capacity=5)
    for event in (drifted, correct):
        factories.register_person(event)
        factories.register_person(event)
    db.session.commit()
    lost, fine = drifted.sessions[0].id, correct.sessions[0].id
    set_seats(lost, seats_taken=4)  # two seats taken by nobody
    assert seat_count.drifted(clock.utcnow()) == [lost]
    db.session.rollback()

    with caplog.at_level(logging.WARNING, logger=seat_count.__name__):
        outcomes = worker.tick(app, now=clock.utcnow())
    assert outcomes[seat_count.RECOUNTED] == 1
    assert session_row(lost).seats_taken == 2 and session_row(fine).seats_taken == 2
    [entry] = recounts(drifted.id)
    assert entry.changes == {"session_id": [lost, lost], "seats_taken": [4, 2]} and entry.actor_id is None
    assert recounts(correct.id) == []
    assert f"session #{lost}: seats_taken was 4, 2 registrations hold a seat" in caplog.text
    assert worker.tick(app, now=clock.utcnow())[seat_count.RECOUNTED] == 0  # repaired once


def test_people_holding_more_seats_than_the_capacity_keep_them(app, make_event):
    """A counter too low let more people in than the capacity: the seats are theirs, and the
    counter may never pass the capacity (a check constraint), so the capacity is raised to them."""
    event = make_event(capacity=2)
    people = [factories.register_person(event) for _ in range(2)]
    session_id = event.sessions[0].id
    # A third confirmed person the counter never counted (the counter says one seat is free).
    extra = factories.register_person(event)
    db.session.execute(update(Registration).where(Registration.id == extra.id).values(status=Status.confirmed))
    set_seats(session_id, seats_taken=1)
    assert [p.status for p in people] == [Status.confirmed] * 2
    assert worker.tick(app, now=clock.utcnow())[seat_count.RECOUNTED] == 1
    row = session_row(session_id)
    assert (row.seats_taken, row.capacity) == (3, 3)
    [entry] = recounts(event.id)
    assert entry.changes["capacity"] == [2, 3]


def test_a_session_that_is_over_is_not_looked_at(make_event):
    event = make_event()
    factories.register_person(event)
    session = event.sessions[0]
    set_seats(session.id, seats_taken=3)
    assert seat_count.drifted(session_row(session.id).ends_at + timedelta(seconds=1)) == []
