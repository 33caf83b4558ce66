"""The event editor in Chromium: an organizer creates the seed seminar from nothing, on a laptop
and on a phone; nothing overflows a 390-px screen and the pages run under the CSP without errors."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .organizer import (
    SEED,
    SEED_QUESTION,
    add_question,
    add_session,
    make_organizer,
    publish,
    save_draft,
    sign_in,
    start_new_event,
)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_create_the_seed_seminar_in_the_browser(app, live_server, desktop, phone, shot):
    email = make_organizer(app)
    page = desktop
    sign_in(page, live_server, email)
    start_new_event(page, SEED)
    page.click("button:has-text('説明をプレビュー')")
    assert page.locator(".md-preview strong").inner_text() == "ディスカッション"
    edit_url = save_draft(page)
    day = (datetime.now(ZoneInfo("Asia/Tokyo")) + timedelta(days=30)).date()
    add_session(page, day, doors="13:30", start="14:00", end="17:00", capacity=80)
    assert "80席中0席埋まり" in page.inner_text("#sessions")
    add_question(page, **SEED_QUESTION)
    page.goto(edit_url)
    assert page.is_checked("input[name=deadline_kind][value=days_before]")  # 前日12:00, in the deadline editor
    assert "締切: " in page.inner_text("#deadline_kind-field .deadline-resolved")
    shot(page, "event-editor-1280")
    page.goto(edit_url.replace("/edit", "/preview"))
    assert "プレビュー(未公開)" in page.inner_text(".preview-banner")
    shot(page, "event-preview-1280")
    publish(page, edit_url)
    page.goto(edit_url.replace("/edit", ""))
    assert "公開中" in page.inner_text(".admin-head")
    shot(page, "event-overview-1280")
    assert page.js_errors == []

    sign_in(phone, live_server, email)
    shot(phone, "event-staff-390")
    _no_sideways_scroll(phone)
    for path, name in (("/edit", "editor"), ("", "overview"), ("/checkins", "checkins")):
        phone.goto(edit_url.replace("/edit", path))
        _no_sideways_scroll(phone)
        shot(phone, f"event-{name}-390")
    assert phone.js_errors == []
