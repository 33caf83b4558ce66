"""Finding 2: the QR carries a signed entry credential, apart from the management secret."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from eventreg.domain.reception import checkin
from eventreg.domain.reception.checkin import RESULT_OF_STATUS
from eventreg.domain.registration import passes, signup
from eventreg.extensions import db
from eventreg.models import Scan, ScanResult, Status

from .. import factories

NOW = datetime.now(timezone.utc)


def scan(event, payload, **kw):
    outcome = checkin.scan(payload, event=event, method="camera", desk="d", user_id=None, now=NOW, **kw)
    db.session.commit()
    return outcome.result


def test_every_status_has_a_scan_result():
    assert set(RESULT_OF_STATUS) == set(Status)
    assert [s for s, r in RESULT_OF_STATUS.items() if r == ScanResult.ok] == [Status.confirmed]


def test_the_credential_is_short_signed_and_holds_no_secret(make_event):
    event = make_event()
    person = factories.register_person(event, family_name="山田", email="yamada@example.org")
    payload = passes.qr_payload(person)
    assert payload.startswith("ER2:") and len(payload) == 140
    assert person.token not in payload and person.token.upper() not in payload
    credential = passes.parse(payload)
    assert (credential.event_id, credential.entry_id, credential.entry_version) == (
        event.id, person.entry_id, 1)
    assert passes.verify(credential, event.pass_key) and not passes.verify(credential, "another seed")
    assert passes.find_entry(credential).id == person.id


def test_a_tampered_or_foreign_signature_is_an_unknown_pass(make_event):
    event = make_event()
    person = factories.register_person(event)
    good = passes.qr_payload(person)
    forged = passes.sign_entry("not the event's seed", event.id, person.entry_id, person.entry_version)
    raw = bytearray(base64.b32decode(good[4:]))
    raw[20] ^= 1  # entry version 1 -> 0 (the old pass a desk would call cancelled), signature kept
    older = "ER2:" + base64.b32encode(bytes(raw)).decode()
    raw[20] ^= 1
    raw[-1] ^= 0x80  # a changed signature
    bad_signature = "ER2:" + base64.b32encode(bytes(raw)).decode()
    for payload in (forged, older, bad_signature, good[:-8], "ER1:" + person.token, person.token,
                    "ER2:", "ER2:!!!", "ER2:" + "A" * 136):
        assert scan(event, payload) == ScanResult.unknown_pass, payload
    assert person.checked_in_at is None
    assert scan(event, good) == ScanResult.ok


def test_a_pass_from_before_a_cancellation_says_cancelled(make_event):
    event = make_event()
    person = factories.register_person(event)
    old = passes.qr_payload(person)
    signup.cancel(person, now=NOW)
    db.session.commit()
    assert person.entry_version == 2
    assert scan(event, old) == ScanResult.cancelled


def test_moving_supersedes_the_old_pass(make_event):
    start = factories.in_days(14)
    event = make_event(sessions=[
        {"title": "第1回", "date": start.date().isoformat(), "start": "14:00", "end": "15:30", "capacity": 1},
        {"title": "第2回", "date": start.date().isoformat(), "start": "19:00", "end": "20:30", "capacity": 1},
    ])
    person = factories.register_person(event)
    waiting = factories.register_person(event)
    old = passes.qr_payload(person)
    promoted = signup.move(person, event.sessions[1], now=NOW)
    db.session.commit()
    assert [p.id for p in promoted] == [waiting.id] and person.session_id == event.sessions[1].id
    assert scan(event, old) == ScanResult.superseded
    assert scan(event, passes.qr_payload(person)) == ScanResult.ok
    results = [s.result for s in db.session.scalars(select(Scan).order_by(Scan.id))]
    assert results == [ScanResult.superseded, ScanResult.ok]


def test_a_move_needs_a_free_seat(make_event):
    start = factories.in_days(14)
    event = make_event(sessions=[
        {"date": start.date().isoformat(), "start": "14:00", "end": "15:30", "capacity": 1},
        {"date": start.date().isoformat(), "start": "19:00", "end": "20:30", "capacity": 0},
    ])
    person = factories.register_person(event)
    with pytest.raises(Exception, match="session_full"):
        signup.move(person, event.sessions[1], now=NOW)


def test_the_management_secret_is_found_only_whole(make_event):
    event = make_event()
    person = factories.register_person(event)
    assert passes.find_by_token(person.token).id == person.id
    for wrong in (person.token[:-1], person.token + "x", passes.qr_payload(person), "", None, person.entry_id):
        assert passes.find_by_token(wrong) is None


def test_the_public_key_verifies_a_pass_offline(make_event):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    event = make_event()
    person = factories.register_person(event)
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(passes.public_key(event) + "="))
    raw = base64.b32decode(passes.qr_payload(person)[4:])
    key.verify(raw[21:], passes.SIGNED_CONTEXT + raw[:21])  # raises if not
