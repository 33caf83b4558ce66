"""Every time a person reads names its zone (finding 4): Japanese, English, and an event abroad."""

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from flask_babel import refresh

from eventreg.web.filters import deadline, moment, when, zone

from ..factories import in_days


def _session(start_utc: datetime):
    from datetime import timedelta

    return SimpleNamespace(doors_at=start_utc - timedelta(minutes=30), starts_at=start_utc,
                           ends_at=start_utc + timedelta(hours=3))


@pytest.mark.parametrize(("tz", "at", "lang", "expected"), [
    ("Asia/Tokyo", datetime(2019, 2, 7, 3, tzinfo=timezone.utc), "ja", "2月7日(木) 12:00 締切(日本時間)"),
    ("Asia/Tokyo", datetime(2019, 2, 7, 3, tzinfo=timezone.utc), "en", "Closes Thu, 7 Feb, 12:00 JST"),
    ("Europe/Berlin", datetime(2026, 12, 15, 11, tzinfo=timezone.utc), "ja", "12月15日(火) 12:00 締切(中央ヨーロッパ時間)"),
    ("Europe/Berlin", datetime(2026, 12, 15, 11, tzinfo=timezone.utc), "en", "Closes Tue, 15 Dec, 12:00 CET"),
    # Summer time is named as such, and a zone without an abbreviation gets its offset.
    ("Europe/Berlin", datetime(2026, 7, 15, 10, tzinfo=timezone.utc), "en", "Closes Wed, 15 Jul, 12:00 CEST"),
    ("Asia/Dubai", datetime(2026, 7, 15, 8, tzinfo=timezone.utc), "en", "Closes Wed, 15 Jul, 12:00 UTC+04:00"),
])
def test_deadlines_name_their_zone(app, tz, at, lang, expected):
    with app.test_request_context():
        assert deadline(at, tz, lang) == expected


def test_session_times_and_single_instants_name_their_zone(app):
    start = datetime(2019, 2, 8, 5, tzinfo=timezone.utc)  # 14:00 JST
    with app.test_request_context():
        assert when(_session(start), "Asia/Tokyo", "ja") == "2019年2月8日(金) 14:00–17:00 日本時間(13:30開場)"
        assert when(_session(start), "Asia/Tokyo", "en") == "Fri, 8 Feb 2019, 14:00–17:00 JST (doors open 13:30)"
        assert moment(start, "Europe/Berlin", "ja") == "2月8日(金) 06:00(中央ヨーロッパ時間)"
        assert zone(start, "UTC", "ja") == "UTC"


def test_an_event_abroad_shows_its_own_zone_on_the_page(client, make_event):
    start = in_days(20, "18:00")
    event = make_event(timezone="Europe/Berlin", start=start.replace(tzinfo=None))
    ja = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "中央ヨーロッパ" in ja and "日本時間" not in ja
    refresh()  # the test's app context outlives the request: drop Flask-Babel's cached locale
    en = client.get(f"/e/{event.slug}?lang=en").get_data(as_text=True)
    assert (" CET " in en or " CEST " in en) and "JST" not in en
