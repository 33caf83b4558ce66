"""Issue 16's attendee cuts in Chromium on a phone: the 「申し込む」 jump near the top, the page
after signing up (the address, the 受付番号, the Google Calendar link), and a sign-up over a limit
that keeps what was typed and says when to try again. Screenshots of each."""

from __future__ import annotations

import re
import uuid

import pytest

from ..threaded_server import served
from .test_registration_flow import assert_no_horizontal_overflow, fill_registration, new_event

pytestmark = pytest.mark.browser


def test_jump_to_the_form_then_the_page_after_signing_up(app, live_server, phone, desktop, shot):
    slug, _ = new_event(app)
    phone.goto(f"{live_server}/e/{slug}")
    jump = phone.locator(".jump-to-form a")
    assert jump.is_visible() and jump.bounding_box()["y"] < 300  # near the top of the first screen
    shot(phone, "event-phone-top", full_page=False)
    jump.click()
    phone.wait_for_function("location.hash === '#register'")
    assert phone.evaluate("document.getElementById('register').getBoundingClientRect().top") < 50
    shot(phone, "event-phone-at-form", full_page=False)
    assert_no_horizontal_overflow(phone)

    fill_registration(phone, email="Hanako@Example.org", email_confirm="hanako@example.org")
    phone.click("form button.primary[type=submit]")
    phone.wait_for_url(re.compile(r"/r/[^/?]+\?welcome=1"))  # (#register, the jump, rides along)
    assert "確認のメールを hanako@example.org にお送りしました。" in phone.locator(".welcome").inner_text()
    number = phone.locator(".reference strong").inner_text()
    assert re.fullmatch(r"\d{6}", number)
    assert phone.locator("a[href^='https://calendar.google.com/']").is_visible()
    assert phone.locator("a[href$='/calendar.ics']").is_visible()
    assert_no_horizontal_overflow(phone)
    shot(phone, "signed-up-phone")
    desktop.goto(phone.url)
    assert desktop.locator(".jump-to-form").count() == 0 or not desktop.locator(".jump-to-form").is_visible()
    shot(desktop, "signed-up-desktop")


def test_a_sign_up_over_the_limit_keeps_the_form_and_says_when(app, make_app, phone, shot):
    slug, _ = new_event(app)
    limited = make_app({  # the app with the limits on (the suite's app has them off), same database
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "BASE_URL": "http://testserver", "MAIL_PORT": 1, "RATELIMIT_ENABLED": True,
        "RATELIMIT_PREFIX": f"browser-{uuid.uuid4().hex}", "RATELIMIT_SIGNUP_PER_ADDRESS": "1/hour"})
    with served(limited) as base:
        phone.goto(f"{base}/e/{slug}")
        fill_registration(phone, email="first@example.org")
        phone.click("form button.primary[type=submit]")
        phone.wait_for_url(re.compile(r"/r/"))
        phone.goto(f"{base}/e/{slug}")
        fill_registration(phone, email="colleague@example.org")
        with phone.expect_response(lambda r: r.request.method == "POST") as answer:
            phone.click("form button.primary[type=submit]")
        assert answer.value.status == 429 and int(answer.value.headers["retry-after"]) > 0
        refusal = phone.locator("#refusal")
        assert "以降にもう一度送信してください" in refusal.inner_text()
        assert phone.input_value("#email") == "colleague@example.org"
        assert phone.input_value("#organization") == "育て上げネット"
        assert phone.is_checked("#consent")
        # The refusal is where the person looks: focused, so in view.
        assert phone.evaluate("document.activeElement.id") == "refusal"
        assert_no_horizontal_overflow(phone)
        shot(phone, "refused-429-phone", full_page=False)
        shot(phone, "refused-429-phone-full")
