"""The deadline editor in Chromium (issue 16): an organizer chooses 「3 営業日前の 17:00」, sees each
session's deadline resolved by the server as they type (a Golden Week session skips the holidays),
saves, and finds the same deadline stored on the session; a session gets a deadline of its own.
On a phone the editor fits the screen (screenshot: deadline-editor-390)."""

from __future__ import annotations

from datetime import date, datetime

from playwright.sync_api import expect

from eventreg.extensions import db
from eventreg.models import Event

from .organizer import add_session, make_organizer, save_draft, sign_in, start_new_event

# Thursday 7 May 2026, after Golden Week: 3 business days before is Tuesday 28 April (29 April,
# 3–6 May are holidays, 2–3 May a weekend). The year is fixed: the holidays are the point.
GOLDEN_WEEK_SESSION = date(2026, 5, 7)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_choose_business_days_see_the_deadline_live_and_save(app, live_server, desktop, shot):
    page = desktop
    sign_in(page, live_server, make_organizer(app))
    start_new_event(page, {"title": "GW明けの説明会", "contact_email": "office@example.org"})
    edit_url = save_draft(page)
    add_session(page, GOLDEN_WEEK_SESSION, start="14:00", end="16:00", capacity=30)
    page.goto(edit_url)
    editor = page.locator("#deadline_kind-field")
    resolved = editor.locator(".deadline-resolved")
    assert "締切: 5月7日(木) 14:00" in resolved.inner_text()  # no deadline yet: until the start

    # Typing in the business-days part chooses its kind; the server answers as the parts change.
    page.fill("#deadline_business_days", "3")
    assert page.is_checked("input[name=deadline_kind][value=business_days_before]")
    page.fill("#deadline_business_at", "17:00")
    expect(resolved).to_contain_text("締切: 4月28日(火) 17:00")
    assert not page.locator("button[value=deadline_preview]").is_visible()  # the no-JS button hides
    shot(page, "deadline-editor-1280")

    page.click("button:has-text('基本情報を保存')")
    page.wait_for_url("**/edit")
    with app.app_context():
        event = db.session.scalars(db.select(Event).where(Event.title == "GW明けの説明会")).one()
        session = event.sessions[0]
        assert (event.deadline_days_before, event.deadline_time, event.deadline_business_days) == (3, "17:00", True)
        assert session.closes_at == datetime.fromisoformat("2026-04-28T17:00+09:00")
        db.session.remove()
    page.goto(edit_url)
    assert page.is_checked("input[name=deadline_kind][value=business_days_before]")
    assert "締切: 4月28日(火) 17:00" in page.inner_text("#deadline_kind-field .deadline-resolved")
    overview = edit_url.replace("/edit", "")
    page.goto(overview)
    assert "4月28日(火) 17:00" in page.inner_text("main") and "3営業日前の17:00" in page.inner_text("main")
    assert page.js_errors == []


def test_a_sessions_own_deadline_and_the_phone_layout(app, live_server, desktop, phone, shot):
    page = desktop
    email = make_organizer(app)
    sign_in(page, live_server, email)
    start_new_event(page, {"title": "夜の相談会", "contact_email": "office@example.org", "deadline": "1d@12:00"})
    edit_url = save_draft(page)
    add_session(page, GOLDEN_WEEK_SESSION, start="19:00", end="20:30", capacity=20, title="第1回")
    page.click("#sessions a:has-text('変更')")
    page.click("summary:has-text('この回だけの申込締切')")
    page.fill("#session_deadline_hours", "2")
    assert page.is_checked("input[name=session_deadline_kind][value=hours_before]")
    expect(page.locator("#session_deadline_kind-field .deadline-resolved")).to_contain_text("5月7日(木) 17:00")
    assert "この回だけの締切" in page.inner_text("#session_deadline_kind-field .deadline-resolved")
    page.click("button:has-text('回を保存')")
    page.wait_for_url("**/edit#sessions")
    assert "5月7日(木) 17:00" in page.inner_text("#sessions")
    assert page.js_errors == []

    sign_in(phone, live_server, email)
    phone.goto(edit_url)
    phone.locator("#deadline_kind-field").scroll_into_view_if_needed()
    _no_sideways_scroll(phone)
    box = phone.locator("#deadline_kind-field").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= phone.viewport_size["width"]
    phone.goto(edit_url)
    phone.click("#sessions a:has-text('変更')")
    phone.locator("#session_deadline_kind-field").scroll_into_view_if_needed()  # open: the session has its own
    assert phone.is_checked("input[name=session_deadline_kind][value=hours_before]")
    _no_sideways_scroll(phone)
    shot(phone, "deadline-session-390")
    phone.goto(edit_url)
    page_shot = shot(phone, "deadline-editor-page-390")  # the whole settings page …
    phone.locator("#deadline_kind-field").screenshot(path=str(page_shot.with_name("deadline-editor-390.png")))  # … and the editor
    assert phone.js_errors == []
