"""Holds expiring while people sign up: never an overbooking, each expiry promotes once.

Real threads through the production paths: sign-ups are HTTP POSTs of the event form to the
threaded server (each its own transaction), and three workers run ``worker.tick`` at once with an
explicit ``now`` past the holds' expiry, so the hold sweep (domain.timing.periodic.SWEEPS) of each races
the others and the sign-ups. Then the conditional expiry UPDATE is replaced by a naive
read-check-write to show it is the guard (PostgreSQL; SQLite's write lock serialises the ticks).
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select, update

from eventreg import clock, worker
from eventreg.domain.communication import outbox
from eventreg.domain.registration import capacity, holds, signup
from eventreg.domain.registration.waitlist import promote_waiting
from eventreg.domain.timing import periodic
from eventreg.extensions import db
from eventreg.models import MailKind, OutboxMessage, Registration, Status

from .. import factories
from .edge import at_once, outcome
from .test_overbooking import counts, emails, seats_taken, sign_ups

CAPACITY, HELD, WAITING_CONFIRMED, WAITING_UNCONFIRMED, SIGN_UPS, WORKERS = 6, 6, 4, 3, 14, 3


def _prepare(make_event):
    """Six held seats that ran out ten minutes ago, four confirmed and three unconfirmed people
    waiting (the unconfirmed ones' holds still run)."""
    event = make_event(capacity=CAPACITY, confirm_email=True, hold_minutes=10)
    now = clock.utcnow()
    session = event.sessions[0]
    early = now - timedelta(minutes=20)
    for _ in range(HELD):
        signup.register(session, factories.applicant(), now=early)
    for _ in range(WAITING_CONFIRMED):
        outcome_ = signup.register(session, factories.applicant(), now=early)
        assert holds.confirm(outcome_.registration, now=early + timedelta(minutes=1))
    for _ in range(WAITING_UNCONFIRMED):
        signup.register(session, factories.applicant(), now=now)
    db.session.commit()
    return event, now


def _mail_count(event_id: int, kind: MailKind) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).join(Registration)
                             .where(Registration.event_id == event_id, OutboxMessage.kind == kind))


def _race(app, http_server, event, now):
    visitors = sign_ups(http_server, event, emails(SIGN_UPS))
    ticks = [lambda: worker.tick(app, now=now + timedelta(minutes=1)) for _ in range(WORKERS)]
    return at_once([v.submit for v in visitors] + ticks)


def test_holds_expiring_during_sign_ups_never_overbook(app, http_server, make_event):
    event, now = _prepare(make_event)
    results = _race(app, http_server, event, now)
    answers = [outcome(r) for r in results[:SIGN_UPS]]
    assert set(answers) == {"registered"}, answers
    assert not any(isinstance(r, BaseException) for r in results), results
    found = counts(event.id)
    taken = seats_taken(event.sessions[0].id)
    assert taken == found.get("confirmed", 0) + found.get("held", 0) <= CAPACITY, (taken, found)
    # Every run-out hold was expired once, and promoted the confirmed waiting people, once each.
    assert _mail_count(event.id, MailKind.hold_expired) == HELD
    assert _mail_count(event.id, MailKind.promoted) == WAITING_CONFIRMED
    assert found.get("confirmed", 0) == WAITING_CONFIRMED
    # The seats left over went to racing sign-ups as holds (or stay free, when every sign-up
    # came before the seats were released); nobody unconfirmed was promoted.
    assert found.get("held", 0) <= CAPACITY - WAITING_CONFIRMED
    promoted = db.session.scalars(select(Registration).where(Registration.event_id == event.id,
                                                             Registration.status == Status.confirmed)).all()
    assert all(r.email_confirmed_at is not None for r in promoted)


WINDOW = 0.02


def naive_expire(registration_id, now):
    """Reads the hold, checks it in Python, then cancels unconditionally."""
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.status not in (Status.held, Status.waitlisted) or reg.email_confirmed_at:
        return False
    was = reg.status
    time.sleep(WINDOW)
    db.session.execute(update(Registration).where(Registration.id == registration_id)
                       .values(status=Status.cancelled, cancelled_at=now, hold_expires_at=None)
                       .execution_options(synchronize_session=False))
    outbox.enqueue(registration_id, MailKind.hold_expired, now, attachments=[])
    if was == Status.held:
        capacity.release_seat(reg.session_id)
        promote_waiting(reg.session_id, now=now)
    return True


def test_the_naive_expiry(app, http_server, make_event, monkeypatch):
    monkeypatch.setattr(periodic, "SWEEPS", [periodic.Sweep("hold_expired", holds.due, naive_expire)])
    event, now = _prepare(make_event)
    _race(app, http_server, event, now)
    found = counts(event.id)
    taken = seats_taken(event.sessions[0].id)
    expired = _mail_count(event.id, MailKind.hold_expired)
    if db.engine.dialect.name == "postgresql":
        # Several workers expire the same hold: a seat released twice, the counter below the
        # people holding seats, and the person told twice.
        assert expired > HELD or taken != found.get("confirmed", 0) + found.get("held", 0), (expired, taken, found)
    else:
        # SQLite: each tick's transaction holds the write lock from its first statement (BEGIN
        # IMMEDIATE), so even the naive expiry is serialised: the guard is not visible here.
        assert expired == HELD and taken == found.get("confirmed", 0) + found.get("held", 0) <= CAPACITY
