"""The seat UPDATE checks capacity and the window together; a refusal is decided by one fresh
query, never by the Python objects the caller holds (finding 1)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from eventreg.domain.errors import DomainError
from eventreg.domain.reception import walk_ins
from eventreg.domain.registration import capacity, signup
from eventreg.domain.registration.capacity import NoSeat
from eventreg.domain.registration.signup import Result
from eventreg.extensions import db
from eventreg.models import Event, EventSession, Status

from .. import factories

NOW = datetime.now(timezone.utc)


def change_session(session_id, **values):
    db.session.execute(update(EventSession).where(EventSession.id == session_id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def test_the_window_on_the_row_decides_not_the_object_in_hand(make_event):
    event = make_event()
    session = event.sessions[0]
    change_session(session.id, closes_at=NOW - timedelta(seconds=1))  # the object still says open
    with pytest.raises(DomainError, match="registration_closed"):
        signup.register(session, factories.applicant(), now=NOW)
    db.session.rollback()
    change_session(session.id, closes_at=NOW + timedelta(days=1), opens_at=NOW + timedelta(hours=1))
    with pytest.raises(DomainError, match="registration_not_open"):
        signup.register(session, factories.applicant(), now=NOW)
    db.session.rollback()
    change_session(session.id, opens_at=NOW)  # the opening instant itself is open
    assert signup.register(session, factories.applicant(), now=NOW).result == Result.confirmed


@pytest.mark.parametrize(("offset", "expected"), [(timedelta(seconds=-1), Result.confirmed), (timedelta(0), None)])
def test_the_deadline_instant_is_closed(make_event, offset, expected):
    event = make_event()
    session = event.sessions[0]
    change_session(session.id, closes_at=NOW)
    if expected is None:
        with pytest.raises(DomainError, match="registration_closed"):
            signup.register(session, factories.applicant(), now=NOW + offset)
    else:
        assert signup.register(session, factories.applicant(), now=NOW + offset).result == expected


def test_the_waiting_list_is_refused_after_the_deadline_and_when_switched_off(make_event):
    event = make_event(capacity=1)
    session = event.sessions[0]
    factories.register_person(event)
    assert signup.register(session, factories.applicant(), now=NOW).result == Result.waitlisted
    db.session.commit()
    change_session(session.id, closes_at=NOW - timedelta(minutes=1))
    with pytest.raises(DomainError, match="registration_closed"):
        signup.register(session, factories.applicant(), now=NOW)
    db.session.rollback()
    change_session(session.id, closes_at=NOW + timedelta(days=1))
    db.session.execute(update(Event).where(Event.id == event.id).values(waitlist_enabled=False))
    db.session.commit()
    with pytest.raises(DomainError, match="session_full"):
        signup.register(session, factories.applicant(), now=NOW)


def test_why_no_seat(make_event):
    event = make_event(capacity=0)
    sid = event.sessions[0].id
    assert capacity.why_no_seat(sid, event.id, NOW) == NoSeat.waitlisted
    assert capacity.why_no_seat(sid, event.id, NOW + timedelta(days=30)) == NoSeat.closed
    assert capacity.why_no_seat(10**9, event.id, NOW) == NoSeat.gone
    # Another event's session is none of this event's: the sign-up POST names it unchecked.
    other = make_event(capacity=5)
    assert capacity.why_no_seat(other.sessions[0].id, event.id, NOW) == NoSeat.gone
    assert capacity.take_seat(other.sessions[0].id, event.id, NOW) is None


def test_a_walk_in_has_no_deadline_but_the_database_counts_seats(make_event):
    event = make_event(capacity=1)
    session = event.sessions[0]
    change_session(session.id, closes_at=NOW - timedelta(days=1))
    walked = walk_ins.walk_in(session, factories.applicant(), desk="d", user_id=None, now=NOW)
    db.session.commit()
    assert walked.status == Status.confirmed
    with pytest.raises(DomainError, match="session_full"):
        walk_ins.walk_in(session, factories.applicant(), desk="d", user_id=None, now=NOW)


def test_outcomes_are_an_enum():
    assert {r.value for r in Result} == {"confirmed", "held", "waitlisted", "duplicate", "repeated"}
