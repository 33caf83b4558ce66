"""Two staff withdraw the same certificate at the same moment (issue 17): exactly one withdrawal
takes (one revoked_at, one audit entry), the other is told it already was.

Threads, each in its own app context and transaction as the web edge is (SQLite's write intent up
front), call domain.registration.certificates.withdraw together. The conditional UPDATE
``WHERE id = ? AND revoked_at IS NULL`` is the guard; without it (an UPDATE on the id alone after
a read) both would report success and the second would overwrite the first one's time and reason.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from eventreg import clock
from eventreg.domain.reception import checkin
from eventreg.domain.registration import certificates
from eventreg.extensions import db
from eventreg.models import AuditEntry, Certificate, Registration
from eventreg.sqlite import writing

from .. import factories

WITHDRAWERS = 6


def issued(make_event) -> int:
    person = factories.register_person(make_event())
    checkin.check_in(person, session_id=None, desk="受付1", now=clock.utcnow())
    certificate_id = certificates.issue(db.session.get(Registration, person.id), clock.utcnow()).id
    db.session.commit()
    db.session.rollback()  # no read transaction left open while the withdrawers write
    return certificate_id


def withdraw_at_once(app, certificate_id: int) -> tuple[list[bool], list[BaseException]]:
    barrier = threading.Barrier(WITHDRAWERS)
    results: list[bool] = []
    errors: list[BaseException] = []

    def withdrawer(n: int):
        with app.app_context():
            try:
                certificate = db.session.get(Certificate, certificate_id)  # read before the race
                db.session.rollback()
                barrier.wait(timeout=30)
                with writing():
                    certificate = db.session.get(Certificate, certificate_id)
                    took = certificates.withdraw(certificate, reason=f"staff {n}", actor=None, now=clock.utcnow())
                    db.session.commit()
                results.append(took)
            except BaseException as exc:  # counted below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=withdrawer, args=(n,)) for n in range(WITHDRAWERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


def test_withdrawers_at_once_make_one_withdrawal(app, make_event):
    certificate_id = issued(make_event)
    results, errors = withdraw_at_once(app, certificate_id)
    assert not errors, errors
    assert sorted(results) == [False] * (WITHDRAWERS - 1) + [True]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "certificate_withdrawn")) == 1
    certificate = db.session.get(Certificate, certificate_id)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "certificate_withdrawn"))
    assert certificate.revoked_at is not None
    assert entry.note_params["reason"] == certificate.revoked_reason  # the winner's words stayed
