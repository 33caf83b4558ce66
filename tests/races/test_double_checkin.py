"""The same pass at many desks at once: one check-in, and a log that tells the truth.

Each attempt runs in its own thread, app context and connection, as a POST to the API would
(``writing()``: SQLite takes its write lock up front), all released together by a barrier.
"""

import threading

from sqlalchemy import select

from eventreg import clock
from eventreg.domain import checkin, passes
from eventreg.domain.errors import DomainError
from eventreg.extensions import db
from eventreg.models import Event, Registration, Scan, ScanResult
from eventreg.sqlite import writing

from .. import factories

THREADS = 16


def race(app, jobs) -> list[tuple[str, str]]:
    """Runs every job (a function of nothing returning a result string) at once; (desk, result) pairs."""
    barrier = threading.Barrier(len(jobs))
    results, lock = [], threading.Lock()

    def attempt(desk, job):
        with app.app_context(), writing():
            barrier.wait()
            try:
                result = job(desk)
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                result = exc.code
            finally:
                db.session.remove()
            with lock:
                results.append((desk, result))

    threads = [threading.Thread(target=attempt, args=(f"desk {i}", job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def scan_job(event_id: int, token: str):
    def job(desk: str) -> str:
        event = db.session.get(Event, event_id)
        return checkin.scan(token, event=event, method="camera", desk=desk, user_id=None,
                            now=clock.utcnow()).result.value
    return job


def undo_job(event_id: int, registration_id: int):
    def job(desk: str) -> str:
        event = db.session.get(Event, event_id)
        checkin.undo(registration_id, event=event, desk=desk, user_id=None, now=clock.utcnow())
        return "undone"
    return job


def log(registration_id: int) -> list[Scan]:
    db.session.rollback()  # a fresh snapshot (SQLite keeps the old one until then)
    return db.session.scalars(select(Scan).where(Scan.registration_id == registration_id).order_by(Scan.id)).all()


def test_one_pass_at_sixteen_desks_checks_in_once(app, make_event):
    event = factories.make_event()
    person = factories.register_person(event)
    results = race(app, [scan_job(event.id, passes.qr_payload(person))] * THREADS)

    outcomes = sorted(result for _, result in results)
    assert outcomes.count("ok") == 1 and outcomes.count("already_checked_in") == THREADS - 1
    [winner] = [desk for desk, result in results if result == "ok"]
    rows = log(person.id)
    assert len(rows) == THREADS
    assert sorted(r.result.value for r in rows) == outcomes
    assert [r.desk for r in rows if r.result == ScanResult.ok] == [winner]
    registration = db.session.get(Registration, person.id)
    assert registration.checked_in_desk == winner and registration.checked_in_at is not None


def test_undo_racing_check_ins_leaves_the_state_the_log_describes(app, make_event):
    event = factories.make_event()
    person = factories.register_person(event)
    checkin.scan(passes.qr_payload(person), event=event, method="camera", desk="first", user_id=None, now=clock.utcnow())
    db.session.commit()
    scans, undos = 1, 0
    for _round in range(3):
        results = race(app, [scan_job(event.id, passes.qr_payload(person)), undo_job(event.id, person.id)] * (THREADS // 2))
        assert {r for _, r in results} <= {"ok", "already_checked_in", "undone", "not_checked_in"}
        scans += sum(1 for _, r in results if r in ("ok", "already_checked_in"))
        undos += sum(1 for _, r in results if r == "undone")
        rows = log(person.id)
        registration = db.session.get(Registration, person.id)
        db.session.refresh(registration)

        # Every scan is logged; an undo only when it undid something.
        assert sum(1 for r in rows if r.result != ScanResult.undone) == scans
        assert sum(1 for r in rows if r.result == ScanResult.undone) == undos

        # The changes in log order alternate: check-in, undo, check-in, …; the last one is the state.
        changes = [r for r in rows if r.result in (ScanResult.ok, ScanResult.undone)]
        assert [c.result for c in changes] == [
            ScanResult.ok if i % 2 == 0 else ScanResult.undone for i in range(len(changes))]
        if changes[-1].result == ScanResult.ok:
            assert registration.checked_in_at is not None and registration.checked_in_desk == changes[-1].desk
        else:
            assert registration.checked_in_at is None and registration.checked_in_desk == ""
