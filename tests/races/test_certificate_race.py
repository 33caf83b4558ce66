"""Issuing one person's certificate from several places at once (the post-event loop's workers, an
organizer's click) makes one certificate, and every issuer gets that one.

Eight threads, each in its own app context and transaction as the worker and the web edge are
(SQLite's write intent up front), call domain.registration.certificates.issue at the same moment.
Then the guard is broken on purpose: the INSERT … ON CONFLICT DO NOTHING replaced by a
read-check-insert. On PostgreSQL the issuers run side by side: all of them read "none", and all
but one fail on the unique key (people would get an error instead of their certificate). On
SQLite the write lock queues the issuers, so the naive version survives there (what SQLite
proves is the write intent: tests/races/test_guards_matter.py).
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, insert, select

from eventreg import clock
from eventreg.domain.reception import checkin
from eventreg.domain.registration import certificates
from eventreg.extensions import db
from eventreg.models import Certificate, Registration
from eventreg.sqlite import writing

from .. import factories

ISSUERS = 8


def came(make_event) -> int:
    person = factories.register_person(make_event())
    checkin.check_in(person, session_id=None, desk="受付1", now=clock.utcnow())
    db.session.commit()
    registration_id = person.id
    db.session.rollback()  # no read transaction left open while the issuers write
    return registration_id


def issue_at_once(app, registration_id: int) -> tuple[list[str], list[BaseException]]:
    barrier = threading.Barrier(ISSUERS)
    codes: list[str] = []
    errors: list[BaseException] = []

    def issuer():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                with writing():
                    person = db.session.get(Registration, registration_id)
                    codes.append(certificates.issue(person, clock.utcnow()).code)
                    db.session.commit()
            except BaseException as exc:  # counted below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issuer) for _ in range(ISSUERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return codes, errors


def count() -> int:
    db.session.rollback()  # end the test's own read transaction: see what the issuers committed
    return db.session.scalar(select(func.count()).select_from(Certificate))


def test_issuers_at_once_make_one_certificate(app, make_event):
    registration_id = came(make_event)
    codes, errors = issue_at_once(app, registration_id)
    assert not errors, errors
    assert len(codes) == ISSUERS and len(set(codes)) == 1
    assert count() == 1


def test_without_on_conflict_the_issuers_fail(app, make_event, monkeypatch, dialect):
    registration_id = came(make_event)

    def read_check_insert(rows):  # the naive version: look, wait a little (a slow request), insert
        exists = db.session.scalar(select(Certificate.id).where(
            Certificate.registration_id == rows[0]["registration_id"]))
        time.sleep(0.05)
        if exists is None:
            db.session.execute(insert(Certificate), rows)

    monkeypatch.setattr(certificates, "_insert", read_check_insert)
    codes, errors = issue_at_once(app, registration_id)
    assert count() == 1  # the unique key still holds the invariant
    if dialect == "postgresql":
        assert errors and len(codes) < ISSUERS, "side by side, the naive issuers all read 'none'"
    else:
        assert not errors and len(set(codes)) == 1  # SQLite's write lock queued them
