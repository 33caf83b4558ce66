"""The join link (domain.registration.join_links) and hybrid dates (domain.backoffice.hybrid)."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from eventreg.domain.backoffice import hybrid
from eventreg.domain.backoffice.event_checks import InvalidValues
from eventreg.domain.errors import DomainError
from eventreg.domain.registration import join_links, signup
from eventreg.extensions import db
from eventreg.models import AttendanceMode, Scan, ScanMethod, ScanResult

from .. import factories

SECRET = "test-secret"
MEETING = "https://meet.example.net/j/9876543210?pwd=distinctive"


def session_values(session, tz="Asia/Tokyo", **overrides):
    from zoneinfo import ZoneInfo

    local = {n: getattr(session, f"{n}_at").astimezone(ZoneInfo(tz)) for n in ("doors", "starts", "ends")}
    values = {"title": session.title, "date": local["starts"].date().isoformat(),
              "doors": local["doors"].strftime("%H:%M"), "start": local["starts"].strftime("%H:%M"),
              "end": local["ends"].strftime("%H:%M"), "capacity": str(session.capacity)}
    values.update(overrides)
    return values


def register(session):
    """A committed registration for ``session`` (the twin shares its start: never by index)."""
    outcome = signup.register(session, factories.applicant(), now=datetime.now(timezone.utc))
    db.session.commit()
    return outcome.registration


def hybrid_event(make_event, onsite=30, online=300):
    """An event whose one date is on site (``onsite`` seats) and online (``online`` seats)."""
    event = make_event(capacity=onsite)
    now = datetime.now(timezone.utc)
    hybrid.apply_mode(event.sessions[0], {**session_values(event.sessions[0]), "mode": "both",
                                          "online_capacity": str(online), "meeting_url": MEETING},
                      actor=None, now=now)
    db.session.commit()
    db.session.refresh(event)
    return event


def test_both_makes_an_online_twin_with_its_own_seats(make_event):
    event = hybrid_event(make_event)
    onsite, online = event.sessions[0], hybrid.twin_of(event.sessions[0])
    assert onsite.attendance_mode == AttendanceMode.onsite and onsite.meeting_url is None
    assert online.attendance_mode == AttendanceMode.online and online.hybrid_of_id == onsite.id
    assert (online.capacity, onsite.capacity) == (300, 30)
    assert (online.doors_at, online.starts_at, online.ends_at, online.closes_at) == (
        onsite.doors_at, onsite.starts_at, onsite.ends_at, onsite.closes_at)
    assert hybrid.mode_of(onsite) == "both" and hybrid.meeting_url_set(onsite)


def test_the_twin_follows_its_session_and_keeps_its_url(make_event):
    from eventreg.domain.backoffice import sessions

    event = hybrid_event(make_event)
    onsite = event.sessions[0]
    now = datetime.now(timezone.utc)
    values = session_values(onsite, title="第1回", start=(onsite.starts_at + timedelta(hours=1)).astimezone(
        factories.JST).strftime("%H:%M"), end="23:00")
    sessions.update_session(onsite, values, actor=None, now=now)
    hybrid.apply_mode(onsite, {**values, "mode": "both", "online_capacity": "250", "meeting_url": ""},
                      actor=None, now=now)
    db.session.commit()
    online = hybrid.twin_of(onsite)
    assert (online.title, online.starts_at, online.ends_at, online.closes_at, online.capacity) == (
        "第1回", onsite.starts_at, onsite.ends_at, onsite.closes_at, 250)
    assert online.meeting_url == MEETING  # an empty field keeps the URL set


def test_a_bad_meeting_url_is_refused(make_event):
    event = make_event()
    for bad in ("javascript:alert(1)", "meet.example.net/x", "https://a b", "https://x/" + "a" * 2000):
        with pytest.raises(InvalidValues) as exc:
            hybrid.apply_mode(event.sessions[0], {"mode": "online", "meeting_url": bad}, actor=None,
                              now=datetime.now(timezone.utc))
        assert exc.value.problems[0].field == "meeting_url"
    assert event.sessions[0].meeting_url is None


def test_back_to_on_site_removes_an_empty_twin_but_not_one_with_people(make_event):
    event = hybrid_event(make_event)
    onsite = event.sessions[0]
    register(hybrid.twin_of(onsite))
    with pytest.raises(DomainError) as exc:
        hybrid.apply_mode(onsite, {"mode": "onsite"}, actor=None, now=datetime.now(timezone.utc))
    assert exc.value.code == "session_has_registrations"
    db.session.rollback()
    other = hybrid_event(make_event)
    hybrid.apply_mode(other.sessions[0], {"mode": "onsite"}, actor=None, now=datetime.now(timezone.utc))
    db.session.commit()
    assert hybrid.twin_of(other.sessions[0]) is None


def online_person(make_event):
    event = hybrid_event(make_event)
    person = register(hybrid.twin_of(event.sessions[0]))
    assert person.session.attendance_mode == AttendanceMode.online
    return event, person


def openings(person):
    return db.session.scalars(select(Scan).where(Scan.registration_id == person.id).order_by(Scan.id)).all()


def test_the_window_and_the_online_check_in(make_event):
    event, person = online_person(make_event)
    session = person.session
    found = join_links.find(join_links.key(person, SECRET), SECRET)
    assert found.registration.id == person.id and found.current

    early = join_links.open_link(found, now=session.doors_at - timedelta(seconds=1))
    assert early.result == "too_early" and person.checked_in_at is None
    first = join_links.open_link(found, now=session.doors_at)
    assert first.result == join_links.REDIRECT and first.checked_in
    assert person.checked_in_at == session.doors_at and person.checked_in_desk == "online"
    again = join_links.open_link(found, now=session.starts_at)
    assert again.result == join_links.REDIRECT and not again.checked_in
    assert person.checked_in_at == session.doors_at  # the first opening is the check-in
    late = join_links.open_link(found, now=session.ends_at)
    assert late.result == "join_ended"
    db.session.commit()
    log = openings(person)
    assert [(s.result, s.method, s.desk) for s in log] == [
        (ScanResult.too_early, ScanMethod.join, "online"), (ScanResult.ok, ScanMethod.join, "online"),
        (ScanResult.already_checked_in, ScanMethod.join, "online"), (ScanResult.join_ended, ScanMethod.join, "online")]


def test_cancel_and_move_kill_the_link_at_once(make_event):
    event, person = online_person(make_event)
    inside = person.session.starts_at
    key = join_links.key(person, SECRET)
    moved = register(person.session)
    moved_key = join_links.key(moved, SECRET)
    signup.cancel(person, now=datetime.now(timezone.utc))
    signup.move(moved, db.session.get(type(person.session), person.session.hybrid_of_id), now=datetime.now(timezone.utc))
    db.session.commit()
    assert join_links.open_link(join_links.find(key, SECRET), now=inside).result == "cancelled"
    assert join_links.open_link(join_links.find(moved_key, SECRET), now=inside).result == "superseded"
    # The moved person's new key is for an on-site seat: no meeting behind it.
    assert join_links.open_link(join_links.find(join_links.key(moved, SECRET), SECRET), now=inside).result == (
        "wrong_session")
    assert person.checked_in_at is None and moved.checked_in_at is None


def test_keys_are_personal(make_event):
    event, person = online_person(make_event)
    other = register(person.session)
    key = join_links.key(person, SECRET)
    number, proof = key.split(".")
    assert join_links.find(f"{other.id}.{proof}", SECRET) is None  # one's proof opens nothing of another's
    assert join_links.find(key, "another-secret") is None
    for junk in ("", ".", "1", "x.y", "-1.abc", "1" * 11 + ".a", key + "x", "١٢." + proof, "9" * 10 + "." + proof):
        assert join_links.find(junk, SECRET) is None
