from datetime import datetime, timedelta, timezone

import pytest

from eventreg.domain.timing import deadlines
from eventreg.domain.timing.deadlines import DeadlineState
from eventreg.models import Event, EventSession

JST = timezone(timedelta(hours=9))
UTC = timezone.utc


def seed_session() -> EventSession:
    # The seed seminar: Friday 2019-02-08, doors 13:30, 14:00-17:00 JST.
    return EventSession(
        doors_at=datetime(2019, 2, 8, 13, 30, tzinfo=JST),
        starts_at=datetime(2019, 2, 8, 14, 0, tzinfo=JST),
        ends_at=datetime(2019, 2, 8, 17, 0, tzinfo=JST),
        capacity=80,
    )


def resolved(event: Event, session: EventSession) -> EventSession:
    """The session with its window stored on it, as event_spec.build_event leaves it."""
    deadlines.resolve_window(event, session)
    return session


def seed_event(**overrides) -> Event:
    values = dict(timezone="Asia/Tokyo", deadline_days_before=1, deadline_time="12:00",
                  deadline_at=None, registration_opens_at=None)
    values.update(overrides)
    return Event(**values)


def test_the_day_before_at_noon_in_tokyo():
    deadline = deadlines.deadline_for(seed_event(), seed_session())
    assert deadline == datetime(2019, 2, 7, 12, 0, tzinfo=JST)
    assert deadline.tzinfo == UTC and deadline.hour == 3  # 03:00 UTC


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2019, 2, 7, 11, 59, 59, tzinfo=JST), "open"),
    (datetime(2019, 2, 7, 12, 0, 0, tzinfo=JST), "closed"),
    (datetime(2019, 2, 7, 12, 0, 1, tzinfo=JST), "closed"),
    # Same instants written in UTC: the rule is about Tokyo's noon, not the server's.
    (datetime(2019, 2, 7, 2, 59, 59, tzinfo=UTC), "open"),
    (datetime(2019, 2, 7, 3, 0, 0, tzinfo=UTC), "closed"),
])
def test_relative_deadline_boundary(now, expected):
    assert deadlines.state(resolved(seed_event(), seed_session()), now) == expected


def test_absolute_deadline_and_opening_time():
    event = seed_event(
        deadline_days_before=None, deadline_time=None,
        deadline_at=datetime(2019, 2, 1, 18, 0, tzinfo=JST),
        registration_opens_at=datetime(2019, 1, 10, 10, 0, tzinfo=JST),
    )
    session = resolved(event, seed_session())
    assert deadlines.state(session, datetime(2019, 1, 10, 9, 59, tzinfo=JST)) == DeadlineState.not_open
    assert deadlines.state(session, datetime(2019, 1, 10, 10, 0, tzinfo=JST)) == DeadlineState.open
    assert deadlines.state(session, datetime(2019, 2, 1, 17, 59, tzinfo=JST)) == DeadlineState.open
    assert deadlines.state(session, datetime(2019, 2, 1, 18, 0, tzinfo=JST)) == DeadlineState.closed


def test_no_rule_means_until_the_session_starts():
    event = seed_event(deadline_days_before=None, deadline_time=None)
    assert deadlines.deadline_for(event, seed_session()) == datetime(2019, 2, 8, 14, 0, tzinfo=JST)


def test_deadline_never_after_the_start():
    event = seed_event(deadline_at=datetime(2019, 3, 1, tzinfo=JST))
    assert deadlines.deadline_for(event, seed_session()) == seed_session().starts_at


def test_other_time_zone_uses_its_own_local_noon():
    session = EventSession(
        doors_at=datetime(2024, 3, 31, 9, 0, tzinfo=UTC), starts_at=datetime(2024, 3, 31, 9, 0, tzinfo=UTC),
        ends_at=datetime(2024, 3, 31, 10, 0, tzinfo=UTC), capacity=1,
    )
    # Berlin switches to summer time on 2024-03-31; the day before is still CET (UTC+1).
    event = seed_event(timezone="Europe/Berlin")
    assert deadlines.deadline_for(event, session) == datetime(2024, 3, 30, 11, 0, tzinfo=UTC)


def test_check_open_raises_stable_codes():
    with pytest.raises(Exception) as info:
        deadlines.check_open(resolved(seed_event(), seed_session()), datetime(2019, 2, 7, 12, 0, tzinfo=JST))
    assert info.value.code == "registration_closed"
