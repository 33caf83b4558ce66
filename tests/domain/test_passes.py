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


def digits_of(body: bytes) -> str:
    """A format 3 text for these body bytes, as the contract writes it (not passes' own code)."""
    return "3" + str(int.from_bytes(b"\x01" + body, "big"))


def uleb128(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def body_of(payload: str) -> bytes:
    number = int(payload[1:])
    return number.to_bytes((number.bit_length() + 7) // 8, "big")[1:]


def test_the_credential_is_digits_signed_and_holds_no_secret(make_event):
    event = make_event()
    person = factories.register_person(event, family_name="山田", email="yamada@example.org")
    payload = passes.qr_payload(person)
    assert payload.isascii() and payload.isdigit() and payload[0] == "3" and len(payload) <= 165
    assert person.token not in payload and person.entry_id not in payload
    credential = passes.parse(payload)
    assert (credential.format, credential.registration_id, credential.entry_version) == (3, person.id, 1)
    assert passes.verify(credential, event.pass_key, event.id)
    assert not passes.verify(credential, "another seed", event.id)
    assert not passes.verify(credential, event.pass_key, event.id + 1)  # the event id is signed
    assert passes.find_entry(credential).id == person.id
    assert passes.parse(payload + "\r\n") == credential  # a keyboard-wedge scanner's Enter


@pytest.mark.parametrize(("registration_id", "entry_version"), [
    (0, 0), (1, 1), (127, 1), (128, 2), (16383, 3), (16384, 4), (2**31 - 1, 2**32 - 1), (2**32 - 1, 2**32 - 1)])
def test_format_3_round_trips(registration_id, entry_version):
    payload = passes.sign_pass("a seed", 2**31 - 1, registration_id, entry_version)
    credential = passes.parse(payload)
    assert (credential.registration_id, credential.entry_version) == (registration_id, entry_version)
    assert passes.verify(credential, "a seed", 2**31 - 1) and len(payload) <= 182


def test_every_flipped_bit_is_refused(make_event):
    event = make_event()
    person = factories.register_person(event)
    factories.register_person(event)  # a neighbour id a flipped bit may point at
    good = passes.qr_payload(person)
    body = body_of(good)
    for bit in range(len(body) * 8):
        flipped = bytearray(body)
        flipped[bit // 8] ^= 1 << (bit % 8)
        credential = passes.parse(digits_of(bytes(flipped)))
        assert credential is None or passes.find_entry(credential) is None, bit
    for at in range(1, len(good)):  # a digit misread
        changed = good[:at] + str((int(good[at]) + 1) % 10) + good[at + 1:]
        credential = passes.parse(changed)
        assert credential is None or passes.find_entry(credential) is None, at
    assert passes.find_entry(passes.parse(good)).id == person.id


def test_one_pass_has_one_text(make_event):
    event = make_event()
    person = factories.register_person(event)
    good = passes.qr_payload(person)
    body = body_of(good)
    head = uleb128(person.id) + uleb128(1)
    assert body[:len(head)] == head
    short = uleb128(person.id)
    padded = short[:-1] + bytes([short[-1] | 0x80, 0x00]) + body[len(short):]  # the same id in one more byte
    for text in (digits_of(padded), "30" + good[1:], good + "0", good[:-1], "3", "3" * 400,
                 "３" + good[1:], good.replace("1", "١"), digits_of(body + b"\x00"), digits_of(body[:-1])):
        assert passes.parse(text) is None, text


def test_a_tampered_or_foreign_signature_is_an_unknown_pass(make_event):
    event = make_event()
    person = factories.register_person(event)
    good = passes.qr_payload(person)
    forged = passes.sign_pass("not the event's seed", event.id, person.id, person.entry_version)
    signature = body_of(good)[-64:]
    # entry version 1 -> 0 (the old pass a desk would call cancelled), signature kept
    older = digits_of(uleb128(person.id) + uleb128(0) + signature)
    bad_signature = digits_of(uleb128(person.id) + uleb128(1) + signature[:-1] + bytes([signature[-1] ^ 0x80]))
    neighbour = factories.register_person(event)
    other_id = digits_of(uleb128(neighbour.id) + uleb128(1) + signature)  # another person, this signature
    for payload in (forged, older, bad_signature, other_id, good[:-8], "ER1:" + person.token, person.token,
                    "ER2:", "ER2:!!!", "ER2:" + "A" * 136, "3", ""):
        assert scan(event, payload) == ScanResult.unknown_pass, payload
    assert person.checked_in_at is None
    assert scan(event, good) == ScanResult.ok


def test_a_valid_pass_of_another_event_is_wrong_event(make_event):
    event, other = make_event(), make_event()
    theirs = factories.register_person(other)
    for payload in (passes.qr_payload(theirs),
                    passes.sign_er2(other.pass_key, other.id, theirs.entry_id, theirs.entry_version)):
        assert scan(event, payload) == ScanResult.wrong_event
    # Signed with this event's key for that registration: the server verifies with the
    # registration's own event, so this is a forgery, not a pass of this event.
    assert scan(event, passes.sign_pass(event.pass_key, event.id, theirs.id, 1)) == ScanResult.unknown_pass
    assert theirs.checked_in_at is None


def test_er2_passes_already_mailed_keep_working(make_event):
    event = make_event()
    person = factories.register_person(event)
    mailed = passes.sign_er2(event.pass_key, event.id, person.entry_id, person.entry_version)
    assert mailed.startswith("ER2:") and len(mailed) == 140
    credential = passes.parse(mailed.lower())
    assert (credential.format, credential.event_id, credential.entry_id) == (2, event.id, person.entry_id)
    raw = bytearray(base64.b32decode(mailed[4:]))
    raw[-1] ^= 0x80
    assert scan(event, "ER2:" + base64.b32encode(bytes(raw)).decode()) == ScanResult.unknown_pass
    assert scan(event, passes.sign_er2("another seed", event.id, person.entry_id, 1)) == ScanResult.unknown_pass
    assert scan(event, mailed) == ScanResult.ok
    assert scan(event, passes.qr_payload(person)) == ScanResult.already_checked_in  # the same person
    signup.cancel(person, now=NOW)
    db.session.commit()
    assert scan(event, mailed) == ScanResult.cancelled


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
    """What a desk does with the key alone, written from the contract (docs/api.md), not passes'."""
    import struct

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    event = make_event()
    person = factories.register_person(event)
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(passes.public_key(event) + "="))
    body = body_of(passes.qr_payload(person))
    head = uleb128(person.id) + uleb128(1)
    assert body[:len(head)] == head and len(body) == len(head) + 64
    message = b"eventreg pass v3\x00" + struct.pack(">III", event.id, person.id, 1)
    key.verify(body[len(head):], message)  # raises if not
