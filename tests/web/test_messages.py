"""The messages pages: compose, preview for a real recipient, send, schedule, history; access and bad input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from eventreg.domain.communication import attendee_messages
from eventreg.extensions import db
from eventreg.models import AttendeeMessage, MessageStatus, OutboxMessage, Registration
from eventreg.web import links

from .. import factories
from .conftest import csrf_token


@pytest.fixture
def world(ctx):
    event = factories.make_event()
    people = [factories.register_person(event) for _ in range(3)]
    owner = factories.make_staff("editor", events=[event])
    viewer = factories.make_staff("viewer", events=[event])
    return event, people, owner, viewer


def compose(client, event, **data):
    url = f"/admin/events/{event.id}/messages/new"
    token = csrf_token(client, url)
    return client.post(url, data={"csrf_token": token, **data})


def only_message():
    db.session.expire_all()
    return db.session.scalars(select(AttendeeMessage)).one()


def test_compose_preview_and_send(world, client, login):
    event, people, editor, _viewer = world
    login(editor)
    page = client.get(f"/admin/events/{event.id}/messages/new?status=confirmed")
    assert page.status_code == 200 and "{name}" in page.get_data(as_text=True)
    response = compose(client, event, subject="{氏名}様へ", body="{name} 様\n{{ 6007*7 }}\n{pass_link}", status="confirmed")
    assert response.status_code == 303
    msg = only_message()
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    first = sorted(people, key=lambda r: r.id)[0]
    preview = html.split('<pre class="mail-preview">', 1)[1].split("</pre>", 1)[0]
    assert "{{ 6007*7 }}" in preview and "42049" not in preview  # sent as written, never evaluated
    assert "3名に送信" in html
    assert f"{first.full_name} 様" in html and "/r/" in html and first.token not in html
    token = csrf_token(client, f"/admin/events/{event.id}/messages/{msg.id}")
    sent = client.post(f"/admin/events/{event.id}/messages/{msg.id}/send", data={"csrf_token": token, "expected": "3"})
    assert sent.status_code == 303
    assert only_message().status == MessageStatus.queued
    again = client.post(f"/admin/events/{event.id}/messages/{msg.id}/send", data={"csrf_token": token, "expected": "3"})
    assert again.status_code == 303
    assert len(db.session.scalars(select(OutboxMessage).where(OutboxMessage.attendee_message_id == msg.id)).all()) == 3
    history = client.get(f"/admin/events/{event.id}/messages/{msg.id}").get_data(as_text=True)
    assert first.email in history
    listing = client.get(f"/admin/events/{event.id}/messages").get_data(as_text=True)
    assert "{氏名}様へ" in listing
    registration = client.get(f"/admin/events/{event.id}/registrations/{first.id}").get_data(as_text=True)
    assert "{氏名}様へ" in registration


def test_unknown_placeholder_is_refused_with_its_name(world, client, login):
    event, _people, editor, _viewer = world
    login(editor)
    response = compose(client, event, subject="ご案内", body="{会社名} 御中\n{name")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "{会社名}" in text and "2行目" in text
    assert db.session.scalars(select(AttendeeMessage)).all() == []


@pytest.mark.parametrize("data", [
    {}, {"subject": "x" * 5000, "body": "y"}, {"subject": "a", "body": "b", "status": "\x00bad", "session": "99999999999"},
    {"subject": ["a", "b"], "body": "c"},
])
def test_bad_input_is_no_500(world, client, login, data):
    event, _people, editor, _viewer = world
    login(editor)
    # A NUL anywhere is refused before the page reads the form (web/input_guard.py).
    assert compose(client, event, **data).status_code in ((400,) if "\x00" in "".join(map(str, data.values())) else (303, 422))


def test_schedule_in_the_past_is_refused_and_a_future_one_can_be_cancelled(world, client, login):
    event, _people, editor, _viewer = world
    login(editor)
    compose(client, event, subject="件名", body="本文")
    msg = only_message()
    url = f"/admin/events/{event.id}/messages/{msg.id}"
    token = csrf_token(client, url)
    local = datetime.now(timezone.utc).astimezone(ZoneInfo(event.timezone))
    past = (local - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"{url}/send", data={"csrf_token": token, "when": "later", "send_at": past})
    assert response.status_code == 303
    assert "過去" in client.get(url).get_data(as_text=True)
    assert only_message().status == MessageStatus.draft
    client.post(f"{url}/send", data={"csrf_token": token, "when": "later", "send_at": "garbage"})
    assert only_message().status == MessageStatus.draft
    future = (local + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"{url}/send", data={"csrf_token": token, "when": "later", "send_at": future})
    msg = only_message()
    assert msg.status == MessageStatus.scheduled
    assert msg.send_at.astimezone(ZoneInfo(event.timezone)).strftime("%Y-%m-%dT%H:%M") == future
    client.post(f"{url}/cancel", data={"csrf_token": token})
    assert only_message().status == MessageStatus.cancelled


def test_a_viewer_reads_but_cannot_send(world, client, login):
    event, _people, _editor, viewer = world
    msg = attendee_messages.save_draft(event, subject="件名", body="本文", flt=attendee_messages.roster.ListFilter(), actor=None,
                              now=datetime.now(timezone.utc))
    db.session.commit()
    login(viewer)
    assert client.get(f"/admin/events/{event.id}/messages").status_code == 200
    assert client.get(f"/admin/events/{event.id}/messages/{msg.id}").status_code == 200
    assert client.get(f"/admin/events/{event.id}/messages/new").status_code == 403
    token = csrf_token(client, "/login")
    assert client.post(f"/admin/events/{event.id}/messages/{msg.id}/send",
                       data={"csrf_token": token, "expected": "3"}).status_code == 403
    assert only_message().status == MessageStatus.draft


def test_another_events_message_is_a_404(world, client, login):
    event, _people, editor, _viewer = world
    other = factories.make_event()
    msg = attendee_messages.save_draft(other, subject="件名", body="本文", flt=attendee_messages.roster.ListFilter(), actor=None,
                              now=datetime.now(timezone.utc))
    db.session.commit()
    login(editor)
    assert client.get(f"/admin/events/{event.id}/messages/{msg.id}").status_code == 404


def test_the_preview_shows_a_chosen_recipient(world, client, login):
    event, people, editor, _viewer = world
    login(editor)
    response = compose(client, event, subject="件名", body="{name} 様")
    url = response.headers["Location"]
    last = max(people, key=lambda r: r.id)
    db.session.execute(Registration.__table__.update().where(Registration.id == last.id).values(given_name="次郎"))
    db.session.commit()
    html = client.get(f"{url}?to={last.id}").get_data(as_text=True)
    assert "山田 次郎 様" in html.split('<pre class="mail-preview">', 1)[1]
    assert client.get(f"{url}?to=abc").status_code == 200


def test_no_preview_shows_a_recipients_management_secret(world, client, login):
    """A viewer walking ``?to=`` over every recipient collects names, never a link that cancels."""
    event, people, editor, viewer = world
    login(editor)
    url = compose(client, event, subject="{name}様 {pass_link}", body="{pass_link}\n{cancel_link}").headers["Location"]
    login(viewer)
    for person in people:
        html = client.get(f"{url}?to={person.id}").get_data(as_text=True)
        preview = html.split('<pre class="mail-preview">', 1)[1].split("</pre>", 1)[0]
        assert f"{person.full_name}様" in html and f"/r/{links.MASK}/cancel" in preview
        assert not [p.token for p in people if p.token in html]
