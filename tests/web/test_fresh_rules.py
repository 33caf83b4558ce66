"""Finding 1: rules are enforced from the database at the moment of the write, never from the
per-process copy of the event (web/event_cache.py), on the page and in the API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from eventreg.domain.access import api_tokens
from eventreg.extensions import db
from eventreg.models import ApiToken, Event, EventSession, Registration

from .. import factories
from .conftest import csrf_token, valid_form


def registrations() -> list[Registration]:
    db.session.expire_all()
    return db.session.scalars(select(Registration).order_by(Registration.id)).all()


def post_form(client, event, session_id, query="", **overrides):
    """The form as the (already open) page showed it: its CSRF token was taken before the change."""
    data = {k: v for k, v in valid_form(session_id=str(session_id), **overrides).items() if v is not None}
    data["csrf_token"] = client.csrf
    return client.post(f"/e/{event.slug}{query}", data=data)


def open_page(client, event):
    client.csrf = csrf_token(client, f"/e/{event.slug}")  # warms this process's cache too
    return client


def set_session(session_id, **values):
    db.session.execute(update(EventSession).where(EventSession.id == session_id).values(**values))
    db.session.commit()


def set_event(event_id, **values):
    db.session.execute(update(Event).where(Event.id == event_id).values(**values))
    db.session.commit()


def test_a_deadline_moved_into_the_past_refuses_the_open_form(client, make_event):
    event = make_event()
    sid = event.sessions[0].id
    open_page(client, event)
    set_session(sid, closes_at=datetime.now(timezone.utc) - timedelta(minutes=1))
    response = post_form(client, event, sid)
    assert response.status_code == 400
    assert "に終了しました。" in response.get_data(as_text=True)  # which, and when (public.window_refusal)
    assert registrations() == []


def test_an_opening_moved_into_the_future_refuses_with_its_own_words(client, make_event):
    event = make_event()
    sid = event.sessions[0].id
    open_page(client, event)
    set_session(sid, opens_at=datetime.now(timezone.utc) + timedelta(days=1))
    response = post_form(client, event, sid)
    assert response.status_code == 400
    assert "に始まります。" in response.get_data(as_text=True)
    assert registrations() == []


def test_the_waiting_list_turned_off_after_the_page_was_cached_means_session_full(client, make_event):
    event = make_event(capacity=1)
    sid = event.sessions[0].id
    factories.register_person(event)
    open_page(client, event)  # the cached copy says: waiting list on
    set_event(event.id, waitlist_enabled=False)
    response = post_form(client, event, sid)
    assert response.status_code == 400
    assert "満席" in response.get_data(as_text=True)
    assert [r.status.value for r in registrations()] == ["confirmed"]  # nobody waitlisted


def test_the_page_shows_full_when_the_database_says_so_even_with_a_warm_cache(client, make_event):
    event = make_event(capacity=4)
    sid = event.sessions[0].id
    first = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "残り4席" in first
    set_session(sid, seats_taken=4)
    html = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "残り4席" not in html and "満席(キャンセル待ち受付中)" in html
    set_event(event.id, waitlist_enabled=False)
    html = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "満席" in html and "キャンセル待ち" not in html
    set_session(sid, seats_taken=1, closes_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    html = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert 'class="badge closed"' in html and 'name="family_name"' not in html


def test_forgetting_the_cache_on_one_process_does_not_matter(client, make_event, monkeypatch):
    from eventreg.web import event_cache

    monkeypatch.setattr(event_cache, "forget", lambda slug: None)  # another server never hears of it
    event = make_event()
    sid = event.sessions[0].id
    open_page(client, event)
    set_session(sid, closes_at=datetime.now(timezone.utc) - timedelta(minutes=1))
    assert post_form(client, event, sid).status_code == 400
    assert registrations() == []


def test_a_post_naming_another_events_session_takes_no_seat_there(client, make_event):
    # The sign-up POST reads no sessions before its seat UPDATE: the UPDATE checks the event.
    event, other = make_event(), make_event(capacity=3)
    open_page(client, event)
    response = post_form(client, event, other.sessions[0].id)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/e/{event.slug}")
    assert registrations() == []
    db.session.expire_all()
    assert db.session.get(EventSession, other.sessions[0].id).seats_taken == 0


def scanner(client, make_event):
    """An event, its reception user and a bearer token that works now."""
    event = make_event()
    user = factories.make_staff("reception", events=[event])
    token = api_tokens.create_api_token(user, "desk 1", now=datetime.now(timezone.utc))
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/events/{event.id}/counts", headers=headers).status_code == 200
    return event, user, headers


def test_a_revoked_api_token_stops_at_its_next_request(app, client, make_event):
    event, _user, headers = scanner(client, make_event)
    db.session.execute(update(ApiToken).values(revoked_at=datetime.now(timezone.utc)))
    db.session.commit()
    assert client.get(f"/api/v1/events/{event.id}/counts", headers=headers).status_code == 401


def test_an_unassigned_event_stops_at_the_next_request(app, client, make_event):
    event, user, headers = scanner(client, make_event)
    user.memberships.clear()
    db.session.commit()
    assert client.get(f"/api/v1/events/{event.id}/counts", headers=headers).status_code == 404
