"""domain.backoffice.events: the one validation, status moves, clone across DST, safe edits."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from eventreg.domain.backoffice import clone, event_checks, event_import, events, questions, sessions
from eventreg.domain.backoffice.event_checks import InvalidValues
from eventreg.domain.errors import DomainError
from eventreg.domain.people import person_keys
from eventreg.domain.registration import signup
from eventreg.extensions import db
from eventreg.models import (
    AuditEntry,
    EventStatus,
    MailKind,
    OutboxMessage,
    QuestionKind,
    Registration,
    ScheduledTask,
    Status,
    TaskKind,
)

from .. import factories

NOW = datetime.now(timezone.utc)
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")


def base_values(**overrides) -> dict:
    values = {"title": "説明会", "timezone": "Asia/Tokyo", "language": "ja", "deadline": "1d@12:00",
              "waitlist_enabled": True}
    values.update(overrides)
    return values


def a_session(day: date, **overrides) -> dict:
    values = {"title": "", "date": day.isoformat(), "doors": "13:30", "start": "14:00", "end": "17:00", "capacity": 80}
    values.update(overrides)
    return values


def problems(exc: InvalidValues) -> dict:
    return {p.field: p.code for p in exc.value.problems}


def test_every_problem_is_reported_at_once(ctx):
    with pytest.raises(InvalidValues) as exc:
        event_checks.clean_event(base_values(title="", timezone="Asia/Nowhere", deadline="soon", contact_email="x@"))
    assert problems(exc) == {"title": "required", "timezone": "unknown_timezone", "deadline": "invalid_deadline",
                             "contact_email": "invalid_email"}


@pytest.mark.parametrize("text, stored", [
    ("1d@12:00", (None, 1, "12:00")),
    ("0d@9:30", (None, 0, "09:30")),
    ("2d", (None, 2, None)),
    ("", (None, None, None)),
    ("2030-02-07 12:00", ("2030-02-07T03:00:00+00:00", None, None)),  # local to Tokyo
    ("2030-02-07T12:00+01:00", ("2030-02-07T11:00:00+00:00", None, None)),
])
def test_deadline_rule_texts(ctx, text, stored):
    cleaned = event_checks.clean_event(base_values(deadline=text))
    at = cleaned["deadline_at"].isoformat() if cleaned["deadline_at"] else None
    assert (at, cleaned["deadline_days_before"], cleaned["deadline_time"]) == stored


@pytest.mark.parametrize("overrides, field, code", [
    ({"capacity": -1}, "capacity", "capacity_negative"),
    ({"capacity": 100_001}, "capacity", "capacity_too_large"),
    ({"capacity": "1.5"}, "capacity", "not_a_number"),
    ({"capacity": True}, "capacity", "not_a_number"),
    ({"start": "17:00", "end": "14:00"}, "end", "end_before_start"),
    ({"start": "14:00", "end": "14:00"}, "end", "end_before_start"),
    ({"doors": "14:01"}, "doors", "doors_after_start"),
    ({"date": "2030-02-30"}, "date", "invalid_date"),
    ({"date": "3000-01-01"}, "date", "date_out_of_range"),
    ({"start": "24:00"}, "start", "invalid_time"),
])
def test_session_checks(ctx, overrides, field, code):
    with pytest.raises(InvalidValues) as exc:
        event_checks.clean_session(a_session(date(2030, 2, 8), **overrides), "Asia/Tokyo")
    assert problems(exc)[field] == code


def test_capacity_at_the_limits_is_accepted(ctx):
    for capacity in (0, 100_000, "100000", " 7 "):
        assert event_checks.clean_session(a_session(date(2030, 2, 8), capacity=capacity), "Asia/Tokyo")["capacity"] in (0, 100_000, 7)


def test_the_import_uses_the_same_checks(ctx):
    spec = factories.event_spec_dict(capacity=100_001)
    with pytest.raises(DomainError) as exc:
        event_import.build_event(spec)
    assert exc.value.code == "invalid_event_file" and "session 1: capacity" in exc.value.detail
    spec = factories.event_spec_dict(timezone="Mars/Olympus")
    with pytest.raises(DomainError) as exc:
        event_import.build_event(spec)
    assert "timezone" in exc.value.detail
    spec = factories.event_spec_dict(questions=[{"kind": "single", "label": "経路"}])
    with pytest.raises(DomainError) as exc:
        event_import.build_event(spec)
    assert "question 1: choices" in exc.value.detail


def test_a_new_event_ends_with_the_whole_post_event_loop(ctx):
    """The form and a YAML file without ``after_event`` make an event with all three parts on and
    its loop task scheduled; ``after_event`` turns parts off and sets the rest, with the 開催後
    tab's checks; a bad value names the key and nothing is made."""
    made = events.create_event(base_values(), actor=None, now=NOW, sessions=[a_session(date(2030, 2, 8))])
    assert (made.followup_survey, made.followup_noshow, made.followup_certificate) == (True, True, True)
    assert db.session.scalar(select(func.count()).select_from(ScheduledTask).where(
        ScheduledTask.event_id == made.id, ScheduledTask.kind == TaskKind.followup)) == 1
    spec = factories.event_spec_dict()
    del spec["after_event"]
    imported = event_import.build_event(spec)
    assert (imported.followup_survey, imported.followup_noshow, imported.followup_certificate) == (True, True, True)
    spec["after_event"] = {"rule": "終了1時間後", "certificate": False, "noshow_text": " 資料はこちら ",
                           "materials_url": "https://example.org/m"}
    imported = event_import.build_event(spec)
    assert (imported.followup_survey, imported.followup_noshow, imported.followup_certificate) == (True, True, False)
    assert (imported.followup_rule, imported.noshow_text, imported.materials_url) == (
        "end+1h", "資料はこちら", "https://example.org/m")
    for bad, named in ((["survey"], "after_event: must be a mapping"), ({"survey": "yes"}, "after_event.survey"),
                       ({"rule": "1d@10:00"}, "after_event.rule"), ({"materials_url": "ftp://x"}, "after_event.materials_url"),
                       ({"noshow_text": "あ" * 5001}, "after_event.noshow_text")):
        spec["after_event"] = bad
        with pytest.raises(DomainError) as exc:
            event_import.build_event(spec)
        assert exc.value.code == "invalid_event_file" and named in exc.value.detail, (bad, exc.value.detail)


