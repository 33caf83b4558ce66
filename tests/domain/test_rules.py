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


@pytest.mark.parametrize("text", ["", "1d", "1d@24:00", "-1h", "yesterday", "2019-02-07T12:00", "1d@12:60"])
def test_bad_text_is_a_domain_error(text):
    with pytest.raises(DomainError) as caught:
        rules.parse(text)
    assert caught.value.code == "invalid_rule"
