"""POST /api/v1/events/<id>/desk-batches: an offline desk's queue, applied once per operation
(domain.reception.desk_batches). Through the real edge (test client, bearer tokens of event roles)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from eventreg.domain.access import api_tokens
from eventreg.domain.insight.counts import of_event
from eventreg.domain.registration import passes
from eventreg.extensions import db
from eventreg.models import (
    AuditEntry,
    CheckinConflict,
    DeskOperation,
    DeskTask,
    EventSession,
    OutboxMessage,
    Registration,
    Scan,
    ScanResult,
)

from .. import factories

API = "/api/v1"


def now() -> datetime:
    return datetime.now(timezone.utc)


def token_for(event, role="reception") -> str:
    user = factories.make_staff(role, events=[event])
    token = api_tokens.create_api_token(user, "desk test", now=now())
    db.session.commit()
    return token


def send(client, token, event, operations, *, desk="受付1", sent_at=None, device="dev-1"):
    body = {"device": device, "desk": desk, "sent_at": (sent_at or now()).isoformat(), "operations": operations}
    return client.post(f"{API}/events/{event.id}/desk-batches", json=body,
                       headers={"Authorization": f"Bearer {token}"})


def op(kind, at=None, seq=0, **fields):
    return {"id": str(uuid.uuid4()), "seq": seq, "at": (at or now()).isoformat(), "kind": kind, **fields}


def scan(person, at=None, **more):
    return op("scan", at, payload=passes.qr_payload(person), method="camera", **more)


def walk_in(event, at=None, confirm=False, **names):
    fields = {"session_id": event.sessions[0].id, "family_name": "当日", "given_name": "一郎",
              "family_kana": "トウジツ", "given_kana": "イチロウ", "sector": "individual", **names}
    return op("walk_in", at, fields=fields, confirm=confirm)


def fresh(model, *where):
    db.session.rollback()
    return db.session.scalars(select(model).where(*where)).all()


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_same_batch_twice_changes_nothing(client, make_event):
    event = make_event(capacity=10)
    people = [factories.register_person(event) for _ in range(3)]
    token = token_for(event)
    batch = [scan(p, seq=i) for i, p in enumerate(people)] + [walk_in(event, seq=3)]
    first = send(client, token, event, batch)
    assert first.status_code == 200, first.get_json()
    assert [r["result"] for r in first.get_json()["results"]] == ["ok", "ok", "ok", "walk_in"]
    again = send(client, token, event, batch)  # the response was lost: the desk sends it again
    assert [r["result"] for r in again.get_json()["results"]] == ["ok", "ok", "ok", "walk_in"]
    assert again.get_json()["results"][3]["registration"]["id"] == first.get_json()["results"][3]["registration"]["id"]
    assert count(DeskOperation, DeskOperation.event_id == event.id) == 4
    assert count(Scan, Scan.event_id == event.id) == 4  # logged once each
    assert count(Registration, Registration.walk_in.is_(True)) == 1
    assert of_event(event.id, now=now())["checked_in"] == 4
    assert db.session.get(EventSession, event.sessions[0].id).seats_taken == 4


def test_the_check_in_time_is_the_device_time_and_logged_there(client, make_event):
    event = make_event()
    person = factories.register_person(event)
    token = token_for(event)
    at = now() - timedelta(minutes=20)
    result = send(client, token, event, [scan(person, at)]).get_json()["results"][0]
    assert result["result"] == "ok" and result["registration"]["checked_in_desk"] == "受付1"
    assert datetime.fromisoformat(result["registration"]["checked_in_at"]) == at
    [log] = fresh(Scan, Scan.registration_id == person.id)
    assert log.at == at and log.method.value == "camera"
    [stored] = fresh(DeskOperation, DeskOperation.event_id == event.id)
    assert stored.device_at == at and stored.received_at > at and stored.clock_skew_seconds is None


def test_earlier_admission_arriving_second_moves_the_check_in(client, make_event):
    event = make_event()
    person = factories.register_person(event)
    token = token_for(event)
    t1, t2 = now() - timedelta(minutes=10), now() - timedelta(minutes=5)
    assert send(client, token, event, [scan(person, t2)], desk="受付2").get_json()["results"][0]["result"] == "ok"
    answer = send(client, token, event, [scan(person, t1)], desk="受付1").get_json()["results"][0]
    assert answer["result"] == "conflict"
    conflict = answer["conflict"]
    assert conflict["kept_desk"] == "受付1" and conflict["other_desk"] == "受付2"
    assert datetime.fromisoformat(conflict["kept_at"]) == t1
    registration = fresh(Registration, Registration.id == person.id)[0]
    assert (registration.checked_in_at, registration.checked_in_desk) == (t1, "受付1")
    assert count(CheckinConflict, CheckinConflict.registration_id == person.id) == 1
    counts = of_event(event.id, now=now())
    assert counts["checked_in"] == 1  # nothing counts twice


def test_later_admission_arriving_second_is_a_conflict_only(client, make_event):
    event = make_event()
    person = factories.register_person(event)
    token = token_for(event)
    t1, t2 = now() - timedelta(minutes=10), now() - timedelta(minutes=5)
    send(client, token, event, [scan(person, t1)], desk="受付1")
    answer = send(client, token, event, [op("checkin", t2, registration_id=person.id)], desk="受付2")
    result = answer.get_json()["results"][0]
    assert result["result"] == "conflict"
    assert result["conflict"]["kept_desk"] == "受付1" and result["conflict"]["other_desk"] == "受付2"
    registration = fresh(Registration, Registration.id == person.id)[0]
    assert (registration.checked_in_at, registration.checked_in_desk) == (t1, "受付1")
    assert of_event(event.id, now=now())["checked_in"] == 1
    # The same desk again is no conflict.
    again = send(client, token, event, [scan(person, t2)], desk="受付1").get_json()["results"][0]
    assert again["result"] == "already_checked_in"
    assert count(CheckinConflict, CheckinConflict.registration_id == person.id) == 1
    # The conflict's text is in the event's time zone, as the log shows it.
    local = lambda t: t.astimezone(timezone(timedelta(hours=9))).strftime("%H:%M:%S")  # noqa: E731
    assert result["conflict"]["text"] == f"{local(t1)} 受付1 / {local(t2)} 受付2"


def test_a_desk_that_showed_already_checked_in_admitted_nobody(client, make_event):
    """An online desk whose roster already held the other desk's check-in: no conflict."""
    event = make_event()
    person = factories.register_person(event)
    token = token_for(event)
    t1 = now() - timedelta(minutes=10)
    send(client, token, event, [scan(person, t1)], desk="受付1")
    seen = send(client, token, event, [scan(person, t1 + timedelta(minutes=2), verdict="already_checked_in")],
                desk="受付2").get_json()["results"][0]
    assert seen["result"] == "already_checked_in" and seen["conflict"] is None
    assert count(CheckinConflict, CheckinConflict.registration_id == person.id) == 0


