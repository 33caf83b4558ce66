"""Stopping an event's organizer messages (domain.communication.opt_outs, web.public.unsubscribe):
List-Unsubscribe and RFC 8058 one-click on organizer messages only, read at a real SMTP server;
the one-click POST without cookie or CSRF token, idempotent, changing nothing else; later messages
leave the person out and say so; mail about the registration itself still goes; the link's secret
is never shown to staff nor logged."""

from __future__ import annotations

import email
import email.policy
import logging
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from eventreg.domain.backoffice.roster import ListFilter
from eventreg.domain.communication import attendee_messages, opt_outs
from eventreg.domain.registration import signup
from eventreg.extensions import db
from eventreg.models import AuditEntry, MessageOptOut, OutboxMessage, Registration
from eventreg.web import links
from eventreg.web.security import REDACTED, RedactFilter, redact_path
from eventreg.worker import deliver_due

from .. import factories
from .conftest import csrf_token
from .test_message_delivery import deliver_everything, queue_message, three_people_and_an_editor


@pytest.fixture
def world(ctx):
    return three_people_and_an_editor()


@pytest.fixture
def https_site(app):
    """RFC 8058 one-click needs an https link: the site's BASE_URL is https for this test."""
    saved = app.config["BASE_URL"]
    app.config["BASE_URL"] = "https://testserver"
    yield
    app.config["BASE_URL"] = saved


def snapshot(registration_id: int) -> dict:
    db.session.expire_all()
    row = db.session.execute(select(Registration.__table__).where(Registration.id == registration_id)).one()
    return dict(row._mapping)


def path_of(url: str) -> str:
    return urlsplit(url).path


@pytest.mark.usefixtures("https_site")
def test_one_click_from_the_header_stops_later_messages_and_nothing_else(app, world, client, login, smtp_server):
    event, people, editor = world
    deliver_everything(app)  # the sign-up confirmations
    login(editor)
    queue_message(client, event, 3)
    deliver_everything(app)

    # Read at the SMTP server: the raw header lines of every message, as a mail provider sees them.
    raw = {m["To"].addresses[0].addr_spec: (m, r) for m, r in zip(smtp_server.received, smtp_server.raw, strict=True)
           if "ご案内" in m["Subject"]}
    assert sorted(raw) == sorted(p.email for p in people)
    quitter = people[1]
    message, data = raw[quitter.email]
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    header = parsed["List-Unsubscribe"]
    assert header.startswith("<https://testserver/u/") and header.endswith(">")
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header[1:-1]
    assert url == f"https://testserver/u/{opt_outs.key(quitter, app.config['SECRET_KEY'])}"
    assert quitter.token not in url  # the link stops messages; it cannot cancel
    assert url in message.get_body(("plain",)).get_content()  # and the footer has the same link
    for other in (p for p in people if p is not quitter):
        assert raw[other.email][0]["List-Unsubscribe"] != header  # one link per registration
    confirmations = [m for m in smtp_server.received if "ご案内" not in m["Subject"]]
    assert confirmations and all(m["List-Unsubscribe"] is None and m["List-Unsubscribe-Post"] is None
                                 for m in confirmations)  # mail about the registration itself has none

    # The mail provider's POST (RFC 8058): no cookie, no CSRF token, the one-click body; no redirect.
    before = snapshot(quitter.id)
    provider = app.test_client()
    for _ in range(2):  # a retry changes nothing
        answer = provider.post(path_of(url), data={"List-Unsubscribe": "One-Click"}, base_url="https://testserver")
        assert answer.status_code == 200
        assert "配信を停止" in answer.get_data(as_text=True) or "お送りしません" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MessageOptOut)) == 1
    assert snapshot(quitter.id) == before  # the registration is kept, exactly as it was

    # The next message: the count says one is left out, and nobody sends to them.
    compose = client.get(f"/admin/events/{event.id}/messages/new").get_data(as_text=True)
    assert "2名" in compose and "配信を停止した1名" in compose
    page = queue_message(client, event, 2)
    assert "配信を停止した1名" not in client.get(page).get_data(as_text=True)  # sent: counts from the outbox
    deliver_everything(app)
    second = [m["To"].addresses[0].addr_spec for m in smtp_server.received[len(raw) + len(confirmations):]]
    assert sorted(second) == sorted(p.email for p in people if p is not quitter)

    # Mail about the registration itself still goes: the cancellation.
    db.session.expire_all()
    signup.cancel(db.session.get(Registration, quitter.id), now=datetime.now(timezone.utc))
    db.session.commit()
    deliver_everything(app)
    assert [m for m in smtp_server.to(quitter.email) if "キャンセル" in m["Subject"]]


def test_the_page_asks_first_and_its_button_stops(app, world, client):
    event, people, _editor = world
    person = people[0]
    url = links.registration_links(person)["unsubscribe"]
    asked = client.get(path_of(url))
    assert asked.status_code == 200 and 'method="post"' in asked.get_data(as_text=True)
    assert asked.headers["Cache-Control"].startswith("no-store")
    assert db.session.scalar(select(func.count()).select_from(MessageOptOut)) == 0  # a GET stops nothing
    done = client.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "お申し込みはそのまま" in done.get_data(as_text=True)
    assert opt_outs.stopped(person)
    again = client.get(path_of(url)).get_data(as_text=True)
    assert 'method="post"' not in again and "お送りしません" in again