def test_question_choices_from_lines(ctx):
    cleaned = event_checks.clean_question({"kind": "multiple", "label": "興味", "choices": "A\n\n B \r\nC"})
    assert cleaned["choices"] == ["A", "B", "C"] and cleaned["kind"] == QuestionKind.multiple
    assert event_checks.clean_question({"kind": "checkbox", "label": "案内", "choices": "x"})["choices"] == []
    with pytest.raises(InvalidValues):
        event_checks.clean_question({"kind": "single", "label": "x", "choices": "A\nA"})


def seminar(day: date, tz: str = "Asia/Tokyo", **overrides):
    event = events.create_event(base_values(timezone=tz, **overrides), actor=None, now=NOW,
                                sessions=[a_session(day)])
    db.session.commit()
    return event


@pytest.mark.parametrize("tz, first, new_first", [
    ("Asia/Tokyo", date(2030, 2, 8), date(2030, 6, 14)),
    # Berlin: from winter time (UTC+1) to summer time (UTC+2): the last Sunday of March 2030 is the 31st.
    ("Europe/Berlin", date(2030, 3, 15), date(2030, 4, 5)),
    # The copy's deadline (the day before) falls on the very day the clocks change.
    ("Europe/Berlin", date(2030, 3, 22), date(2030, 4, 1)),
    ("Europe/Berlin", date(2030, 9, 20), date(2030, 10, 28)),
])
def test_clone_keeps_local_times_and_the_day_before_at_noon(ctx, tz, first, new_first):
    event = seminar(first, tz)
    events.set_status(event, EventStatus.published, actor=None, now=NOW)
    db.session.add(Registration(**person_keys.with_keys(dict(
        event_id=event.id, session_id=event.sessions[0].id, token="t" * 32, entry_id="e" * 20, status=Status.confirmed,
        family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ", email="a@example.org",
        sector="npo", created_at=NOW))))
    db.session.commit()
    copy = clone.clone_event(event, new_first, actor=None, now=NOW)
    db.session.commit()
    zone = ZoneInfo(tz)
    [session] = copy.sessions
    local = {name: getattr(session, f"{name}_at").astimezone(zone) for name in ("doors", "starts", "ends", "closes")}
    assert local["starts"].date() == new_first
    assert [local[n].strftime("%H:%M") for n in ("doors", "starts", "ends")] == ["13:30", "14:00", "17:00"]
    assert (local["closes"].date(), local["closes"].strftime("%H:%M")) == (new_first - timedelta(days=1), "12:00")
    assert copy.status == EventStatus.draft and copy.slug != event.slug and copy.pass_key != event.pass_key
    assert session.seats_taken == 0 and events.registration_count(copy.id) == 0
    assert db.session.scalar(select(ScheduledTask.due_at).where(ScheduledTask.session_id == session.id)) == session.closes_at


