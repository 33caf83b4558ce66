"""The one time-rule type: absolute, N days before at HH:MM local, N hours before."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from eventreg.domain.errors import DomainError
from eventreg.domain.timing import rules
from eventreg.domain.timing.rules import TimeRule

JST = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")
SEMINAR = datetime(2019, 2, 8, 14, 0, tzinfo=JST)


def test_the_seed_deadline_is_the_day_before_at_noon():
    assert TimeRule.days_before(1, "12:00").resolve(SEMINAR, "Asia/Tokyo") == datetime(2019, 2, 7, 3, tzinfo=timezone.utc)


def test_days_before_keeps_local_wall_time_across_a_summer_time_change():
    # Sunday 29 March 2026: clocks go forward in Berlin. A session on Monday 30 March at 10:00
    # with "2 days before at 12:00" closes Saturday 28 March 12:00 CET (11:00 UTC), while the
    # session itself is at 10:00 CEST (08:00 UTC).
    start = datetime(2026, 3, 30, 10, 0, tzinfo=BERLIN)
    closes = TimeRule.days_before(2, "12:00").resolve(start, "Europe/Berlin")
    assert closes == datetime(2026, 3, 28, 11, 0, tzinfo=timezone.utc)
    assert closes.astimezone(BERLIN).hour == 12


def test_hours_before_and_absolute():
    assert TimeRule.hours_before(2).resolve(SEMINAR, "Asia/Tokyo") == datetime(2019, 2, 8, 3, tzinfo=timezone.utc)
    at = datetime(2019, 2, 1, 9, 0, tzinfo=JST)
    assert TimeRule.absolute(at).resolve(SEMINAR, "Europe/Berlin") == at.astimezone(timezone.utc)
    with pytest.raises(ValueError):
        TimeRule.absolute(datetime(2019, 2, 1, 9, 0))


@pytest.mark.parametrize("text", ["1d@12:00", "0d@09:30", "2h", "1.5h", "2019-02-07T12:00+09:00"])
def test_text_form_round_trips(text):
    rule = rules.parse(text)
    assert rules.parse(rule.text()) == rule


@pytest.mark.parametrize("text", ["", "1d@24:00", "-1h", "yesterday", "2019-02-07T12:00", "1d@12:60",
                                  "0bd@12:00", "100bd", "前日25:00", "3営業日前の17:60", "12時", "明日"])
def test_bad_text_is_a_domain_error(text):
    with pytest.raises(DomainError) as caught:
        rules.parse(text)
    assert caught.value.code == "invalid_rule"


# --- one reader for every rule people type -----------------------------------------------------

@pytest.mark.parametrize("typed, text", [
    ("１ｄ＠１２：００", "1d@12:00"),  # full width, as a Japanese IME types it
    ("1d@9:00", "1d@09:00"),
    (" 1d @ 12:00 ", "1d@12:00"),
    ("1d", "1d"),  # the day before, at the session's own start time
    ("２ｈ", "2h"),
])
def test_what_people_type_reads_as_one_rule(typed, text):
    assert rules.parse(typed).text() == text


def test_a_day_rule_without_a_time_keeps_the_session_start_time():
    assert rules.parse("1d").resolve(SEMINAR, "Asia/Tokyo") == datetime(2019, 2, 7, 5, tzinfo=timezone.utc)


def test_a_local_time_is_read_in_the_zone_it_is_given():
    assert rules.parse("2019-02-07 12:00", zone=JST).at == datetime(2019, 2, 7, 12, 0, tzinfo=JST)
    with pytest.raises(DomainError):
        rules.parse("2019-02-07 12:00")  # no zone, no offset: which noon?


@pytest.mark.parametrize("typed", ["1d@12:00", "１ｄ＠１２：００", "1d@9:00", "1d", "2019-02-07T12:00", "2h", "1d@24:00", "tomorrow",
                                   "前日12:00", "3bd@17:00", "3営業日前の17:00", "開始2時間前"])
def test_the_event_form_reads_the_deadline_as_the_rule_reader_does(ctx, typed):
    """The deadline field, the reminders and the visitor list's send rule share rules.parse: the event
    form accepts exactly what it accepts, every kind stored (hours before too, since issue 16)."""
    from eventreg.domain.backoffice import event_checks

    values = {"title": "T", "organizer": "O", "contact_email": "o@example.org", "timezone": "Asia/Tokyo",
              "language": "ja", "deadline": typed}
    try:
        rule = rules.parse(typed, zone=JST)
    except DomainError:
        rule = None
    try:
        out = event_checks.clean_event(values, unique_slug=False)
        problems = []
    except event_checks.InvalidValues as exc:
        out, problems = {}, [(p.field, p.code) for p in exc.problems if p.field == "deadline"]
    if rule is None:
        assert problems == [("deadline", "invalid_deadline")]
    elif rule.kind == "hours_before":
        assert out["deadline_hours_before"] == rule.hours
    elif rule.kind in ("days_before", "business_days_before"):
        assert (out["deadline_days_before"], out["deadline_time"]) == (rule.days, rule.hhmm)
        assert out["deadline_business_days"] == (rule.kind == "business_days_before")
    else:
        assert out["deadline_at"] == rule.at.astimezone(timezone.utc)


def test_no_other_module_reads_rule_text():
    """The rule grammar ("Nd@HH:MM", "Nh") is written once, in domain/timing/rules.py."""
    import ast
    from pathlib import Path

    import eventreg

    root = Path(eventreg.__file__).parent
    readers = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    r"d(?:@" in node.value or r"d@(" in node.value or r")h$" in node.value):
                readers.append(str(path.relative_to(root)))
    assert readers == ["domain/timing/rules.py", "domain/timing/rules.py"]
