"""Many people press "register" at the same moment: the session is never overbooked."""

import threading

from sqlalchemy import func, select

from eventreg import clock
from eventreg.domain import registration as registrations
from eventreg.domain.errors import DomainError
from eventreg.domain import passes
from eventreg.extensions import db
from eventreg.models import EventSession, MailKind, OutboxMessage, Registration, Status
from eventreg.sqlite import writing

from .. import factories

THREADS = 24


def race(app, session_id: int, applicants, *, cancel_token: str | None = None) -> list[str]:
    """Each applicant registers in its own thread, own app context and own connection."""
    barrier = threading.Barrier(len(applicants) + (1 if cancel_token else 0))
    results, lock = [], threading.Lock()

    def attempt(applicant):
        with app.app_context(), writing():  # as the web layer does for a POST
            barrier.wait()
            try:
                session = db.session.get(EventSession, session_id)
                outcome = registrations.register(session, applicant, now=clock.utcnow())
                db.session.commit()
                result = outcome.result
            except DomainError as exc:
                db.session.rollback()
                result = exc.code
            finally:
                db.session.remove()
            with lock:
                results.append(result)

    def cancel():
        with app.app_context(), writing():
            barrier.wait()
            registration = passes.find_by_token(cancel_token)
            registrations.cancel(registration, now=clock.utcnow())
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=attempt, args=(a,)) for a in applicants]
    if cancel_token:
        threads.append(threading.Thread(target=cancel))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def counts(event_id: int) -> dict:
    rows = db.session.execute(
        select(Registration.status, func.count()).where(Registration.event_id == event_id)
        .group_by(Registration.status)
    ).all()
    return {status.value: n for status, n in rows}


def test_no_overbooking_when_everyone_registers_at_once(app, make_event):
    event = factories.make_event(capacity=5)
    results = race(app, event.sessions[0].id, [factories.applicant() for _ in range(THREADS)])
    assert sorted(results).count("confirmed") == 5
    assert sorted(results).count("waitlisted") == THREADS - 5
    db.session.rollback()  # a fresh snapshot (SQLite keeps the old one until then)
    assert counts(event.id) == {"confirmed": 5, "waitlisted": THREADS - 5}
    assert db.session.get(EventSession, event.sessions[0].id).seats_taken == 5


def test_no_overbooking_without_a_waiting_list(app, make_event):
    event = factories.make_event(capacity=3, waitlist=False)
    results = race(app, event.sessions[0].id, [factories.applicant() for _ in range(THREADS)])
    assert results.count("confirmed") == 3 and results.count("session_full") == THREADS - 3
    db.session.rollback()  # a fresh snapshot (SQLite keeps the old one until then)
    assert counts(event.id) == {"confirmed": 3}


def test_the_same_email_at_once_takes_one_seat(app, make_event):
    event = factories.make_event(capacity=10)
    same = [factories.applicant(email="twin@example.org") for _ in range(THREADS)]
    results = race(app, event.sessions[0].id, same)
    assert results.count("confirmed") == 1 and results.count("duplicate") == THREADS - 1
    db.session.rollback()  # a fresh snapshot (SQLite keeps the old one until then)
    assert counts(event.id) == {"confirmed": 1}
    assert db.session.get(EventSession, event.sessions[0].id).seats_taken == 1


def test_a_cancellation_racing_new_sign_ups_never_overbooks(app, make_event):
    event = factories.make_event(capacity=4)
    session_id = event.sessions[0].id
    seated = [registrations.register(event.sessions[0], factories.applicant(), now=clock.utcnow())
              for _ in range(4)]
    db.session.commit()
    race(app, session_id, [factories.applicant() for _ in range(THREADS)],
         cancel_token=seated[0].token)
    db.session.rollback()  # a fresh snapshot (SQLite keeps the old one until then)
    assert counts(event.id)["confirmed"] == 4
    assert db.session.get(EventSession, session_id).seats_taken == 4
    # The freed seat went to exactly one person: a newcomer (if the cancellation committed before
    # anyone was waiting) or the first one on the waiting list (promoted, and told so by email).
    # "First" is the first committed: ids are handed out before commit, so they do not say who was
    # on the list when the seat freed up.
    newcomers = db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.status == Status.confirmed,
        Registration.id.not_in([o.registration_id for o in seated]))).all()
    promoted = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.promoted)).all()
    assert len(newcomers) == 1
    assert [m.registration_id for m in promoted] in ([], [newcomers[0].id])
