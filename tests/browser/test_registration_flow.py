"""A person registers on a phone, gets the email, opens the link and cancels: in real Chromium.

Assertions use structure and classes (``.status-confirmed``, ``.error-summary``, field ids),
not translated words, so they survive the translation of the UI. Every look at the database
happens in a short app context that is closed before the browser acts again: on SQLite every
transaction takes the write lock (BEGIN IMMEDIATE), so an open one would stall the server.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from eventreg.domain.registration import passes
from eventreg.extensions import db
from eventreg.models import EventSession, Registration, Status
from eventreg.worker import deliver_due

from .. import factories

pytestmark = pytest.mark.browser


@contextmanager
def database(app):
    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()


def new_event(app, **overrides) -> tuple[str, int]:
    with database(app):
        event = factories.make_event(**overrides)
        return event.slug, event.sessions[0].id


def type_into(page, selector: str, text: str) -> None:
    """Click into a field and type, key by key, as a person would."""
    page.click(selector)
    page.keyboard.type(text, delay=5)


def choose(page, name: str, value: str) -> None:
    """Tap the label of a radio/checkbox option (the big target a person would hit)."""
    page.locator(f"label.choice:has(input[name='{name}'][value='{value}'])").click()


def assert_no_horizontal_overflow(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page is wider than the viewport: {widths}"


def assert_touch_targets(page, minimum: int = 24) -> None:
    """Interactive controls in <main> are at least ``minimum`` CSS px in both directions.

    A radio button or checkbox is hit through its wrapping <label>, so the label is measured.
    """
    small = page.evaluate(
        """(minimum) => [...document.querySelectorAll(
              'main input:not([type=hidden]), main button, main a.button, main select, main textarea')]
            .filter(e => e.offsetParent !== null)
            .map(e => { const target = e.matches('[type=radio], [type=checkbox]') && e.closest('label') || e;
                        const r = target.getBoundingClientRect();
                        return {id: e.id || e.name || e.textContent.trim().slice(0, 20),
                                w: Math.round(r.width), h: Math.round(r.height)}; })
            .filter(r => r.w < minimum || r.h < minimum)""",
        minimum,
    )
    assert not small, f"touch targets smaller than {minimum}px: {small}"


def fill_registration(page, *, email: str, email_confirm: str | None = None, consent: bool = True) -> None:
    type_into(page, "#family_name", "山田")
    page.keyboard.press("Tab")  # family name -> given name, in reading order
    page.keyboard.type("花子", delay=5)
    type_into(page, "#family_kana", "やまだ")  # hiragana: the app stores katakana
    type_into(page, "#given_kana", "はなこ")
    type_into(page, "#email", email)
    type_into(page, "#email_confirm", email if email_confirm is None else email_confirm)
    type_into(page, "#organization", "育て上げネット")
    choose(page, "sector", "npo")
    if consent:
        page.click("#consent")


def test_register_on_phone_then_cancel_from_the_email(app, live_server, smtp_server, phone, shot):
    slug, session_id = new_event(app, capacity=5)
    page = phone

    page.goto(f"{live_server}/e/{slug}")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("section.register form").is_visible()
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot(page, "event-phone")

    fill_registration(page, email="Hanako.Yamada@Example.org")
    assert page.is_checked("input[name=sector][value=npo]") and page.is_checked("#consent")
    shot(page, "event-phone-filled")
    page.click("section.register button[type=submit]")

    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]+\?welcome=1$"))
    token = page.url.rsplit("/", 1)[1].split("?")[0]
    assert page.locator(".status.status-confirmed").is_visible()
    assert page.locator("p.flash").is_visible()
    qr = page.locator(".pass .qr svg")
    assert qr.is_visible()
    box = qr.bounding_box()
    # As wide as the phone allows (quiet zone included: it runs into the card's padding), and
    # readable from the screen as a desk camera sees it: the pass of this registration.
    assert box["width"] >= 0.88 * 390 and box["width"] == box["height"]
    shown = [c.text for c in zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))]
    assert page.locator(".pass .kana").inner_text().strip() == "ヤマダ ハナコ"
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot(page, "registration-phone")

    with database(app) as s:
        reg = s.scalar(select(Registration).where(Registration.token == token))
        assert reg is not None and reg.status == Status.confirmed
        assert shown == [passes.qr_payload(reg)]
        assert (reg.family_name, reg.given_name) == ("山田", "花子")
        assert (reg.family_kana, reg.given_kana) == ("ヤマダ", "ハナコ")
        assert reg.email == "hanako.yamada@example.org"
        assert reg.organization == "育て上げネット" and reg.sector.value == "npo"
        assert reg.language == "ja"
        assert s.get(EventSession, session_id).seats_taken == 1

    _cancel_from_email(app, live_server, page, token, session_id, shot, smtp_server)


def _cancel_from_email(app, live_server, page, token, session_id, shot, smtp_server):
    """The confirmation email reaches a real SMTP server; its link leads to the cancellation."""
    assert deliver_due(app, worker_id="browser-test") == 1
    [mail] = smtp_server.to("hanako.yamada@example.org")
    attachments = {part.get_filename() for part in mail.iter_attachments()}
    assert {"pass.pdf", "calendar.ics"} <= attachments
    text = mail.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(rf"{re.escape(live_server)}/r/[A-Za-z0-9_-]+(?=\s)", text)
    assert links, f"no registration link in the email text:\n{text}"
    assert links[0] == f"{live_server}/r/{token}"

    # A fresh visit from the email (no flash message left over from the sign-up).
    page.goto(links[0])
    assert page.locator(".status.status-confirmed").is_visible()
    assert page.locator("p.flash").count() == 0
    page.click("a.button.danger")
    page.wait_for_url(f"**/r/{token}/cancel")
    assert_touch_targets(page)
    shot(page, "cancel-phone")
    page.click("form button.danger[type=submit]")
    page.wait_for_url(f"**/r/{token}")
    assert page.locator(".status.status-cancelled").is_visible()
    assert page.locator(".pass .qr svg").count() == 0
    assert page.locator("a.button.danger").count() == 0
    shot(page, "cancelled-phone")
    with database(app) as s:
        reg = s.scalar(select(Registration).where(Registration.token == token))
        assert reg.status == Status.cancelled and reg.cancelled_at is not None
        assert s.get(EventSession, session_id).seats_taken == 0

    # ... and the cancellation is confirmed by email too.
    assert deliver_due(app, worker_id="browser-test") == 1
    assert len(smtp_server.to("hanako.yamada@example.org")) == 2


def test_page_shows_no_form_after_the_deadline(app, live_server, phone, shot):
    # The seed seminar's rule is "1 day before at 12:00"; for a session tomorrow at 10:00 that
    # is today 12:00 JST, which is only past in the afternoon. 00:00 keeps the same rule shape
    # (days_before=1, a time of day) and is past whenever the test runs.
    start = factories.in_days(1, "10:00")
    slug, _ = new_event(app, start=start, deadline={"days_before": 1, "time": "00:00"})

    response = phone.goto(f"{live_server}/e/{slug}")
    assert response.status == 200
    assert phone.locator(".session .badge.closed").is_visible()
    assert phone.locator("section.register .closed-note").is_visible()
    assert phone.locator("section.register form").count() == 0
    assert phone.locator("input[name=email]").count() == 0
    assert_no_horizontal_overflow(phone)
    shot(phone, "event-closed-phone")


def test_mismatched_emails_and_no_consent_show_the_error_summary(app, live_server, phone, shot):
    slug, session_id = new_event(app)
    page = phone
    page.goto(f"{live_server}/e/{slug}")

    fill_registration(page, email="hanako@example.org", email_confirm="hanako@example.com", consent=False)
    page.focus("#organization")
    page.keyboard.press("Enter")  # submitting from a text field, with the keyboard
    page.wait_for_load_state("domcontentloaded")

    summary = page.locator(".error-summary[role=alert]")
    summary.wait_for()
    # Focus lands on the summary, so keyboard and screen-reader users start there.
    expect(page.locator("#error-summary")).to_be_focused()  # not wait_for_function: CSP refuses eval
    links = summary.locator("a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == ["#email_confirm-field", "#consent-field"]
    shot(page, "event-errors-phone")

    # What the person typed is still there (only the missing consent must be given again).
    assert page.input_value("#family_name") == "山田"
    assert page.input_value("#given_name") == "花子"
    assert page.input_value("#family_kana") == "ヤマダ"  # shown normalised
    assert page.input_value("#email") == "hanako@example.org"
    assert page.input_value("#email_confirm") == "hanako@example.com"
    assert page.input_value("#organization") == "育て上げネット"
    assert page.is_checked("input[name=sector][value=npo]")
    assert not page.is_checked("#consent")

    # Errors are tied to their fields for screen readers.
    assert page.get_attribute("#email_confirm", "aria-invalid") == "true"
    assert "email_confirm-error" in page.get_attribute("#email_confirm", "aria-describedby")
    assert page.locator("#consent-field.has-error .error").is_visible()
    assert_no_horizontal_overflow(page)

    # The summary links lead to the fields: fix both with mouse and keyboard, then send.
    links.nth(0).click()
    assert page.url.endswith("#email_confirm-field")
    page.fill("#email_confirm", "")
    type_into(page, "#email_confirm", "hanako@example.org")
    links.nth(1).click()
    page.click("#consent")
    page.click("section.register button[type=submit]")
    # The browser keeps the #fragment across the redirect, so the URL may end in one.
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]+\?welcome=1(#[\w-]*)?$"))
    assert page.locator(".status.status-confirmed").is_visible()
    with database(app) as s:
        assert s.get(EventSession, session_id).seats_taken == 1


def test_event_page_on_desktop(app, live_server, desktop, shot):
    slug, _ = new_event(app)
    desktop.goto(f"{live_server}/e/{slug}")
    assert desktop.locator("section.register form").is_visible()
    assert_no_horizontal_overflow(desktop)
    # Family and given name sit side by side on wide screens.
    for left, right in (("#family_name", "#given_name"), ("#family_kana", "#given_kana")):
        a, b = desktop.locator(left).bounding_box(), desktop.locator(right).bounding_box()
        assert abs(a["y"] - b["y"]) < 2 and b["x"] > a["x"], (left, right, a, b)
    shot(desktop, "event-desktop")
