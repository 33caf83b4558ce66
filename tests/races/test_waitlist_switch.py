"""Waiting people switching to another session at once, through the HTTP edge: the free seats
are the seat UPDATE's, so 8 people racing for 3 seats get exactly 3."""

from __future__ import annotations

from sqlalchemy import func, select

from eventreg import clock
from eventreg.domain.registration.signup import register
from eventreg.extensions import db
from eventreg.models import EventSession, Registration, Status

from .. import factories
from .edge import at_once, client, csrf_from

WAITING = 8
SEATS = 3


def test_switches_never_overbook(http_server, make_event):
    spec = factories.event_spec_dict()
    first = spec["sessions"][0]
    later = dict(first, date=factories.in_days(21).date().isoformat())
    event = make_event(sessions=[dict(first, title="第1回", capacity=1), dict(later, title="第2回", capacity=SEATS)])
    one, two = sorted(event.sessions, key=lambda s: s.starts_at)
    one_id, two_id = one.id, two.id
    now = clock.utcnow()
    tokens = [register(one, factories.applicant(), now=now).token for _ in range(WAITING + 1)]
    db.session.commit()  # and hold no transaction while the server writes (SQLite's write lock)

    def switcher(token):
        http = client(http_server)
        page = http.get(f"/r/{token}")
        csrf = csrf_from(page.text)
        return lambda: http.post(f"/r/{token}/switch", data={"csrf_token": csrf, "session_id": two_id}).status_code

    jobs = [switcher(token) for token in tokens[1:]]
    db.session.rollback()
    results = at_once(jobs)
    assert all(r == 302 for r in results), results
    db.session.expire_all()
    moved = db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.session_id == two_id, Registration.status == Status.confirmed))
    assert moved == SEATS
    assert db.session.get(EventSession, two_id).seats_taken == SEATS
    still_waiting = db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.session_id == one_id, Registration.status == Status.waitlisted))
    assert still_waiting == WAITING - SEATS