def test_clock_skew_is_flagged_and_corrected(client, make_event):
    event = make_event()
    person = factories.register_person(event)
    token = token_for(event)
    ahead = timedelta(minutes=7, seconds=30)
    device_now = now() + ahead
    answer = send(client, token, event, [scan(person, device_now - timedelta(minutes=2))], sent_at=device_now)
    body = answer.get_json()
    assert 445 <= body["clock_skew_seconds"] <= 455
    checked_in = datetime.fromisoformat(body["results"][0]["registration"]["checked_in_at"])
    assert abs(checked_in - (now() - timedelta(minutes=2))) < timedelta(seconds=10)
    [stored] = fresh(DeskOperation, DeskOperation.event_id == event.id)
    assert stored.clock_skew_seconds == body["clock_skew_seconds"]
    assert stored.device_at == device_now - timedelta(minutes=2)  # as the device said

    # Under the limit: neither flagged nor corrected.
    other = factories.register_person(event)
    small = send(client, token, event, [scan(other, now() - timedelta(minutes=1))], sent_at=now() + timedelta(minutes=4))
    assert small.get_json()["clock_skew_seconds"] is None


def test_a_walk_in_without_a_free_seat_is_registered_and_a_task(client, make_event, login):
    event = make_event(capacity=1)
    factories.register_person(event)
    token = token_for(event)
    result = send(client, token, event, [walk_in(event)]).get_json()["results"][0]
    assert result["result"] == "walk_in_overflow"
    assert result["registration"]["status"] == "confirmed" and result["registration"]["checked_in_at"]
    assert result["task"]["kind"] == "seat_overflow" and "当日 一郎" in result["task"]["text"]
    session = db.session.get(EventSession, event.sessions[0].id)
    db.session.refresh(session)
    assert (session.seats_taken, session.capacity) == (2, 2)  # the counter stays true
    [task] = fresh(DeskTask, DeskTask.event_id == event.id)
    assert task.kind == "seat_overflow" and task.done_at is None
    [entry] = fresh(AuditEntry, AuditEntry.event_id == event.id, AuditEntry.action == "capacity_raised_by_walk_in")
    assert entry.changes["capacity"] == [1, 2] and entry.registration_id == result["registration"]["id"]


