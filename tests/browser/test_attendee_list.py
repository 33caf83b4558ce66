"""The attendee list in Chromium: a laptop table with 五十音 headings, a phone of stacked cards
that never scrolls sideways, a hiragana search, and a bulk action confirmed and done."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from eventreg.extensions import db

from .. import factories
from ..roster_people import insert_people


def two_sessions_with_questions(capacity=400):
    start = factories.in_days(14)
    return factories.make_event(title="市民活動セミナー「地域で働く」2026", sessions=[
        {"title": "第1回", "date": start.date().isoformat(), "start": "14:00", "end": "17:00", "capacity": capacity},
        {"title": "第2回", "date": (start + timedelta(days=7)).date().isoformat(), "start": "14:00",
         "end": "17:00", "capacity": capacity},
    ], questions=[
        {"label": "参加の目的", "kind": "single", "choices": ["情報収集", "ネットワーク作り", "登壇者の話を聞きたい"]},
        {"label": "関心分野", "kind": "multiple", "choices": ["教育", "福祉", "環境", "まちづくり"]},
        {"label": "ご質問・配慮が必要なこと", "kind": "text"},
    ])


def sign_in(page, live_server, email, url):
    page.goto(f"{live_server}/login?next={quote(url, safe='')}")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{url}")


def no_sideways_scroll(page) -> bool:
    """Nothing is wider than the phone (a mobile viewport would zoom out to fit a wider page, so
    the check is against the device width, not innerWidth), except inside the boxes that scroll
    sideways on purpose: the per-session table and the event's tab bar."""
    return page.evaluate("() => document.documentElement.scrollWidth <= screen.width"
                         " && [...document.querySelectorAll('body *')].every(e => e.getBoundingClientRect().right <= screen.width + 0.5"
                         " || e.closest('.table-scroll, .admin-tabs'))")


def test_laptop_and_phone(app, live_server, desktop, phone, shot):
    with app.app_context():
        event = two_sessions_with_questions()
        insert_people(event, 240)
        organizer = factories.make_staff("organizer", name="主催 花子").email
        viewer = factories.make_staff("viewer", events=[event], name="閲覧 次郎").email
        event_id, first_session = event.id, event.sessions[0].id
        db.session.remove()
    url = f"/admin/events/{event_id}/attendees"

    sign_in(desktop, live_server, organizer, url)
    headings = desktop.locator("tr.kana-heading th").all_inner_texts()
    assert headings[:3] == ["あ行", "か行", "さ行"], headings
    assert desktop.locator("tr.person").count() == 100
    assert desktop.locator("input[name=ids]").count() == 100
    shot(desktop, "attendee-list-list-1280")
    assert desktop.js_errors == []

    desktop.fill("#f-q", "やまだ")
    desktop.click(".roster-filter button[type=submit]")
    desktop.wait_for_url("**q=*")
    names = desktop.locator("td.col-name").all_inner_texts()
    assert names and all(n.startswith("山田") for n in names), names
    desktop.check("input[name=answers]")
    desktop.click(".roster-filter button[type=submit]")
    desktop.wait_for_url("**answers=1*")
    assert desktop.locator("th.col-answer").count() == 3
    shot(desktop, "attendee-list-search-answers-1280")

    # Bulk: select all on the page with the header checkbox, resend the pass, confirm.
    desktop.goto(f"{live_server}{url}?status=confirmed&walk_in=0&session={first_session}&sort=organization")
    rows = desktop.locator("tr.person").count()
    desktop.check("thead .col-select input")
    assert desktop.locator("input[name=ids]:checked").count() == rows == 100
    desktop.select_option("#b-action", "resend")
    assert desktop.locator("#b-target").is_hidden()
    desktop.click(".bulk-panel button[type=submit]")
    desktop.wait_for_url(f"**{url}/bulk")
    assert "100" in desktop.locator(".bulk-summary").inner_text()
    shot(desktop, "attendee-list-bulk-confirm-1280")
    desktop.click(".bulk-confirm form button[type=submit]")
    desktop.wait_for_url(f"**{url}?*")
    assert "100" in desktop.locator(".flash").inner_text()

    sign_in(phone, live_server, viewer, url)
    assert phone.locator("input[name=ids]").count() == 0  # a viewer reads, nothing more
    assert no_sideways_scroll(phone)
    card = phone.locator("tr.person").first.bounding_box()
    assert card["width"] <= 390
    shot(phone, "attendee-list-list-390")
    phone.goto(f"{live_server}{url}?answers=1&q=%EF%BE%94%EF%BE%8F%EF%BE%80%EF%BE%9E")  # ﾔﾏﾀﾞ
    assert no_sideways_scroll(phone)
    assert phone.locator("tr.person").count() > 0
    assert phone.js_errors == []

    sign_in(phone, live_server, organizer, url)
    assert no_sideways_scroll(phone)
    shot(phone, "attendee-list-list-organizer-390", full_page=False)
