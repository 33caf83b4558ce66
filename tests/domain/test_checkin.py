from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from eventreg.domain.communication import building_list
from eventreg.domain.errors import DomainError
from eventreg.domain.reception import checkin, desk_search, walk_ins
from eventreg.domain.registration import passes, signup
from eventreg.extensions import db
from eventreg.models import Registration, Scan, ScanResult

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
    signup.cancel(cancelled, now=datetime.now(timezone.utc))
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


def test_a_walk_in_is_checked_in_at_once_and_needs_a_seat(make_event):
    event = make_event(capacity=2)
    factories.register_person(event)
    walked = walk_ins.walk_in(event.sessions[0], factories.applicant(email=None), desk="desk 1",
                             user_id=None, now=NOW)
    db.session.commit()
    assert walked.walk_in and walked.checked_in_at == NOW and walked.email is None
    with pytest.raises(DomainError, match="session_full"):
        walk_ins.walk_in(event.sessions[0], factories.applicant(), desk="d", user_id=None, now=NOW)


def test_a_second_walk_in_of_the_same_name_asks_first(make_event):
    event = make_event(capacity=10)
    session = event.sessions[0]
    walker = factories.applicant(family_name="高橋", given_name="四郎", email=None)
    first = walk_ins.walk_in(session, walker, desk="受付1", user_id=None, now=NOW)
    db.session.commit()

    with pytest.raises(walk_ins.DuplicateWalkIn) as asked:
        walk_ins.walk_in(session, walker, desk="受付2", user_id=None, now=NOW)
    assert asked.value.code == "walk_in_duplicate" and asked.value.existing.id == first.id
    db.session.rollback()
    assert session.seats_taken == 1  # the question took no seat (the rollback gave it back)
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 1
    assert [s.result for s in db.session.scalars(select(Scan))] == [ScanResult.walk_in]  # nothing logged

    again = walk_ins.walk_in(session, walker, desk="受付2", user_id=None, now=NOW, confirm=True)
    db.session.commit()
    assert again.id != first.id and again.walk_in
    assert db.session.get(type(session), session.id).seats_taken == 2


@pytest.mark.parametrize(("first", "second", "asks"), [
    ({}, {}, True),                                                   # same name, no email
    ({"email": "a@example.org"}, {"email": "a@example.org"}, True),   # same name and email, another session
    ({"email": "a@example.org"}, {}, True),                           # the second gave no email: name decides
    ({}, {"email": "a@example.org"}, False),                          # an email the first did not have
    ({"email": "a@example.org"}, {"email": "b@example.org"}, False),  # another email: another person
    ({}, {"given_name": "五郎"}, False),                              # another given name
])
def test_what_counts_as_the_same_walk_in(make_event, first, second, asks):
    start = factories.in_days(14)
    event = make_event(sessions=[
        {"date": start.date().isoformat(), "start": "14:00", "end": "15:30", "capacity": 5},
        {"date": start.date().isoformat(), "start": "19:00", "end": "20:30", "capacity": 5},
    ])
    base = dict(family_name="高橋", given_name="四郎", email=None)
    walk_ins.walk_in(event.sessions[0], factories.applicant(**{**base, **first}), desk="d", user_id=None, now=NOW)
    db.session.commit()
    applicant = factories.applicant(**{**base, **second})
    if asks:
        with pytest.raises(walk_ins.DuplicateWalkIn):
            walk_ins.walk_in(event.sessions[1], applicant, desk="d", user_id=None, now=NOW)
    else:
        assert walk_ins.walk_in(event.sessions[1], applicant, desk="d", user_id=None, now=NOW).walk_in


def test_same_walk_in_elsewhere_or_cancelled_or_preregistered_is_not_asked(make_event):
    event, other = make_event(capacity=5), make_event(capacity=5)
    walker = factories.applicant(family_name="高橋", given_name="四郎", email=None)
    walk_ins.walk_in(other.sessions[0], walker, desk="d", user_id=None, now=NOW)  # another event
    factories.register_person(event, family_name="高橋", given_name="四郎")        # registered, not a walk-in
    cancelled = walk_ins.walk_in(event.sessions[0], factories.applicant(family_name="高橋", given_name="四郎",
                                                                       email="x@example.org"),
                                desk="d", user_id=None, now=NOW)
    signup.cancel(cancelled, now=datetime.now(timezone.utc))
    db.session.commit()
    assert walk_ins.walk_in(event.sessions[0], walker, desk="d", user_id=None, now=NOW).walk_in


def test_same_email_same_session_is_refused_not_asked(make_event):
    event = make_event(capacity=5)
    walker = factories.applicant(family_name="高橋", given_name="四郎", email="walker@example.org")
    walk_ins.walk_in(event.sessions[0], walker, desk="d", user_id=None, now=NOW)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        walk_ins.walk_in(event.sessions[0], walker, desk="d", user_id=None, now=NOW)
    assert refused.value.code == "already_registered"
    db.session.rollback()
    with pytest.raises(DomainError, match="already_registered"):
        walk_ins.walk_in(event.sessions[0], walker, desk="d", user_id=None, now=NOW, confirm=True)


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
    found = desk_search.find(event.id, query, kana_row=row)
    assert [r.family_kana for r in found] == expected


# ---- the building-security list marker ---------------------------------------------------------

def marked(registration) -> bool:
    return registration.id in desk_search.not_on_security_list([registration])


def test_not_on_the_security_list_once_it_was_sent(make_event):
    event = make_event(capacity=10)
    event.security_email = "security@venue.example"
    session = event.sessions[0]
    on_time = factories.register_person(event)
    db.session.commit()
    assert marked(on_time) is False  # nothing sent yet: no marker

    sent_at = datetime.now(timezone.utc)
    assert building_list.send_full(session, trigger="manual", now=sent_at) is not None
    late = factories.register_person(event, family_name="遅野", family_kana="オソノ")  # after the list went out
    walked = walk_ins.walk_in(session, factories.applicant(family_name="当日", email=None), desk="d",
                             user_id=None, now=sent_at)
    db.session.commit()
    assert marked(on_time) is False
    assert marked(late) is True
    assert marked(walked) is True
    signup.cancel(late, now=datetime.now(timezone.utc))
    db.session.commit()
    assert marked(late) is False  # turned away anyway: no second warning

    # Another session's list says nothing about this one.
    other = make_event()
    elsewhere = factories.register_person(other)
    assert marked(elsewhere) is False
