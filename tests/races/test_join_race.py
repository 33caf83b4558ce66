"""Two first openings of one join link at once: one online check-in, and the guard is what does it.

Real GETs of /j/<key> through the threaded server, released together (tests/races/edge.py). The
online check-in is the desk's conditional UPDATE (``… WHERE checked_in_at IS NULL``); replaced by the
naive read-check-write of test_guards_matter, PostgreSQL lets the person "arrive" more than once
(several ``ok`` rows in the check-in log), while SQLite's write intent (the join route takes the
write lock up front) still serialises the openings.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from eventreg import clock
from eventreg.domain.backoffice import hybrid
from eventreg.domain.reception import checkin
from eventreg.domain.registration import join_links
from eventreg.extensions import db
from eventreg.models import Registration, Scan, ScanResult

from ..domain.test_join_links import hybrid_event, register
from .edge import at_once, client
from .test_guards_matter import naive_check_in

OPENINGS = 8


@pytest.fixture
def inside_the_window():
    def at(session):
        clock.set_setting((session.doors_at + timedelta(minutes=5)).isoformat())

    yield at
    clock.set_setting("")


def open_link(base_url: str, path: str):
    def job():
        with client(base_url) as http:
            answer = http.get(path)
        return answer.status_code

    return job


def race(http_server, make_event, inside_the_window):
    event = hybrid_event(make_event)
    person = register(hybrid.twin_of(event.sessions[0]))
    inside_the_window(person.session)
    path = "/j/" + join_links.key(person, current_app.config["SECRET_KEY"])
    db.session.commit()
    statuses = at_once([open_link(http_server, path) for _ in range(OPENINGS)])
    db.session.rollback()
    results = db.session.scalars(select(Scan.result).where(Scan.registration_id == person.id)).all()
    return person, statuses, results


def test_first_openings_at_once_check_in_once(http_server, make_event, inside_the_window):
    person, statuses, results = race(http_server, make_event, inside_the_window)
    assert statuses == [303] * OPENINGS  # everyone is let into the meeting …
    assert sorted(results) == sorted([ScanResult.ok] + [ScanResult.already_checked_in] * (OPENINGS - 1))
    came = db.session.get(Registration, person.id)
    assert came.checked_in_desk == "online" and came.checked_in_at is not None  # … and arrives once


def test_without_the_guard(http_server, make_event, inside_the_window, monkeypatch, dialect):
    monkeypatch.setattr(checkin, "check_in", naive_check_in(checkin.check_in))
    person, statuses, results = race(http_server, make_event, inside_the_window)
    assert set(statuses) == {303}
    if dialect == "postgresql":
        assert results.count(ScanResult.ok) > 1  # one person checked in several times
    else:
        assert results.count(ScanResult.ok) == 1  # the write lock taken up front serialised them
