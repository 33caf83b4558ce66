"""The check-in rule for desks that could not see each other (checkin.check_in with ``apart``):
the earliest admission is the check-in, the other one is reported, nothing counts twice."""

from datetime import datetime, timedelta, timezone

import pytest

from eventreg.domain.insight.counts import of_event
from eventreg.domain.reception import checkin
from eventreg.domain.registration import capacity
from eventreg.extensions import db
from eventreg.models import EventSession, ScanResult

from .. import factories

T = datetime(2030, 2, 8, 4, 42, 5, tzinfo=timezone.utc)  # 13:42:05 JST


def admit(registration, desk, at, apart=True):
    outcome = checkin.check_in(registration, session_id=None, desk=desk, now=at, apart=apart)
    db.session.commit()
    return outcome


@pytest.mark.parametrize(("first", "second", "kept", "other"), [
    (("受付1", T), ("受付2", T + timedelta(seconds=65)), ("受付1", T), ("受付2", T + timedelta(seconds=65))),
    (("受付2", T + timedelta(seconds=65)), ("受付1", T), ("受付1", T), ("受付2", T + timedelta(seconds=65))),
    (("受付1", T), ("受付2", T), ("受付1", T), ("受付2", T)),  # the same second: the stored one stays
])
def test_the_earliest_admission_counts(make_event, first, second, kept, other):
    event = make_event()
    person = factories.register_person(event)
    assert admit(person, *first).result == ScanResult.ok
    outcome = admit(person, *second)
    assert outcome.result == ScanResult.conflict
    a = outcome.admissions
    assert ((a.kept_desk, a.kept_at), (a.other_desk, a.other_at)) == (kept, other)
    db.session.refresh(person)
    assert (person.checked_in_desk, person.checked_in_at) == kept
    assert of_event(event.id, now=T)["checked_in"] == 1


def test_the_same_desk_and_online_desks_are_no_conflict(make_event):
    event = make_event()
    person = factories.register_person(event)
    admit(person, "受付1", T)
    assert admit(person, "受付1", T - timedelta(minutes=1)).result == ScanResult.already_checked_in
    assert admit(person, "受付2", T - timedelta(minutes=1), apart=False).result == ScanResult.already_checked_in
    db.session.refresh(person)
    assert (person.checked_in_desk, person.checked_in_at) == ("受付1", T)


def test_a_move_refused_when_the_row_changed_since_it_was_read(make_event):
    event = make_event()
    person = factories.register_person(event)
    admit(person, "受付1", T)
    assert not checkin.move_check_in(person.id, seen_at=T + timedelta(seconds=1), seen_desk="受付1",
                                     at=T - timedelta(minutes=1), desk="受付2")
    assert not checkin.move_check_in(person.id, seen_at=T, seen_desk="受付3", at=T - timedelta(minutes=1), desk="受付2")
    assert checkin.move_check_in(person.id, seen_at=T, seen_desk="受付1", at=T - timedelta(minutes=1), desk="受付2")


def test_a_seat_over_capacity_raises_the_capacity_only_when_full(make_event):
    event = make_event(capacity=1)
    session_id = event.sessions[0].id
    assert capacity.take_seat_over_capacity(session_id) is False  # a seat was free
    assert capacity.take_seat_over_capacity(session_id) is True
    db.session.commit()
    session = db.session.get(EventSession, session_id)
    assert (session.seats_taken, session.capacity) == (2, 2)
