"""An organizer sends a message to the 「未到着」 attendees in Chromium; the worker delivers it to
the SMTP server on loopback, to exactly those people (not the one checked in, not the waiting one)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import update

from eventreg.extensions import db
from eventreg.models import Registration
from eventreg.worker import deliver_due

from .. import factories
from .organizer import sign_in


def test_a_message_to_the_not_yet_arrived(app, live_server, desktop, phone, smtp_server, shot):
    with app.app_context():
        event = factories.make_event(capacity=4)
        waiting_people = [factories.register_person(event, email=f"coming{i}@example.org") for i in range(3)]
        arrived = factories.register_person(event, email="arrived@example.org")
        waiting = factories.register_person(event, email="waiting@example.org")  # the session is full
        db.session.execute(update(Registration).where(Registration.id == arrived.id)
                           .values(checked_in_at=datetime.now(timezone.utc)))
        db.session.commit()
        event_id = event.id
        expected = {p.email for p in waiting_people}
        first_name = min(waiting_people, key=lambda p: p.id).full_name
        organizer = factories.make_staff("organizer", events=[event], email="messages@example.org").email
        assert waiting.status.value == "waitlisted"
        db.session.remove()

    page = desktop
    sign_in(page, live_server, organizer)
    page.goto(f"{live_server}/admin/events/{event_id}/attendees?status=not_arrived")
    page.click("text=このリストにメッセージを送る")
    page.wait_for_url("**/messages/new?*")
    assert page.locator("#f-status").input_value() == "not_arrived"
    assert "3名" in page.inner_text(".recipient-count")
    # The count follows the filter before anything is sent (GET …/messages/count), and says who is left out.
    assert page.locator("button[name=recount]").count() == 0  # the no-JS button gives way
    page.select_option("#f-status", "")
    page.wait_for_selector(".recipient-count:has-text('現在の該当者: 5名')")
    page.select_option("#f-status", "not_arrived")
    page.wait_for_selector(".recipient-count:has-text('現在の該当者: 3名')")
    page.fill("#m-subject", "【明日のご案内】{氏名}様")
    page.fill("#m-body", "{name} 様\n\n明日の{event}でお待ちしています。\n日時: {date}\n会場: {venue}\n入場証: ")
    page.click("button[data-insert='{pass_link}']")
    assert page.locator("#m-body").input_value().endswith("入場証: {pass_link}")
    shot(page, "messages-compose-desktop")
    page.click("button:has-text('保存してプレビュー')")
    page.wait_for_url(f"**/admin/events/{event_id}/messages/*")
    preview = page.inner_text(".mail-preview")
    assert f"{first_name} 様" in preview and "/r/" in preview and "{" not in preview
    shot(page, "messages-preview-desktop")
    send = page.locator("button:has-text('3名に送信')")
    assert send.count() == 1
    send.click()
    page.wait_for_selector("text=3名への送信を開始しました。")
    assert " ".join(page.inner_text("h1 .msg-status").split()) == "送信中 0/3"

    total = 0
    while (sent := deliver_due(app, worker_id="browser-test")) > 0:
        total += sent
    messages = [m for m in smtp_server.received if ".message@" in m["Message-ID"]]
    assert {m["To"].addresses[0].addr_spec for m in messages} == expected
    assert len(messages) == 3
    assert all(m["Subject"].startswith("【明日のご案内】") for m in messages)
    body = messages[0].get_body(("plain",)).get_content()
    assert "明日の" in body and "/r/" in body

    page.reload()
    assert " ".join(page.inner_text("h1 .msg-status").split()) == "送信済み 3/3"
    assert page.inner_text(".count-cards").replace("\n", " ").count("3") >= 2
    shot(page, "messages-history-desktop")
    sign_in(phone, live_server, organizer, then=f"/admin/events/{event_id}/messages/new?status=not_arrived")
    shot(phone, "messages-compose-phone")
    phone.goto(page.url)
    shot(phone, "messages-history-phone")
    phone.goto(f"{live_server}/admin/events/{event_id}/messages")
    shot(phone, "messages-list-phone")
    assert not page.js_errors and not phone.js_errors
