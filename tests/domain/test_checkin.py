from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from eventreg.domain import checkin, passes
from eventreg.domain import registration as registrations
from eventreg.domain.errors import DomainError
from eventreg.extensions import db
from eventreg.models import Scan, ScanResult

from .. import factories

NOW = datetime(2030, 2, 8, 4, 42, tzinfo=timezone.utc)  # 13:42 JST


def scan(event, payload, **kw):
    kw.setdefault("method", "camera")
    kw.setdefault("desk", "desk 1")
    kw.setdefault("user_id", None)
    outcome = checkin.scan(payload, event=event, now=NOW, **kw)
    db.session.commit()
    return outcome


def test_scan_outcomes_and_the_log(make_event):
    event = make_event(capacity=1)
    other = make_event()
    first = factories.register_person(event)
    waiting = factories.register_person(event)
    stranger = factories.register_person(other)
    cancelled = factories.register_person(other)
    registrations.cancel(cancelled, now=datetime.now(timezone.utc))
    db.session.commit()

    assert scan(event, passes.qr_payload(first)).result == ScanResult.ok
    again = scan(event, passes.qr_payload(first).lower(), desk="desk 2")  # a scanner may change the case
    assert again.result == ScanResult.already_checked_in
    assert again.registration.checked_in_desk == "desk 1" and again.registration.checked_in_at == NOW
    assert scan(event, passes.qr_payload(waiting)).result == ScanResult.waitlisted
    wrong = scan(event, passes.qr_payload(stranger))
    assert wrong.result == ScanResult.wrong_event and wrong.registration is None
    assert scan(other, passes.qr_payload(cancelled)).result == ScanResult.cancelled
    assert scan(event, "ER1:" + first.token).result == ScanResult.unknown_pass  # the old format
    assert scan(event, "<script>").result == ScanResult.unknown_pass

    log = db.session.scalars(select(Scan).order_by(Scan.id)).all()
    assert [s.result for s in log] == [
        ScanResult.ok, ScanResult.already_checked_in, ScanResult.waitlisted, ScanResult.wrong_event,
        ScanResult.cancelled, ScanResult.unknown_pass, ScanResult.unknown_pass]
    assert log[3].registration_id is None  # another event's attendee is not linked
    assert all(first.token not in (s.token_hash or "") and first.entry_id not in s.token_hash for s in log)
    assert log[0].token_hash == passes.token_hash(first.entry_id)


def test_wrong_session(make_event):
    start = factories.in_days(14)
    event = make_event(sessions=[
        {"title": "第1回", "date": start.date().isoformat(), "start": "14:00", "end": "15:30", "capacity": 5},
        {"title": "第2回", "date": start.date().isoformat(), "start": "19:00", "end": "20:30", "capacity": 5},
    ])
    person = factories.register_person(event, session_index=1)
    outcome = scan(event, passes.qr_payload(person), session_id=event.sessions[0].id)
    assert outcome.result == ScanResult.wrong_session and outcome.registration.id == person.id
    assert scan(event, passes.qr_payload(person), session_id=event.sessions[1].id).ok


def test_undo_then_check_in_again(make_event):
    event = make_event()
    person = factories.register_person(event)
    scan(event, passes.qr_payload(person))
    checkin.undo(person.id, event=event, desk="desk 1", user_id=None, now=NOW)
    db.session.commit()
    assert person.checked_in_at is None
    with pytest.raises(DomainError, match="not_checked_in"):
        checkin.undo(person.id, event=event, desk="desk 1", user_id=None, now=NOW)
    db.session.rollback()
    assert scan(event, passes.qr_payload(person)).ok
    assert [s.result for s in db.session.scalars(select(Scan).order_by(Scan.id))] == [
        ScanResult.ok, ScanResult.undone, ScanResult.ok]


def test_counts_and_walk_ins(make_event):
    event = make_event(capacity=3)
    a = factories.register_person(event)
    factories.register_person(event)
    scan(event, passes.qr_payload(a))
    walked = checkin.walk_in(event.sessions[0], factories.applicant(email=None), desk="desk 1",
                             user_id=None, now=NOW)
    db.session.commit()
    assert walked.walk_in and walked.checked_in_at == NOW and walked.email is None
    assert checkin.counts(event.id) == {"expected": 3, "checked_in": 2, "walk_ins": 1}
    with pytest.raises(DomainError, match="session_full"):
        checkin.walk_in(event.sessions[0], factories.applicant(), desk="d", user_id=None, now=NOW)


@pytest.mark.parametrize(("query", "row", "expected"), [
    ("やまだ", None, ["ヤマダ"]),          # hiragana finds katakana
    ("ﾔﾏ", None, ["ヤマダ"]),              # half-width, partial
    ("山田 花子", None, ["ヤマダ"]),        # name with a space
    ("育て上げ", None, ["ヤマダ"]),         # organization
    ("SUZUKI@", None, ["スズキ"]),          # email, any case
    ("", "sa", ["スズキ"]),                 # kana row さ
    ("", "a", ["イトウ"]),                  # kana row あ
    ("100%", None, []),                    # LIKE wildcards are literal
])
def test_search(make_event, query, row, expected):
    event = make_event()
    factories.register_person(event, family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ")
    factories.register_person(event, family_name="鈴木", given_name="一郎", family_kana="スズキ", given_kana="イチロウ",
                              email="suzuki@example.org", organization="ACME")
    factories.register_person(event, family_name="伊藤", given_name="翼", family_kana="イトウ", given_kana="ツバサ",
                              organization="市役所")
    found = checkin.search(event.id, query, kana_row=row)
    assert [r.family_kana for r in found] == expected
