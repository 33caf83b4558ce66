"""An attendee stops the organizer's messages from the link in one (phone), and the organizer sees
the message list (送信中 n/N, 失敗) and the compose page say who is left out (desktop)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from eventreg.domain.backoffice.roster import ListFilter
from eventreg.domain.communication import attendee_messages
from eventreg.extensions import db
from eventreg.models import Event
from eventreg.worker import deliver_due

from .. import factories
from .organizer import sign_in


def test_the_link_in_a_message_stops_the_next_ones(app, live_server, desktop, phone, smtp_server, shot):
    with app.app_context():
        event = factories.make_event()
        for i in range(3):
            factories.register_person(event, email=f"p{i}@example.org")
        organizer = factories.make_staff("organizer", events=[event], email="unsub@example.org").email
        event_id = event.id
        db.session.remove()
    while deliver_due(app, worker_id="browser-test", batch=20):  # the confirmations
        pass
    smtp_server.refuse.add("p2@example.org")
    with app.app_context():
        now = datetime.now(timezone.utc)
        event = db.session.get(Event, event_id)
        msg = attendee_messages.save_draft(event, subject="当日のご案内", body="{name} 様\n持ち物のご案内です。",
                                           flt=ListFilter(), actor=None, now=now)
        attendee_messages.queue(msg.id, now)
        db.session.commit()
        db.session.remove()
    deliver_due(app, worker_id="browser-test", batch=1)

    sign_in(desktop, live_server, organizer)
    desktop.goto(f"{live_server}/admin/events/{event_id}/messages")
    assert " ".join(desktop.inner_text(".msg-status").split()) == "送信中 1/3"
    shot(desktop, "messages-list-sending-desktop")
    while deliver_due(app, worker_id="browser-test", batch=20):
        pass
    desktop.reload()
    assert " ".join(desktop.inner_text("td:has(.msg-status)").split()) == "送信済み 2/3 失敗 1件"
    shot(desktop, "messages-list-sent-desktop")

    [mail] = [m for m in smtp_server.to("p0@example.org") if m["Subject"] == "当日のご案内"]
    link = re.search(r"http://\S+/u/\S+", mail.get_body(("plain",)).get_content()).group()
    assert mail["List-Unsubscribe"] == f"<{link}>"
    phone.goto(link)
    assert phone.locator("button:has-text('配信を停止する')").count() == 1
    shot(phone, "unsubscribe-ask-phone")
    phone.click("button:has-text('配信を停止する')")
    phone.wait_for_selector("text=今後お送りしません")
    assert "お申し込みはそのまま" in phone.inner_text("body") and phone.url == link  # no redirect
    shot(phone, "unsubscribe-done-phone")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    desktop.goto(f"{live_server}/admin/events/{event_id}/messages/new")
    assert "配信を停止した1名は除きます" in desktop.inner_text(".recipient-count")
    assert "現在の該当者: 2名" in desktop.inner_text(".recipient-count")
    shot(desktop, "messages-compose-stopped-desktop")
