"""Email confirmation in a real browser: a person signs up on a phone for an event that asks for
it, sees that the seat is only held (and no way to confirm it from there), opens the link from
the email that reached a real SMTP server, presses the button (the link alone confirms nothing),
and then gets the confirmation with the entry pass."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from eventreg.models import EventSession, Registration, Status
from eventreg.worker import deliver_due

from .. import factories
from .test_registration_flow import database, fill_registration

pytestmark = pytest.mark.browser


def test_a_held_seat_is_confirmed_from_the_email(app, live_server, smtp_server, phone, shot):
    with database(app) as s:
        event = factories.make_event(capacity=5, confirm_email=True, hold_minutes=30)
        slug, session_id = event.slug, event.sessions[0].id
        s.commit()

    phone.goto(f"{live_server}/e/{slug}")
    email = "kakunin.hanako@example.org"
    fill_registration(phone, email=email)
    phone.click("section.register button[type=submit]")
    phone.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]+\?welcome=1$"))
    token = phone.url.rsplit("/", 1)[1].split("?")[0]
    assert phone.locator(".status.status-held").is_visible()
    assert phone.locator(".pass").count() == 0  # no entry pass while the address is unconfirmed
    # Only the mail proves the mailbox: the page after the form has no way to confirm.
    assert phone.get_by_role("button", name="メールアドレスを確認する").count() == 0
    assert phone.locator("a[href*='/confirm']").count() == 0
    assert email in phone.locator("section.hold").inner_text()
    shot(phone, "held-registration-phone")
    with database(app) as s:
        assert s.get(EventSession, session_id).seats_taken == 1  # the hold counts as a seat

    assert deliver_due(app, worker_id="browser-test") >= 1
    [mail] = smtp_server.to(email)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "pass.pdf" not in [part.get_filename() for part in mail.iter_attachments()]
    link = re.findall(rf"{re.escape(live_server)}/r/{re.escape(token)}/confirm/[A-Za-z0-9_-]{{22}}", text)[0]

    phone.goto(link)  # what a mail scanner would fetch: nothing changes
    with database(app) as s:
        assert s.scalar(select(Registration.status).where(Registration.token == token)) == Status.held
    shot(phone, "confirm-email-phone")
    phone.click("form button.primary[type=submit]")
    phone.wait_for_url(f"**/r/{token}")
    assert phone.locator(".status.status-confirmed").is_visible()
    with database(app) as s:
        reg = s.scalar(select(Registration).where(Registration.token == token))
        assert reg.status == Status.confirmed and reg.email_confirmed_at is not None and reg.hold_expires_at is None

    while deliver_due(app, worker_id="browser-test"):
        pass
    mails = smtp_server.to(email)
    assert len(mails) == 2
    assert "pass.pdf" in [part.get_filename() for part in mails[1].iter_attachments()]