def test_clone_shifts_an_absolute_deadline_and_opening_by_calendar_days(ctx):
    event = seminar(date(2030, 3, 15), "Europe/Berlin", deadline="2030-03-10 18:00",
                    registration_opens="2030-03-01 09:00")
    copy = clone.clone_event(event, "2030-04-05", actor=None, now=NOW)
    assert copy.deadline_at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == "2030-03-31 18:00"  # summer time now
    assert copy.registration_opens_at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == "2030-03-22 09:00"


def test_status_moves(ctx):
    event = events.create_event(base_values(), actor=None, now=NOW)
    with pytest.raises(DomainError) as exc:
        events.set_status(event, EventStatus.published, actor=None, now=NOW)
    assert exc.value.code == "no_sessions"
    sessions.add_session(event, a_session(date(2030, 2, 8)), actor=None, now=NOW)
    with pytest.raises(DomainError):
        events.set_status(event, EventStatus.closed, actor=None, now=NOW)  # a draft is not closed
    for target in (EventStatus.published, EventStatus.closed, EventStatus.published, EventStatus.draft):
        events.set_status(event, target, actor=None, now=NOW)
        assert event.status == target
    with pytest.raises(DomainError):
        events.set_status(event, EventStatus.closed, actor=None, now=NOW)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.event_id == event.id)
                                 .order_by(AuditEntry.id)).all()
    assert actions[-4:] == ["event_published", "event_closed", "event_reopened", "event_unpublished"]


def test_capacity_lowering_is_guarded_by_the_database(ctx):
    event = seminar(datetime.now(TOKYO).date() + timedelta(days=20))
    events.set_status(event, EventStatus.published, actor=None, now=NOW)
    db.session.commit()
    for _ in range(3):
        factories.register_person(event)
    session = event.sessions[0]
    values = {**event_checks.clean_session(a_session(session.starts_at.astimezone(TOKYO).date()), "Asia/Tokyo")}
    with pytest.raises(DomainError) as exc:
        sessions.update_session(session, a_session(session.starts_at.astimezone(TOKYO).date(), capacity=2),
                              actor=None, now=NOW)
    assert (exc.value.code, exc.value.detail) == ("capacity_below_taken", "3")
    db.session.rollback()
    assert session.capacity == values["capacity"]
    sessions.update_session(session, a_session(session.starts_at.astimezone(TOKYO).date(), capacity=3), actor=None, now=NOW)
    assert session.capacity == 3 and session.seats_taken == 3