def test_a_same_name_walk_in_of_another_desk_is_registered_and_a_task(client, make_event):
    event = make_event(capacity=10)
    token = token_for(event)
    first = send(client, token, event, [walk_in(event)], desk="受付1").get_json()["results"][0]
    second = send(client, token, event, [walk_in(event)], desk="受付2").get_json()["results"][0]
    assert first["result"] == second["result"] == "walk_in"
    assert second["task"]["kind"] == "walk_in_duplicate" and first["task"] is None
    # The same desk's own earlier walk-in was on its screen: asked, not entered.
    third = send(client, token, event, [walk_in(event)], desk="受付1").get_json()["results"][0]
    assert third["result"] == "walk_in_duplicate" and third["registration"]["id"] == first["registration"]["id"]
    assert count(Registration, Registration.walk_in.is_(True)) == 2
    assert db.session.get(EventSession, event.sessions[0].id).seats_taken == 2


def test_undo_at_device_time(client, make_event):
    event = make_event()
    person = factories.register_person(event)
    token = token_for(event)
    at = now() - timedelta(minutes=3)
    results = send(client, token, event, [scan(person, at, seq=1), op("undo", at + timedelta(seconds=5), seq=2,
                                                                      registration_id=person.id)]).get_json()["results"]
    assert [r["result"] for r in results] == ["ok", "undone"]
    assert fresh(Registration, Registration.id == person.id)[0].checked_in_at is None
    nothing = send(client, token, event, [op("undo", registration_id=person.id)]).get_json()["results"][0]
    assert nothing["result"] == "not_checked_in"


def test_operations_apply_in_seq_order_and_answer_in_the_order_sent(client, make_event):
    event = make_event()
    person = factories.register_person(event)
    token = token_for(event)
    at = now() - timedelta(minutes=3)
    results = send(client, token, event, [op("undo", at, seq=2, registration_id=person.id),
                                          scan(person, at, seq=1)]).get_json()["results"]
    assert [r["result"] for r in results] == ["undone", "ok"]


