"""Offline desks' batches racing through the real edge (threaded server, bearer tokens):

- the same batch sent by several requests at once (a desk's timer and its `online` event both
  flush the queue, or a response was lost and the batch resent while the first still ran): each
  operation is applied once, and every request answers the same;
- two desks' batches moving the same person's check-in to an earlier admission at once: the
  earliest one wins, whoever writes last.

And each guard shown to matter: the claim of an operation's id (its stored row decides, the
loser's savepoint rolls back), and the UPDATE conditional on the exact check-in read
(domain.reception.checkin.move_check_in). As in test_guards_matter.py, SQLite's write intent
serialises whole transactions, so there the naive move cannot be told apart from the guard.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update

from eventreg.domain.reception import checkin, desk_batches
from eventreg.domain.registration import passes
from eventreg.extensions import db
from eventreg.models import CheckinConflict, DeskOperation, EventSession, OutboxMessage, Registration, Scan, ScanResult

from .. import factories
from .edge import at_once, client, interleaved

WINDOW = 0.02  # between a naive read and its write, as in a busy request


def now() -> datetime:
    return datetime.now(timezone.utc)


def batch_request(base_url: str, event_id: int, token: str, operations: list, desk: str):
    """A job: one desk posting one batch; the results' (result, registration id) or the HTTP status."""

    def job():
        body = {"device": "race", "desk": desk, "sent_at": now().isoformat(), "operations": operations}
        with client(base_url) as http:
            response = http.post(f"/api/v1/events/{event_id}/desk-batches", json=body,
                                 headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200:
            return f"http_{response.status_code}"
        return [(r["result"], (r["registration"] or {}).get("id")) for r in response.json()["results"]]

    return job


def operation(kind: str, at: datetime, seq: int, **fields) -> dict:
    return {"id": str(uuid.uuid4()), "seq": seq, "at": at.isoformat(), "kind": kind, **fields}


def queue(event, people) -> list[dict]:
    """A desk's queue after an outage: every person's pass scanned, two walk-ins (one with email)."""
    at = now() - timedelta(minutes=30)
    ops = [operation("scan", at + timedelta(seconds=i), i, payload=passes.qr_payload(p), method="camera")
           for i, p in enumerate(people)]
    for n, email in enumerate(("", "walkin@example.org")):
        ops.append(operation("walk_in", at + timedelta(minutes=5, seconds=n), len(ops), confirm=False, fields={
            "session_id": event.sessions[0].id, "family_name": "当日", "given_name": f"{n}郎",
            "family_kana": "トウジツ", "given_kana": "イチロウ", "sector": "individual", "email": email}))
    return ops


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def applied_once(event, people, ops, results) -> None:
    assert all(r == results[0] for r in results), results  # every request answers the same
    assert [r for r, _id in results[0]] == ["ok"] * len(people) + ["walk_in", "walk_in"]
    assert count(DeskOperation, DeskOperation.event_id == event.id) == len(ops)
    assert count(Scan, Scan.event_id == event.id) == len(ops)  # each logged once
    assert count(Scan, Scan.event_id == event.id, Scan.result == ScanResult.walk_in) == 2
    assert count(Registration, Registration.event_id == event.id, Registration.walk_in.is_(True)) == 2
    assert count(OutboxMessage, OutboxMessage.registration_id == results[0][-1][1]) == 1  # mailed once
    assert db.session.get(EventSession, event.sessions[0].id).seats_taken == len(people) + 2


def race_identical(http_server, make_event, token, copies=4):
    event = make_event(capacity=50)
    people = [factories.register_person(event) for _ in range(12)]
    ops = queue(event, people)
    db.session.commit()
    results = at_once([batch_request(http_server, event.id, token, ops, "受付1") for _ in range(copies)])
    return event, people, ops, results


def test_the_same_batch_racing_applies_each_operation_once(http_server, make_event, scanner_token):
    event, people, ops, results = race_identical(http_server, make_event, scanner_token)
    applied_once(event, people, ops, results)
    # And once more, after the fact (the response was lost): the same answers, nothing new.
    again = batch_request(http_server, event.id, scanner_token, ops, "受付1")()
    applied_once(event, people, ops, [*results, again])


def naive_claim(op, batch):
    """A plain INSERT (no ON CONFLICT): the unique constraint's refusal becomes an error."""
    row = DeskOperation(event_id=batch.event_id, client_id=op.client_id, kind=op.kind, desk=batch.desk,
                        device=batch.device, device_seq=op.seq, device_at=op.at, received_at=batch.received_at,
                        user_id=batch.user_id, result="pending")
    db.session.add(row)
    db.session.flush()
    return row.id


def look_then_claim(op, batch):
    """Looks for the stored operation first, then the plain INSERT: a check-then-act."""
    if desk_batches.stored(batch.event_id, op.client_id) is not None:
        return None
    time.sleep(WINDOW)
    return naive_claim(op, batch)


def test_without_the_claim_a_resent_batch_fails(http_server, make_event, scanner_token, monkeypatch):
    """A plain INSERT for the claim: the unique constraint still refuses a second copy, but as an
    error: the desk gets a 500 for its resend, on either database."""
    monkeypatch.setattr(desk_batches, "claim", naive_claim)
    event, people, ops, results = race_identical(http_server, make_event, scanner_token, copies=2)
    assert "http_500" in results, results


def test_look_then_insert_fails_racing_copies_on_postgresql(http_server, make_event, scanner_token, monkeypatch,
                                                             dialect):
    """A look for the stored operation, then the plain INSERT: a resend after the fact is answered
    from the stored row, but copies racing on PostgreSQL both look, both insert, and the loser's
    unique violation is a 500 (SQLite's write lock serialises the copies, so the look sees the
    winner's row)."""
    monkeypatch.setattr(desk_batches, "claim", look_then_claim)
    event, people, ops, results = race_identical(http_server, make_event, scanner_token, copies=4)
    if dialect == "postgresql":
        assert "http_500" in results, results
    else:
        applied_once(event, people, ops, results)


# --- the earliest admission, moved by two desks at once ------------------------------------------


def moving_race(http_server, make_event, token, monkeypatch):
    """Checked in at 受付1 (t1); then 受付2 (t2 < t1) and 受付3 (t3 < t2) send at once, 受付2 held
    between its read of the check-in and its write while 受付3 goes through."""
    event = make_event()
    person = factories.register_person(event)
    db.session.commit()
    base = now() - timedelta(minutes=30)
    t3, t2, t1 = base, base + timedelta(minutes=2), base + timedelta(minutes=4)
    payload = passes.qr_payload(person)
    first = batch_request(http_server, event.id, token, [operation("scan", t1, 0, payload=payload)], "受付1")()
    assert first == [("ok", person.id)]
    later = batch_request(http_server, event.id, token, [operation("scan", t2, 0, payload=payload)], "受付2")
    earliest = batch_request(http_server, event.id, token, [operation("scan", t3, 0, payload=payload)], "受付3")
    results = interleaved(monkeypatch, checkin, "move_check_in", later, earliest)
    db.session.rollback()
    registration = db.session.get(Registration, person.id)
    conflicts = db.session.scalars(select(CheckinConflict).where(CheckinConflict.registration_id == person.id)
                                   .order_by(CheckinConflict.id)).all()
    return (t1, t2, t3), results, registration, conflicts


def test_two_desks_moving_one_check_in_keep_the_earliest(http_server, make_event, scanner_token, monkeypatch):
    (t1, t2, t3), results, registration, conflicts = moving_race(http_server, make_event, scanner_token, monkeypatch)
    assert [r[0][0] for r in results] == ["conflict", "conflict"]
    assert (registration.checked_in_at, registration.checked_in_desk) == (t3, "受付3")
    # Every admission is on record: the one that counts, and each other one once.
    assert sorted((c.other_at, c.other_desk) for c in conflicts) == [(t2, "受付2"), (t1, "受付1")]
    assert conflicts[-1].kept_at == t3


def naive_move(registration_id, *, seen_at, seen_desk, at, desk):
    """Writes the earlier admission whatever the row holds now."""
    time.sleep(WINDOW)
    db.session.execute(update(Registration.__table__).where(Registration.__table__.c.id == registration_id)
                       .values(checked_in_at=at, checked_in_desk=desk))
    return True


def test_the_naive_move(http_server, make_event, scanner_token, monkeypatch, dialect):
    monkeypatch.setattr(checkin, "move_check_in", naive_move)
    (t1, t2, t3), results, registration, conflicts = moving_race(http_server, make_event, scanner_token, monkeypatch)
    if dialect == "postgresql":
        # 受付2 read 受付1's check-in, 受付3 moved it to t3 meanwhile, 受付2 wrote t2 over it:
        # the check-in is no longer the earliest admission, and t3 is on record as "kept" only.
        assert (registration.checked_in_at, registration.checked_in_desk) == (t2, "受付2")
    else:
        # SQLite's write lock (taken up front) made 受付3 wait for 受付2's whole transaction.
        assert (registration.checked_in_at, registration.checked_in_desk) == (t3, "受付3")