def test_staff_see_the_stop_on_the_registration_once(app, world, client, login):
    event, people, editor = world
    person = people[0]
    url = path_of(links.registration_links(person)["unsubscribe"])
    for _ in range(2):  # a mail provider's retry adds nothing
        assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.registration_id == person.id,
                                                          AuditEntry.action == "messages_stopped")).all()
    assert len(entries) == 1 and entries[0].actor_id is None
    login(editor)
    page = client.get(f"/admin/events/{event.id}/registrations/{person.id}").get_data(as_text=True)
    assert 'id="messages-stopped"' in page
    assert "主催者からのお知らせの配信停止" in page  # the history line, in words
    other = client.get(f"/admin/events/{event.id}/registrations/{people[1].id}").get_data(as_text=True)
    assert 'id="messages-stopped"' not in other


@pytest.mark.parametrize("key", ["1", "x.y", "99999.abc", "1.", ".abc", "１.abc", "1" * 100, "-1.abc",
                                 "1.abc%00", "12345678901.abc"])
def test_a_wrong_key_is_a_404(app, world, client, key):
    refused = (400,) if "%00" in key else (404,)  # a NUL is refused before any view (web/input_guard.py)
    assert client.get(f"/u/{key}").status_code in refused
    assert client.post(f"/u/{key}", data={"List-Unsubscribe": "One-Click"}).status_code in refused
    assert db.session.scalar(select(func.count()).select_from(MessageOptOut)) == 0


def test_one_registrations_proof_opens_no_other(app, world, client):
    _event, people, _editor = world
    first, second = people[:2]
    proof = opt_outs.proof(first.token, app.config["SECRET_KEY"])
    assert client.post(f"/u/{second.id}.{proof}").status_code == 404
    assert client.post(f"/u/{first.id}.{proof}").status_code == 200


def test_stopping_covers_the_persons_other_registrations_of_the_event(app, ctx):
    event = factories.make_event()
    one = factories.register_person(event, email="same@example.org")
    other_event = factories.make_event()
    elsewhere = factories.register_person(other_event, email="same@example.org")
    opt_outs.stop(one, datetime.now(timezone.utc))
    db.session.commit()
    assert opt_outs.stopped(one) and not opt_outs.stopped(elsewhere)  # another event's messages still come


def test_no_preview_or_log_shows_the_unsubscribe_secret(app, world, client, login, caplog):
    event, people, editor = world
    login(editor)
    url = f"/admin/events/{event.id}/messages/new"
    page = client.post(url, data={"csrf_token": csrf_token(client, url), "subject": "件名", "body": "本文"}
                       ).headers["Location"]
    for person in people:
        html = client.get(f"{page}?to={person.id}").get_data(as_text=True)
        key = opt_outs.key(person, app.config["SECRET_KEY"])
        assert f"/u/{links.MASK}" in html and key not in html
        assert opt_outs.proof(person.token, app.config["SECRET_KEY"]) not in html
    key = opt_outs.key(people[0], app.config["SECRET_KEY"])
    assert redact_path(f"POST /u/{key} HTTP/1.1") == f"POST /u/{REDACTED} HTTP/1.1"
    assert redact_path(f"/%75/{key}") == f"/%75/{REDACTED}"
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"POST /u/%s HTTP/1.1" 200 -', (key,), None)
    RedactFilter().filter(record)
    assert key not in record.getMessage()


def test_an_http_site_sends_the_link_without_one_click(app, world, client, login, smtp_server):
    """RFC 8058 wants https; a development site on http gets List-Unsubscribe alone."""
    event, people, editor = world
    deliver_everything(app)
    login(editor)
    queue_message(client, event, 3)
    db.session.commit()
    while deliver_due(app, worker_id="test", batch=20):
        pass
    sent = [m for m in smtp_server.received if "ご案内" in m["Subject"]]
    assert len(sent) == 3
    assert all(m["List-Unsubscribe"].startswith("<http://testserver/u/") for m in sent)
    assert all(m["List-Unsubscribe-Post"] is None for m in sent)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 6


def test_an_opt_out_whose_address_is_gone_leaves_out_nobody_else(app, ctx):
    """Retention blanks an address (NULL): ``x NOT IN (…, NULL)`` would then be true for nobody."""
    event = factories.make_event()
    gone, other = factories.register_person(event), factories.register_person(event)
    opt_outs.stop(gone, datetime.now(timezone.utc))
    db.session.execute(Registration.__table__.update().where(Registration.id == gone.id).values(email=None))
    db.session.commit()
    flt = ListFilter()
    assert attendee_messages.recipient_count(event, flt, now=datetime.now(timezone.utc)) == 1
    assert attendee_messages.recipient_ids(event, flt, now=datetime.now(timezone.utc)) == [other.id]
