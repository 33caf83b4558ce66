"""An organizer's message delivered by the worker to a real SMTP server: its state as the list and
its page show it (送信中 n/N until every outbox row is done, then 送信済み, failures said); the
compose page's count as the filter changes (JSON, and the no-JS button), by the rule of sending."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import func, select

from eventreg.domain.backoffice.roster import ListFilter
from eventreg.domain.communication import attendee_messages, opt_outs
from eventreg.extensions import db
from eventreg.models import AttendeeMessage, OutboxMessage
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


def test_the_count_follows_the_filter_by_the_rule_of_sending(app, ctx, client, login):
    """GET …/messages/count answers what sending would do: the same count, the same words as the page."""
    event = factories.make_event(capacity=2)
    people = [factories.register_person(event) for _ in range(3)]  # the third waits
    editor = factories.make_staff("editor", events=[event])
    opt_outs.stop(people[0], datetime.now(timezone.utc))
    db.session.commit()
    login(editor)
    url = f"/admin/events/{event.id}/messages/count"
    for query, count, stopped in (("", 2, 1), ("?status=confirmed", 1, 1), ("?status=waitlisted", 1, 0),
                                  ("?status=cancelled", 0, 0), (f"?q={people[1].email}", 1, 0)):
        answer = client.get(url + query)
        assert answer.status_code == 200 and answer.is_json
        assert (answer.json["count"], answer.json["stopped"]) == (count, stopped), query
        flt = ListFilter.from_args(dict(parse_qsl(query[1:])))
        assert count == attendee_messages.recipient_count(event, flt, now=datetime.now(timezone.utc))
        assert f"{count}名" in answer.json["words"]
        compose = client.get(f"/admin/events/{event.id}/messages/new{query}").get_data(as_text=True)
        assert answer.json["words"] in " ".join(compose.split())  # the words of the page itself
    page = queue_message(client, event, 1, status="confirmed")  # and sending makes that many rows
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.attendee_message_id == int(page.rsplit("/", 1)[1]))) == 1
    for bad in ("?status=%FF", "?session=abc", "?session=99999999999", "?walk_in=maybe", "?q=" + "x" * 5000):
        assert client.get(url + bad).status_code in (200, 400)


def test_a_viewer_gets_no_count(app, world, client, login):
    event, _people, _editor = world
    login(factories.make_staff("viewer", events=[event]))
    assert client.get(f"/admin/events/{event.id}/messages/count").status_code == 403


def test_without_javascript_the_button_counts_again_and_saves_nothing(app, world, client, login):
    event, people, editor = world
    login(editor)
    url = f"/admin/events/{event.id}/messages/new"
    answer = client.post(url, data={"csrf_token": csrf_token(client, url), "recount": "1", "q": people[0].email,
                                    "subject": "書きかけの件名", "body": ""})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "現在の該当者: 1名" in html
    assert "書きかけの件名" in html and 'name="recount"' in html
    assert db.session.scalars(select(AttendeeMessage)).all() == []
