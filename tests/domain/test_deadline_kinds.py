"""Every kind of deadline (issue 16): days before, business days before (Japanese holidays,
振替休日, Golden Week, the year-end closing), hours before (across midnight and DST), absolute,
none; a session's own deadline over the event's; never after the start; and the structured
form's parts read by the one rule reader."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from eventreg.domain.backoffice import clone, event_checks, sessions
from eventreg.domain.errors import DomainError
from eventreg.domain.registration import signup
from eventreg.domain.timing import business_days, deadlines, rules
from eventreg.domain.timing.rules import TimeRule
from eventreg.extensions import db
from eventreg.models import Event, EventSession

from .. import factories

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc


def at(zone, *parts) -> datetime:
    return datetime(*parts, tzinfo=zone)


def closes(rule: TimeRule | None, starts: datetime, tz: str = "Asia/Tokyo") -> datetime:
    return deadlines.closes_at(rule, starts, tz)


# --- each kind ------------------------------------------------------------------------------------

def test_days_before_at_a_time():
    assert closes(rules.parse("1d@12:00"), at(TOKYO, 2026, 3, 4, 14)) == at(TOKYO, 2026, 3, 3, 12)


def test_business_days_skip_the_weekend():
    # Monday 9 March 2026, 3 business days before at 17:00: Fri 6 (1), Thu 5 (2), Wed 4 (3).
    assert closes(rules.parse("3bd@17:00"), at(TOKYO, 2026, 3, 9, 14)) == at(TOKYO, 2026, 3, 4, 17)


def test_business_days_skip_a_substitute_holiday():
    # 勤労感謝の日 fell on Sunday 23 November 2025: Monday 24 was 振替休日. One business day before
    # Tuesday 25 is Friday 21.
    assert business_days.is_business_day(date(2025, 11, 24)) is False
    assert closes(TimeRule.business_days_before(1, "12:00"), at(TOKYO, 2025, 11, 25, 14)) == at(TOKYO, 2025, 11, 21, 12)
    # 春分の日 on Sunday 21 March 2027: Monday 22 is 振替休日 too.
    assert business_days.before(date(2027, 3, 23), 1) == date(2027, 3, 19)


def test_business_days_skip_golden_week():
    # Thursday 7 May 2026: 6 (振替休日), 5, 4, 3 (holidays), 2–3 weekend, Fri 1 May (1),
    # Thu 30 April (2), 29 April 昭和の日, Tue 28 April (3).
    assert closes(rules.parse("3営業日前の17:00"), at(TOKYO, 2026, 5, 7, 14)) == at(TOKYO, 2026, 4, 28, 17)


def test_business_days_skip_the_year_end_closing():
    # Tuesday 5 January 2027: Mon 4 (1), 3 Jan … 29 Dec closed, Mon 28 Dec 2026 (2).
    assert [business_days.is_business_day(date(2026, 12, d)) for d in (28, 29, 30, 31)] == [True, False, False, False]
    assert closes(rules.parse("2bd@10:00"), at(TOKYO, 2027, 1, 5, 14)) == at(TOKYO, 2026, 12, 28, 10)


def test_business_days_count_the_events_local_dates():
    # 09:00 Monday 11 May 2026 in New York is 22:00 Monday in Tokyo; in New York's calendar one
    # business day before is Friday 8 May (the date of the session there, not Tokyo's).
    assert closes(rules.parse("1bd@17:00"), at(NEW_YORK, 2026, 5, 11, 9), "America/New_York") == at(NEW_YORK, 2026, 5, 8, 17)


def test_hours_before_across_midnight():
    # A 01:00 start, 2 hours before: 23:00 the day before.
    assert closes(rules.parse("開始2時間前"), at(TOKYO, 2026, 3, 4, 1)) == at(TOKYO, 2026, 3, 3, 23)


@pytest.mark.parametrize("starts, expected", [
    # Clocks go forward on Sunday 8 March 2026 at 02:00 in New York: 03:30 EDT minus 2 elapsed
    # hours is 00:30 EST (the wall clock moved 3 hours).
    (at(NEW_YORK, 2026, 3, 8, 3, 30), at(NEW_YORK, 2026, 3, 8, 0, 30)),
    # Clocks go back on Sunday 1 November 2026 at 02:00: 02:30 EST minus 2 hours is 01:30 EDT
    # (the first 01:30 of that night).
    (at(NEW_YORK, 2026, 11, 1, 2, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
])
def test_hours_before_are_elapsed_hours_across_a_dst_change(starts, expected):
    got = closes(TimeRule.hours_before(2), starts, "America/New_York")
    assert got == expected and starts - got == timedelta(hours=2)


def test_absolute_and_none():
    starts = at(TOKYO, 2026, 3, 4, 14)
    assert closes(rules.parse("2026-03-01 18:00", zone=TOKYO), starts) == at(TOKYO, 2026, 3, 1, 18)
    assert closes(None, starts) == starts


@pytest.mark.parametrize("rule", [
    TimeRule.absolute(at(TOKYO, 2026, 3, 10, 9)),  # after the start
    TimeRule.days_before(0, "23:00"),  # on the day, after a 14:00 start
    TimeRule.hours_before(0),
])
def test_a_deadline_never_falls_after_the_start(rule):
    starts = at(TOKYO, 2026, 3, 4, 14)
    assert closes(rule, starts) == starts


# --- the rule text and the form's parts ------------------------------------------------------------

@pytest.mark.parametrize("typed, text", [
    ("前日12:00", "1d@12:00"), ("前日の12:00", "1d@12:00"), ("当日9:00", "0d@09:00"), ("前日", "1d"),
    ("3日前の17:00", "3d@17:00"), ("開始の1日前の12時", "1d@12:00"), ("３営業日前の１７：００", "3bd@17:00"),
    ("2時間前", "2h"), ("開始1.5時間前", "1.5h"), ("3bd@17:00", "3bd@17:00"), ("3bd", "3bd"),
])
def test_rules_as_people_write_them(typed, text):
    assert rules.parse(typed).text() == text
    assert rules.parse(text) == rules.parse(typed)


# What is not a rule (0bd, 前日25:00, 12時 …): tests/domain/test_rules.py's table of bad text.


@pytest.mark.parametrize("kind, parts, text", [
    ("days_before", {"days": "1", "at": "12:00"}, "1d@12:00"),
    ("business_days_before", {"days": "３", "at": "17:00"}, "3bd@17:00"),
    ("hours_before", {"hours": "2"}, "2h"),
    ("hours_before", {"hours": "1.5"}, "1.5h"),
    ("absolute", {"when": "2026-03-03T12:00"}, "2026-03-03T12:00+09:00"),
])
def test_the_forms_parts_make_the_same_rules(kind, parts, text):
    assert rules.from_parts(kind, zone=TOKYO, **parts).text() == text
    assert rules.from_parts("none") is None


@pytest.mark.parametrize("kind, parts, code", [
    ("days_before", {"days": "x", "at": "12:00"}, "deadline_days"),
    ("days_before", {"days": "1000", "at": "12:00"}, "deadline_days"),
    ("days_before", {"days": "1", "at": "24:00"}, "deadline_time"),
    ("business_days_before", {"days": "0", "at": "17:00"}, "deadline_business_days"),
    ("business_days_before", {"days": "3", "at": ""}, "deadline_time"),
    ("hours_before", {"hours": "-2"}, "deadline_hours"),
    ("hours_before", {"hours": "1.234"}, "deadline_hours"),
    ("absolute", {"when": "soon"}, "deadline_datetime"),
    ("absolute", {"when": "1d@12:00"}, "deadline_datetime"),
    ("tomorrow", {}, "deadline_kind"),
])
def test_a_wrong_part_names_itself(kind, parts, code):
    with pytest.raises(DomainError) as caught:
        rules.from_parts(kind, zone=TOKYO, **parts)
    assert caught.value.code == code


def test_the_event_checks_store_each_kind(ctx):
    base = {"title": "T", "timezone": "Asia/Tokyo", "language": "ja"}
    hours = event_checks.clean_event({**base, "deadline": {"kind": "hours_before", "hours": "2"}}, unique_slug=False)
    assert hours["deadline_hours_before"] == 2 and hours["deadline_days_before"] is None
    business = event_checks.clean_event({**base, "deadline": "3営業日前の17:00"}, unique_slug=False)
    assert (business["deadline_days_before"], business["deadline_time"], business["deadline_business_days"]) == (3, "17:00", True)
    with pytest.raises(event_checks.InvalidValues) as caught:
        event_checks.clean_event({**base, "deadline": {"kind": "days_before", "days": "one", "at": "12:00"}}, unique_slug=False)
    assert [(p.field, p.code) for p in caught.value.problems] == [("deadline", "deadline_days")]


# --- a session's own deadline -----------------------------------------------------------------------

def event_with(**columns) -> Event:
    return Event(timezone="Asia/Tokyo", **{**deadlines.NO_EVENT_RULE, "deadline_days_before": 1,
                                           "deadline_time": "12:00", **columns})


def session_with(**columns) -> EventSession:
    return EventSession(**{"starts_at": at(TOKYO, 2026, 3, 4, 14), "deadline_at": None, "deadline_rule": None, **columns})


@pytest.mark.parametrize("own, expected", [
    ({}, at(TOKYO, 2026, 3, 3, 12)),  # the event's 前日12:00
    ({"deadline_rule": "2h"}, at(TOKYO, 2026, 3, 4, 12)),
    ({"deadline_rule": "3bd@17:00"}, at(TOKYO, 2026, 2, 27, 17)),
    ({"deadline_rule": "0h"}, at(TOKYO, 2026, 3, 4, 14)),  # until the start, whatever the event says
    ({"deadline_at": at(TOKYO, 2026, 2, 20, 9)}, at(TOKYO, 2026, 2, 20, 9)),
    ({"deadline_rule": "not a rule"}, at(TOKYO, 2026, 3, 3, 12)),  # never stored by the forms: the event's
])
def test_a_sessions_own_deadline_wins_over_the_events(own, expected):
    assert deadlines.deadline_for(event_with(), session_with(**own)) == expected


def test_resolved_says_which_sessions_decide_themselves():
    event = event_with()
    plain, own = session_with(), session_with(deadline_rule="2h")
    candidate = rules.parse("2d@17:00")
    assert deadlines.resolved(event, candidate, [plain, own]) == [
        (plain, at(TOKYO, 2026, 3, 2, 17), False), (own, at(TOKYO, 2026, 3, 4, 12), True)]


def test_the_stored_window_follows_the_sessions_own_deadline_and_the_seat_update_checks_it(ctx):
    event = factories.make_event(start=factories.in_days(10), capacity=5)
    session = event.sessions[0]
    values = {"title": "", "date": session.starts_at.astimezone(TOKYO).date().isoformat(), "doors": "13:30",
              "start": "14:00", "end": "17:00", "capacity": "5", "deadline": {"kind": "hours_before", "hours": "3"}}
    changed = sessions.update_session(session, values, actor=None, now=datetime.now(UTC))
    db.session.commit()
    assert "deadline_rule" in changed and session.deadline_rule == "3h"
    assert session.closes_at == session.starts_at - timedelta(hours=3)
    # The event's rule would have closed it the day before at noon: now it is still open then …
    day_before_1300 = session.starts_at - timedelta(hours=25)
    outcome = signup.register(session, factories.applicant(email="late@example.org"), now=day_before_1300)
    assert outcome.result == signup.Result.confirmed
    # … and closed from 3 hours before the start, by the stored window.
    with pytest.raises(DomainError) as caught:
        signup.register(session, factories.applicant(email="later@example.org"),
                        now=session.starts_at - timedelta(hours=3))
    assert caught.value.code == "registration_closed"
    db.session.rollback()


def test_a_copy_keeps_each_kind_and_the_sessions_own_deadline(ctx):
    event = factories.make_event(start=factories.in_days(10), deadline="3bd@17:00")
    session = event.sessions[0]
    session.deadline_at = session.starts_at - timedelta(days=2)
    deadlines.resolve_window(event, session)
    db.session.commit()
    first = (session.starts_at + timedelta(days=28)).astimezone(TOKYO).date()
    copy = clone.clone_event(event, first.isoformat(), actor=None, now=datetime.now(UTC))
    db.session.commit()
    assert (copy.deadline_days_before, copy.deadline_time, copy.deadline_business_days) == (3, "17:00", True)
    [copied] = copy.sessions
    assert copied.deadline_at == session.deadline_at + timedelta(days=28)  # moved with its session
    assert copied.closes_at == copied.deadline_at
