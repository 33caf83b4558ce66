"""Calendar files, parsed back with icalendar: every property, in the email and on the page."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import update

from eventreg import clock
from eventreg.domain.registration.signup import cancel, register
from eventreg.extensions import db
from eventreg.models import EventSession, Registration
from eventreg.worker import deliver_due

from ..factories import applicant


def _sign_up(event, **fields) -> Registration:
    outcome = register(event.sessions[0], applicant(**fields), now=clock.utcnow())
    db.session.commit()
    return outcome.registration


def _attached_calendar(message) -> tuple[bytes, Calendar]:
    [part] = [a for a in message.iter_attachments() if a.get_filename() == "calendar.ics"]
    body = part.get_payload(decode=True)
    return part, body, Calendar.from_ical(body)


def _the_event(calendar: Calendar):
    [entry] = calendar.walk("VEVENT")
    return entry


def _check_common(entry, registration: Registration, session: EventSession, stamp):
    assert str(entry["UID"]) == f"registration-{registration.id}@testserver"
    assert entry.decoded("DTSTAMP") == stamp  # when the file was made, not the start
    assert entry.decoded("DTSTART") == session.starts_at
    assert entry.decoded("DTEND") == session.ends_at
    assert int(entry["SEQUENCE"]) == session.sequence
    assert str(entry["SUMMARY"]) == registration.event.title
    assert str(entry["LOCATION"]) == "セミナールーム 東京都港区港南2-16-3"
    assert str(entry["DESCRIPTION"]) == f"2階正面玄関裏手の受付\nhttp://testserver/e/{registration.event.slug}"
    assert str(entry["URL"]) == f"http://testserver/e/{registration.event.slug}"
    assert str(entry["ORGANIZER"]) == "mailto:office@example.org"
    assert entry["ORGANIZER"].params["CN"] == "若者TECHプロジェクト"


def _no_secret(body: bytes, registration: Registration):
    unfolded = body.replace(b"\r\n ", b"").decode()
    assert registration.token not in unfolded and "/r/" not in unfolded
    assert registration.entry_id not in unfolded


def test_confirmation_carries_a_request_and_the_cancellation_a_cancel(app, make_event, smtp_server):
    event = make_event()
    registration = _sign_up(event, email="hanako@example.org", family_name='Eve "q"', given_name="<x@y>, ;")
    session = event.sessions[0]
    db.session.execute(update(EventSession).where(EventSession.id == session.id).values(sequence=3))
    db.session.commit()
    stamp = (clock.utcnow() + timedelta(days=2)).replace(microsecond=0)
    assert deliver_due(app, worker_id="w", now=stamp) == 1

    part, body, calendar = _attached_calendar(smtp_server.received[0])
    assert part.get_content_type() == "text/calendar" and part.get_param("method") == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST" and str(calendar["VERSION"]) == "2.0"
    entry = _the_event(calendar)
    db.session.refresh(session)
    _check_common(entry, registration, session, stamp)
    assert str(entry["STATUS"]) == "CONFIRMED"
    assert str(entry["ATTENDEE"]) == "mailto:hanako@example.org"
    assert entry["ATTENDEE"].params["CN"] == 'Eve "q" <x@y>, ;'  # RFC 6868 quoting round-trips
    assert entry["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    _no_secret(body, registration)

    cancel(db.session.get(Registration, registration.id), now=clock.utcnow())
    db.session.commit()
    later = stamp + timedelta(hours=1)
    assert deliver_due(app, worker_id="w", now=later) == 1
    part, body, calendar = _attached_calendar(smtp_server.received[1])
    assert part.get_param("method") == "CANCEL" and str(calendar["METHOD"]) == "CANCEL"
    entry = _the_event(calendar)
    _check_common(entry, registration, session, later)  # same UID: it removes the same entry
    assert str(entry["STATUS"]) == "CANCELLED"
    assert str(entry["ATTENDEE"]) == "mailto:hanako@example.org"
    _no_secret(body, registration)


def test_download_is_publish_while_active_and_cancel_once_cancelled(app, make_event, client):
    event = make_event()
    registration = _sign_up(event)
    token, session = registration.token, event.sessions[0]

    before = clock.utcnow().replace(microsecond=0)
    response = client.get(f"/r/{token}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    entry = _the_event(calendar)
    assert str(entry["STATUS"]) == "CONFIRMED" and "ATTENDEE" not in entry
    stamp = entry.decoded("DTSTAMP")
    assert before <= stamp <= clock.utcnow() and stamp != session.starts_at
    _check_common(entry, registration, session, stamp)
    _no_secret(response.data, registration)

    cancel(db.session.get(Registration, registration.id), now=clock.utcnow())
    db.session.commit()
    response = client.get(f"/r/{token}/calendar.ics")
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["METHOD"]) == "CANCEL"
    entry = _the_event(calendar)
    assert str(entry["STATUS"]) == "CANCELLED"  # never an active entry for a cancelled registration
    assert str(entry["UID"]) == f"registration-{registration.id}@testserver"
    _no_secret(response.data, registration)


def test_sequence_follows_the_session(app, make_event, client):
    event = make_event()
    registration = _sign_up(event)
    for sequence in (0, 1, 5):
        db.session.execute(update(EventSession).where(EventSession.id == event.sessions[0].id)
                           .values(sequence=sequence))
        db.session.commit()
        entry = _the_event(Calendar.from_ical(client.get(f"/r/{registration.token}/calendar.ics").data))
        assert int(entry["SEQUENCE"]) == sequence