def test_each_malformed_operation_is_answered_alone(client, make_event):
    event = make_event()
    person = factories.register_person(event)
    other_event = make_event()
    stranger = factories.register_person(other_event)
    token = token_for(event)
    good = scan(person)
    bad = [
        "not an object", None, 17, [], {},
        {**good, "id": ""}, {**good, "id": "x" * 65}, {**good, "id": 5},
        {**op("scan"), "payload": None}, {**op("scan", payload="x"), "seq": "1"}, {**op("scan", payload="x"), "seq": True},
        {**op("scan", payload="x"), "at": "yesterday"}, {**op("scan", payload="x"), "at": "2026-01-01T10:00:00"},
        {**op("scan", payload="x"), "at": "1900-01-01T10:00:00+00:00"}, op("dance"),
        op("scan", payload="x", method="telepathy"), op("scan", payload="x", session_id=other_event.sessions[0].id),
        op("checkin"), op("checkin", registration_id="12"), op("checkin", registration_id=True),
        op("checkin", registration_id=2**40), op("undo", registration_id=None),
        op("walk_in", fields="x"), op("walk_in", fields={}), walk_in(event, family_kana="Tojitsu"),
        walk_in(event, session_id=other_event.sessions[0].id), walk_in(event, sector="pirate"),
        {**op("scan", payload="x\x00")},
    ]
    answer = send(client, token, event, [good, *bad])
    assert answer.status_code == 200, answer.get_json()
    results = answer.get_json()["results"]
    assert results[0]["result"] == "ok"
    assert [r["result"] for r in results[1:]] == ["invalid_input"] * len(bad), results
    assert all(r["fields"] for r in results[1:])
    # Well-formed but of nothing here: answered, stored, never another event's person.
    answered = send(client, token, event, [scan(stranger), op("checkin", registration_id=stranger.id),
                                           op("scan", payload="garbage")]).get_json()["results"]
    assert [r["result"] for r in answered] == ["wrong_event", "not_found", "unknown_pass"]
    assert all(r["registration"] is None for r in answered)


def test_a_malformed_batch_is_refused_whole(client, make_event):
    event = make_event()
    token = token_for(event)
    url = f"{API}/events/{event.id}/desk-batches"
    auth = {"Authorization": f"Bearer {token}"}
    for body in ([], {"operations": []}, {"sent_at": now().isoformat()}, {"sent_at": "x", "operations": []},
                 {"sent_at": now().isoformat(), "operations": {}},
                 {"sent_at": now().isoformat(), "operations": [op("undo", registration_id=1)] * 201}):
        assert client.post(url, json=body, headers=auth).status_code == 400, body
    far = send(client, token, event, [], sent_at=now() + timedelta(days=400))
    assert far.status_code == 422 and far.get_json()["error"]["fields"]["sent_at"]
    bidi = send(client, token, event, [], desk="受付\u202e1")
    assert bidi.status_code == 422
    assert count(DeskOperation) == 0


def test_only_this_events_desk_staff(client, make_event):
    event, other = make_event(), make_event()
    person = factories.register_person(event)
    batch = [scan(person)]
    assert send(client, token_for(other), event, batch).status_code == 404  # another event's staff
    assert send(client, token_for(event, "viewer"), event, batch).status_code == 403  # no desk capability
    assert count(DeskOperation) == 0 and count(Scan) == 0
    assert send(client, token_for(event, "reception"), event, batch).status_code == 200


def test_client_ids_are_per_event(client, make_event):
    event, other = make_event(), make_event()
    mine, theirs = factories.register_person(event), factories.register_person(other)
    shared = scan(mine)
    assert send(client, token_for(event), event, [shared]).get_json()["results"][0]["result"] == "ok"
    reused = {**scan(theirs), "id": shared["id"]}
    result = send(client, token_for(other), other, [reused]).get_json()["results"][0]
    assert result["result"] == "ok" and result["registration"]["id"] == theirs.id


def test_a_walk_in_with_email_mails_once(client, make_event):
    event = make_event(capacity=10)
    token = token_for(event)
    batch = [walk_in(event, email="tojitsu@example.org")]
    send(client, token, event, batch)
    send(client, token, event, batch)
    assert count(OutboxMessage) == 1
    assert count(Scan, Scan.result == ScanResult.walk_in) == 1
