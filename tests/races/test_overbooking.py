"""Many people press "register" at the same moment: the session is never overbooked.

Every attempt is a real HTTP request (a visitor who opened the event page, then posts the form),
served by a threaded server in this process, so the transaction, its write intent on SQLite and the
conditional seat update are exactly what production runs. test_guards_matter.py shows that these
races fail when a guard is taken away.
"""

from sqlalchemy import func, select

from eventreg import clock
from eventreg.domain.registration import signup
from eventreg.extensions import db
from eventreg.models import EventSession, MailKind, OutboxMessage, Registration, Status

from .. import factories
from .edge import SignUp, at_once, cancel_path, client, csrf_from, outcome

THREADS = 24


def sign_ups(base_url: str, event, emails: list[str]) -> list[SignUp]:
    """Visitors with the page open (cookie and CSRF token in hand), not yet submitted."""
    db.session.commit()  # end this thread's read: the server's writers need the (SQLite) lock
    return [SignUp(base_url, event.slug, event.sessions[0].id, email) for email in emails]


def race(base_url: str, event, emails: list[str], extra_jobs=()) -> list[str]:
    visitors = sign_ups(base_url, event, emails)
    results = at_once([v.submit for v in visitors] + list(extra_jobs))
    return [r if isinstance(r, str) else outcome(r) if hasattr(r, "status_code") else repr(r) for r in results]


def counts(event_id: int) -> dict:
    db.session.rollback()  # a fresh snapshot (SQLite keeps the old one until then)
    rows = db.session.execute(
        select(Registration.status, func.count()).where(Registration.event_id == event_id)
        .group_by(Registration.status)
    ).all()
    return {status.value: n for status, n in rows}


def seats_taken(session_id: int) -> int:
    return db.session.scalar(select(EventSession.seats_taken).where(EventSession.id == session_id))


def emails(n: int) -> list[str]:
    return [factories.applicant().email for _ in range(n)]


def test_no_overbooking_when_everyone_registers_at_once(http_server, make_event):
    event = make_event(capacity=5)
    results = race(http_server, event, emails(THREADS))
    assert results == ["registered"] * THREADS
    assert counts(event.id) == {"confirmed": 5, "waitlisted": THREADS - 5}
    assert seats_taken(event.sessions[0].id) == 5


def test_no_overbooking_without_a_waiting_list(http_server, make_event):
    event = make_event(capacity=3, waitlist=False)
    results = race(http_server, event, emails(THREADS))
    assert sorted(results) == sorted(["registered"] * 3 + ["session_full"] * (THREADS - 3))
    assert counts(event.id) == {"confirmed": 3}
    assert seats_taken(event.sessions[0].id) == 3


def test_the_same_email_at_once_takes_one_seat(http_server, make_event):
    event = make_event(capacity=10)
    results = race(http_server, event, ["twin@example.org"] * THREADS)
    assert sorted(results) == sorted(["registered"] + ["resent"] * (THREADS - 1))
    assert counts(event.id) == {"confirmed": 1}
    assert seats_taken(event.sessions[0].id) == 1


def test_a_cancellation_racing_new_sign_ups_never_overbooks(http_server, make_event):
    event = make_event(capacity=4)
    session_id = event.sessions[0].id
    seated = [signup.register(event.sessions[0], factories.applicant(), now=clock.utcnow())
              for _ in range(4)]
    db.session.commit()
    leaving = client(http_server)
    path = cancel_path(seated[0].registration)
    db.session.commit()
    token = csrf_from(leaving.get(path).text)

    def cancel():
        try:
            response = leaving.post(path, data={"csrf_token": token})
        finally:
            leaving.close()
        return "cancelled" if response.status_code == 302 else f"http_{response.status_code}"

    results = race(http_server, event, emails(THREADS), extra_jobs=[cancel])
    assert sorted(results) == sorted(["registered"] * THREADS + ["cancelled"])
    assert counts(event.id)["confirmed"] == 4
    assert seats_taken(session_id) == 4
    # The freed seat went to exactly one person: a newcomer (if the cancellation committed before
    # anyone was waiting) or the first one on the waiting list (promoted, and told so by email).
    newcomers = db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.status == Status.confirmed,
        Registration.id.not_in([o.registration_id for o in seated]))).all()
    promoted = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.promoted)).all()
    assert len(newcomers) == 1
    assert [m.registration_id for m in promoted] in ([], [newcomers[0].id])
