"""Input no form or route can use: NUL characters, bytes that are not UTF-8, ids past the
database's integer, ids of another event. Each is refused in words (400/404) and changes
nothing; none is a 500 on either database (web/input_guard.py, web/ids.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from eventreg import clock
from eventreg.domain.access import api_tokens, invitations
from eventreg.extensions import db
from eventreg.models import AttendeeMessage, Event, EventMember, EventRole, Registration

from .. import factories
from .clients import isolated_client
from .conftest import csrf_token, valid_form

REFUSED = "読み取れない文字"  # the guard's words (Japanese, the default language)


@pytest.fixture
def client(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # a crash is a 500 to look at
    return isolated_client(app)


def registrations() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Registration))


def refused(response, status: int = 400) -> bool:
    return response.status_code == status and REFUSED in response.get_data(as_text=True)


# --- NUL and undecodable bytes: one guard for every request ----------------------------------------


@pytest.mark.parametrize("path", ["/e/%00", "/e/a%00b/pass", "/login?next=%00", "/e/%ED%A0%80", "/e/x?lang=%FF"])
def test_a_nul_or_undecodable_byte_in_the_url_is_refused_in_words(client, path):
    assert refused(client.get(path))


def test_a_nul_in_the_sign_in_email_is_refused_and_nothing_is_counted(client, ctx):
    user = factories.make_staff("viewer")
    response = client.post("/login", data={"email": user.email + "\x00", "password": factories.PASSWORD,
                                           "csrf_token": csrf_token(client, "/login")})
    assert refused(response)
    assert client.get("/staff").status_code == 302  # not signed in


@pytest.mark.parametrize("field", ["subject", "body"])
def test_a_nul_in_an_organizer_message_is_refused_and_nothing_is_saved(client, login, make_event, field):
    event = make_event()
    login(factories.make_staff("editor", [event]))
    url = f"/admin/events/{event.id}/messages/new"
    data = {"csrf_token": csrf_token(client, url), "subject": "お知らせ", "body": "本文"}
    data[field] += "\x00"
    assert refused(client.post(url, data=data))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AttendeeMessage)) == 0


def test_a_nul_in_the_event_form_changes_nothing(client, login, make_event):
    event = make_event()
    title = event.title
    login(factories.make_staff("editor", [event]))
    url = f"/admin/events/{event.id}/edit"
    assert refused(client.post(url, data={"csrf_token": csrf_token(client, url), "title": "新しい題\x00"}))
    db.session.rollback()
    assert db.session.get(Event, event.id).title == title


def _raw_form(client, url: str, fields: dict[str, str], raw: str):
    """A urlencoded body with ``raw`` (already percent-encoded bytes) as it is sent by a client
    that does not encode UTF-8."""
    from urllib.parse import urlencode

    body = urlencode({"csrf_token": csrf_token(client, url), **fields}) + raw
    return client.post(url, data=body.encode(), content_type="application/x-www-form-urlencoded")


def test_bytes_that_are_not_utf8_in_a_form_are_refused_and_nothing_is_stored(client, make_event):
    event = make_event()
    url = f"/e/{event.slug}"
    form = valid_form(session_id=str(event.sessions[0].id))
    form.pop("organization")
    response = _raw_form(client, url, form, "&organization=a%ED%A0%80b")  # a lone surrogate in UTF-8 form
    assert refused(response)
    assert registrations() == 0
    ok = _raw_form(client, url, form, "&organization=a%E3%81%82b")  # あ: the same request, valid bytes
    assert ok.status_code == 302 and registrations() == 1


def test_the_refusal_speaks_the_page_language_and_the_api_gets_json(client, login, make_event):
    english = client.get("/e/%00", headers={"Accept-Language": "en"}, query_string={"lang": "en"})
    assert english.status_code == 400
    event = make_event()
    login(factories.make_staff("editor", [event]))
    api = client.get(f"/api/v1/events/{event.id}/registrations?q=a%00b")
    assert api.status_code == 400 and api.json["error"]["code"] == "invalid_request"
    assert REFUSED in api.json["error"]["message"]


def test_a_multipart_form_with_a_nul_is_refused_but_a_file_may_hold_any_bytes(client, login, make_event):
    event = make_event()
    login(factories.make_staff("editor", [event]))
    url = f"/admin/events/{event.id}/messages/new"
    data = {"csrf_token": csrf_token(client, url), "subject": "件名\x00", "body": "本文"}
    assert refused(client.post(url, data=data, content_type="multipart/form-data"))


# --- ids -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("asked", ["12345678901234567890", "2147483648", "0", "-1"])
def test_an_id_past_the_database_integer_in_the_reminder_preview_is_not_found(client, login, make_event, asked):
    event = make_event()
    factories.register_person(event)
    login(factories.make_staff("viewer", [event]))
    response = client.get(f"/admin/events/{event.id}/reminders/preview?registration={asked}")
    assert response.status_code == 404


def test_a_reminder_rule_of_another_event_is_not_found_and_stays(client, login, make_event):
    event, other = make_event(), make_event()
    login(factories.make_staff("editor", [event, other]))
    foreign = db.session.get(Event, other.id).reminders[0].id
    url = f"/admin/events/{event.id}/reminders"
    response = client.post(f"{url}/{foreign}/delete", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 404
    db.session.rollback()
    assert [r.id for r in db.session.get(Event, other.id).reminders] == [foreign]
    missing = client.post(f"{url}/{foreign + 1000}/delete", data={"csrf_token": csrf_token(client, url)})
    assert missing.status_code == 404


@pytest.mark.parametrize("action", ["role", "remove"])
def test_a_member_of_another_event_is_not_found_and_keeps_their_role(client, login, make_event, action):
    event, other = make_event(), make_event()
    owner = factories.make_staff("organizer", [event, other])
    stranger = factories.make_staff("editor", [other])  # on the other event's team only
    login(owner)
    page = f"/admin/events/{event.id}/team"
    response = client.post(f"{page}/members/{stranger.id}/{action}",
                           data={"csrf_token": csrf_token(client, page), "role": "viewer"})
    assert response.status_code == 404
    db.session.rollback()
    member = db.session.scalars(select(EventMember).where(EventMember.user_id == stranger.id)).one()
    assert (member.event_id, member.role) == (other.id, EventRole.editor)


def test_a_member_of_this_event_is_still_changed(client, login, make_event):
    event = make_event()
    owner = factories.make_staff("organizer", [event])
    editor = factories.make_staff("editor", [event])
    login(owner)
    page = f"/admin/events/{event.id}/team"
    response = client.post(f"{page}/members/{editor.id}/role", data={"csrf_token": csrf_token(client, page),
                                                                    "role": "viewer"})
    assert response.status_code == 303
    db.session.rollback()
    assert invitations.members(db.session.get(Event, event.id))[-1].role == EventRole.viewer


# --- headers ---------------------------------------------------------------------------------------


def test_an_invitation_page_is_never_stored(client, make_event):
    event = make_event()
    owner = factories.make_staff("organizer", [event])
    secret = []
    invitations.invite(event, "new.person@example.org", EventRole.editor, actor=owner, now=clock.utcnow(),
                       link=lambda s: secret.append(s) or f"http://testserver/invite/{s}")
    db.session.commit()
    for path in (f"/invite/{secret[0]}", "/invite/unknown"):
        response = client.get(path)
        assert response.status_code in (200, 404)
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/e/{slug}", "/api/v1/events/{id}/counts", "/api/v1/openapi.json"])
def test_a_method_the_url_does_not_have_is_405_with_allow(client, make_event, path):
    event = make_event()
    response = client.open(path.format(slug=event.slug, id=event.id), method="TRACE")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]


def test_json_nested_too_deeply_to_read_is_a_400(client, make_event):
    event = make_event()
    owner = factories.make_staff("organizer", [event])
    token = api_tokens.create_api_token(owner, "deep", now=clock.utcnow())
    db.session.commit()
    deep = b"[" * 100_000 + b"]" * 100_000  # under the 256 KiB limit
    response = client.post(f"/api/v1/events/{event.id}/checkins", data=deep, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_request"
