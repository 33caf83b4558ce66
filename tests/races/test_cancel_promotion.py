"""A waiting person's cancel racing the cancellation that promotes them, through the HTTP edge.

Capacity 1: A confirmed, B waiting. B's cancel request loads B (waiting) and is held right after
that read (at the deadline check, the next thing ``cancel`` does); A's cancel request runs
meanwhile: it frees the seat and promotes B. Then B's request goes on.

- PostgreSQL runs the two side by side: A's commits first, so B's request decides from a stale
  row. The guarded cancel (``… WHERE status = 'waitlisted' AND session_id … AND entry_version …``)
  changes nothing, reads B again (confirmed now), cancels that and releases the seat. Without
  the guard (``… WHERE status <> 'cancelled'``, as before) B is cancelled as if still waiting: the
  seat is never released (seats_taken 1, nobody confirmed) and nothing would ever recount it.
- SQLite: B's request holds the write lock from its first read (the write intent of every POST),
  so A's request waits for it and the two cannot interleave, with the guard or without it.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from eventreg import clock
from eventreg.domain.registration import signup
from eventreg.domain.timing import deadlines
from eventreg.extensions import db
from eventreg.models import EventSession, MailKind, OutboxMessage, Registration, Status

from .. import factories
from .edge import cancel_path, client, csrf_from, interleaved


def cancel_request(base_url: str, registration):
    """The attendee's cancel page is open; the returned function presses the button."""
    http = client(base_url)
    path = cancel_path(registration)
    token = csrf_from(http.get(path).text)

    def press() -> int:
        try:
            return http.post(path, data={"csrf_token": token}).status_code
        finally:
            http.close()

    return press


def cancel_while_promoted(base_url: str, monkeypatch, a: Registration, b: Registration) -> tuple:
    """B's cancel, held after its read (at the deadline check) while A's cancel runs; the two
    HTTP statuses, B's first."""
    press_a, press_b = cancel_request(base_url, a), cancel_request(base_url, b)
    db.session.commit()  # hold no read while the server writes (SQLite)
    return interleaved(monkeypatch, deadlines, "check_cancellable", press_b, press_a)


def seats(session_id: int) -> tuple[int, int]:
    """(seats_taken, registrations holding a seat) of the session, read fresh."""
    db.session.rollback()
    taken = db.session.scalar(select(EventSession.seats_taken).where(EventSession.id == session_id))
    holding = db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.session_id == session_id, Registration.status.in_([Status.confirmed, Status.held])))
    return taken, holding


def setup(make_event):
    event = make_event(capacity=1)
    now = clock.utcnow()
    a = signup.register(event.sessions[0], factories.applicant(), now=now).registration
    b = signup.register(event.sessions[0], factories.applicant(), now=now).registration
    db.session.commit()
    assert (a.status, b.status) == (Status.confirmed, Status.waitlisted)
    return event.sessions[0].id, a, b


def promoted_mails(registration_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.registration_id == registration_id, OutboxMessage.kind == MailKind.promoted))


def test_a_cancel_decided_on_a_stale_row_decides_again(http_server, make_event, monkeypatch, dialect):
    session_id, a, b = setup(make_event)
    a_id, b_id = a.id, b.id
    assert cancel_while_promoted(http_server, monkeypatch, a, b) == (302, 302)
    assert seats(session_id) == (0, 0)
    assert {db.session.get(Registration, i).status for i in (a_id, b_id)} == {Status.cancelled}
    # PostgreSQL: B was promoted between B's read and B's cancel (the race happened);
    # SQLite: B's write lock kept A out, B left the waiting list before A cancelled.
    assert promoted_mails(b_id) == (1 if dialect == "postgresql" else 0)


def unguarded_withdraw(registration: Registration, now) -> bool:
    """The cancel as it was: the status read from the object, the UPDATE checks only 'not cancelled'."""
    r = Registration
    return db.session.execute(
        update(r).where(r.id == registration.id, r.status != Status.cancelled)
        .values(status=Status.cancelled, cancelled_at=now, entry_version=r.entry_version + 1, hold_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def test_without_the_guard_the_seat_is_lost_on_postgresql(http_server, make_event, monkeypatch, dialect):
    monkeypatch.setattr(signup, "_withdraw", unguarded_withdraw)
    session_id, a, b = setup(make_event)
    assert cancel_while_promoted(http_server, monkeypatch, a, b) == (302, 302)
    if dialect == "postgresql":
        assert seats(session_id) == (1, 0)  # a seat taken by nobody, for good
    else:
        assert seats(session_id) == (0, 0)  # the write lock serialised the two requests
