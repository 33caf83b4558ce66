"""Staff members giving away the last seat at the same moment, through the back office's HTTP edge:
some promote waiting people, others add people by hand. One of them gets the seat; the others
are refused cleanly (a message, no 500), and the session is never overbooked."""

from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import AuditEntry, EventSession, Registration, Status

from .. import factories
from .edge import Staff, at_once

PROMOTERS = 6
ADDERS = 6


def test_promoting_and_adding_into_the_last_seat_at_once_never_overbooks(http_server, make_event):
    event = make_event(capacity=2, questions=[])
    session_id = event.sessions[0].id
    factories.register_person(event)
    factories.register_person(event)
    waiting = [factories.register_person(event) for _ in range(PROMOTERS)]
    assert all(r.status == Status.waitlisted for r in waiting)
    # Exactly one free seat and nobody promoted into it yet (a capacity raised behind the domain's back).
    db.session.execute(EventSession.__table__.update().where(EventSession.id == session_id).values(capacity=3))
    db.session.commit()
    editors = [factories.make_staff("editor", [event]) for _ in range(2)]
    base = f"/admin/events/{event.id}/registrations"
    jobs = []
    for i, reg in enumerate(waiting):
        staff = Staff(http_server, editors[i % 2], f"{base}/{reg.id}")
        jobs.append(staff.post(f"{base}/{reg.id}/promote", {}))
    for i in range(ADDERS):
        staff = Staff(http_server, editors[i % 2], f"{base}/new")
        jobs.append(staff.post(f"{base}/new", {
            "session_id": str(session_id), "family_name": "佐藤", "given_name": "一郎", "family_kana": "サトウ",
            "given_kana": "イチロウ", "email": f"hand{i}@example.org", "sector": "company", "send_confirmation": "y"}))
    db.session.commit()  # end this thread's read: the server's writers need the (SQLite) lock
    statuses = at_once(jobs)
    db.session.rollback()
    # Promotions answer with the page (a flash says which); a refused addition re-shows the form.
    assert sorted(statuses[:PROMOTERS]) == [303] * PROMOTERS, statuses
    assert all(s in (303, 400) for s in statuses[PROMOTERS:]), statuses
    confirmed = db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == event.id, Registration.status == Status.confirmed))
    assert confirmed == 3
    assert db.session.scalar(select(EventSession.seats_taken).where(EventSession.id == session_id)) == 3
    winners = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.event_id == event.id, AuditEntry.action.in_(["promoted", "registration_added"])))
    assert winners == 1