def test_capacity_raise_promotes_in_order(ctx):
    event = seminar(datetime.now(TOKYO).date() + timedelta(days=20))
    events.set_status(event, EventStatus.published, actor=None, now=NOW)
    session = event.sessions[0]
    day = session.starts_at.astimezone(TOKYO).date()
    sessions.update_session(session, a_session(day, capacity=1), actor=None, now=NOW)
    db.session.commit()
    people = [factories.register_person(event) for _ in range(4)]
    assert [p.status for p in people] == [Status.confirmed] + [Status.waitlisted] * 3
    sessions.update_session(session, a_session(day, capacity=3), actor=None, now=NOW)
    db.session.commit()
    assert [db.session.get(Registration, p.id).status for p in people] == [Status.confirmed] * 3 + [Status.waitlisted]


def test_moving_a_session_mails_active_people_once_per_change(ctx):
    event = seminar(datetime.now(TOKYO).date() + timedelta(days=20))
    events.set_status(event, EventStatus.published, actor=None, now=NOW)
    db.session.commit()
    session = event.sessions[0]
    day = session.starts_at.astimezone(TOKYO).date()
    people = [factories.register_person(event) for _ in range(2)]
    signup.cancel(db.session.get(Registration, people[1].id), now=NOW)
    changed = sessions.update_session(session, a_session(day, start="15:00", end="18:00"), actor=None, now=NOW)
    assert changed["notified"] == [None, 1] and session.sequence == 1
    sessions.update_session(session, a_session(day, start="15:00", end="18:00", title="第1回"), actor=None, now=NOW)
    assert session.sequence == 1  # a new title is not a new time
    sessions.update_session(session, a_session(day, start="14:00", end="17:00"), actor=None, now=NOW)
    keys = db.session.scalars(select(OutboxMessage.idempotency_key)
                              .where(OutboxMessage.kind == MailKind.session_changed)).all()
    assert sorted(keys) == [f"session_changed:{session.id}:{n}:{people[0].id}" for n in (1, 2)]


def test_sessions_and_events_with_registrations_stay(ctx):
    event = seminar(datetime.now(TOKYO).date() + timedelta(days=20))
    events.set_status(event, EventStatus.published, actor=None, now=NOW)
    db.session.commit()
    person = factories.register_person(event)
    signup.cancel(db.session.get(Registration, person.id), now=NOW)
    db.session.commit()
    for change in (lambda: sessions.remove_session(event.sessions[0], actor=None, now=NOW),
                   lambda: events.delete_event(event, actor=None, now=NOW)):
        with pytest.raises(DomainError) as exc:
            change()
        assert exc.value.detail == "1"
        db.session.rollback()
    with pytest.raises(DomainError) as exc:
        events.update_event(event, base_values(timezone="Europe/Berlin"), actor=None, now=NOW)
    assert exc.value.code == "timezone_in_use"


def test_a_new_time_zone_before_anyone_registered_keeps_local_times(ctx):
    event = seminar(date(2030, 2, 8))
    events.update_event(event, base_values(timezone="Europe/Berlin"), actor=None, now=NOW)
    start = event.sessions[0].starts_at.astimezone(BERLIN)
    assert (start.date(), start.strftime("%H:%M")) == (date(2030, 2, 8), "14:00")
    assert event.sessions[0].closes_at.astimezone(BERLIN).strftime("%m-%d %H:%M") == "02-07 12:00"


def test_every_change_is_in_the_audit_log(ctx):
    user = factories.make_staff("organizer")
    event = events.create_event(base_values(), actor=user, now=NOW, sessions=[a_session(date(2030, 2, 8))])
    assert user.role_on(event.id).value == "owner"
    events.update_event(event, base_values(title="説明会(改)"), actor=user, now=NOW)
    q = questions.add_question(event, {"kind": "text", "label": "質問"}, actor=user, now=NOW)
    questions.set_question_hidden(q, True, actor=user, now=NOW)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.event_id == event.id).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["event_created", "event_edited", "question_added", "question_hidden"]
    assert entries[1].changes["title"] == ["説明会", "説明会(改)"] and entries[1].actor_name == user.name
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 4
