"""The Content-Security-Policy breaks nothing: no page we serve triggers a violation in Chromium.

The watching is tests/browser/conftest.py's (every browser test fails on a violation); this test
walks the pages that no other browser test opens, the two statistics pages among them (their
charts' inline styles were 14 violations).
"""

from __future__ import annotations

from .. import factories
from .conftest import DESKTOP, watch
from .test_desk import setup_desk, sign_in
from .test_registration_flow import database


def test_public_staff_desk_and_badge_pages_run_under_the_policy(app, live_server, browser, desktop, browser_problems):
    ids = setup_desk(app, [dict(family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ")])
    [(reg_id, token)] = ids["people"]
    with database(app):
        slug = factories.make_event().slug
    page = desktop
    for path in ["/", f"/e/{slug}", f"/r/{token}", "/no-such-page", "/lang/en?next=/"]:
        page.goto(live_server + path)
    sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}")
    page.fill("#scan-input", "not-a-pass")  # the desk's script runs: the field answers
    page.keyboard.press("Enter")
    page.locator(".result").first.wait_for()
    # The badge page opens the PDF in a frame and calls its print dialog. Headless Chromium's
    # print of a PDF frame sometimes crashes the browser (about once in twenty runs here), and the
    # dialog is not what this test checks: the frame gets a small HTML page instead of the PDF
    # (tests/adapters checks the PDF) and print only records that the page's script called it.
    page.add_init_script("window.print = () => { window.__printed = true; };")  # every frame
    page.route("**/badge/*.pdf", lambda route: route.fulfill(content_type="text/html", body="<p>badge</p>"))
    page.goto(f"{live_server}/desk/{ids['event']}/badge/{reg_id}")
    page.wait_for_function("() => document.getElementById('badge').contentWindow.__printed === true")
    page.goto(f"{live_server}/staff")
    # The statistics pages (SVG charts), as the event's organizer in a browser of their own.
    with database(app):
        organizer = factories.make_staff("organizer").email
    stats = watch(browser.new_context(**DESKTOP)).new_page()
    stats.goto(f"{live_server}/login")
    stats.fill("#email", organizer)
    stats.fill("#password", factories.PASSWORD)
    stats.click("form button[type=submit]")
    stats.wait_for_url("**/staff*")
    for path in [f"/admin/events/{ids['event']}/statistics", "/admin/statistics"]:
        stats.goto(live_server + path)
        assert stats.locator("svg.chart").count() >= 2, path
    stats.context.close()
    assert browser_problems == []
    assert page.js_errors == []
