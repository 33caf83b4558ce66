"""An organizer's message delivered by the worker to a real SMTP server: its state as the list and
its page show it (送信中 n/N until every outbox row is done, then 送信済み, failures said)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import AttendeeMessage
from eventreg.worker import deliver_due

from .. import factories
from .conftest import csrf_token


def three_people_and_an_editor():
    event = factories.make_event()
    people = sorted((factories.register_person(event) for _ in range(3)), key=lambda r: r.id)
    return event, people, factories.make_staff("editor", events=[event])


@pytest.fixture
def world(ctx):
    return three_people_and_an_editor()


def deliver_everything(app) -> None:
    db.session.commit()  # end the test's read: the worker writes
    while deliver_due(app, worker_id="test", batch=20):
        pass


def queue_message(client, event, expected: int, **filters) -> str:
    url = f"/admin/events/{event.id}/messages/new"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "subject": "{name}様へのご案内",
                                      "body": "{name} 様\n当日の持ち物のご案内です。", **filters})
    page = response.headers["Location"]
    sent = client.post(f"{page}/send", data={"csrf_token": csrf_token(client, page), "expected": str(expected)})
    assert sent.status_code == 303
    return page


def state(html: str) -> str:
    """The message's state as shown (the badge and the failures beside it) as one line of text."""
    start = html.index('<span class="msg-status')
    end = min(i for i in (html.find("</td>", start), html.find("</h1>", start)) if i >= 0)
    return " ".join(re.sub(r"<[^>]+>", " ", html[start:end]).split())


def test_sending_until_every_row_is_done_then_sent_with_failures_counted(app, world, client, login, smtp_server):
    event, people, editor = world
    deliver_everything(app)  # the sign-up confirmations, so that only the message is left to send
    smtp_server.refuse.add(people[-1].email.lower())  # 550 at RCPT TO: a permanent failure
    login(editor)
    page = queue_message(client, event, 3)
    listing = f"/admin/events/{event.id}/messages"
    assert state(client.get(listing).get_data(as_text=True)) == "送信中 0/3"
    assert state(client.get(page).get_data(as_text=True)) == "送信中 0/3"

    db.session.commit()
    assert deliver_due(app, worker_id="test", batch=1) == 1
    assert state(client.get(listing).get_data(as_text=True)) == "送信中 1/3"
    assert state(client.get(page).get_data(as_text=True)) == "送信中 1/3"

    deliver_everything(app)
    assert state(client.get(listing).get_data(as_text=True)) == "送信済み 2/3 失敗 1件"
    assert state(client.get(page).get_data(as_text=True)) == "送信済み 2/3 失敗 1件"
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_server.received if "ご案内" in m["Subject"]) == \
        sorted(p.email for p in people[:2])
    assert db.session.scalars(select(AttendeeMessage.recipient_count)).one() == 3


def test_a_message_to_nobody_is_sent_at_once(app, world, client, login):
    event, _people, editor = world
    login(editor)
    page = queue_message(client, event, 0, q="該当者なし")
    assert state(client.get(page).get_data(as_text=True)) == "送信済み 0/0"
