"""A hybrid seminar on a phone, in real Chromium: one person signs up 会場, one オンライン; the online
person's join link shows a countdown before doors open (the development clock), leads into the
meeting (a local page this test serves) inside the window, and is refused once they cancel.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from eventreg import clock
from eventreg.domain.backoffice import hybrid
from eventreg.extensions import db
from eventreg.models import EventSession, Registration

from .. import factories
from .test_registration_flow import assert_no_horizontal_overflow, choose, database, fill_registration

pytestmark = pytest.mark.browser


class Meeting(BaseHTTPRequestHandler):
    """The "meeting": a local page; it records the Referer each visit sent."""

    referers: list[tuple[str, str | None]] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        Meeting.referers.append((self.path, self.headers.get("Referer")))
        body = b"<!doctype html><title>meeting</title><h1 id='room'>MEETING ROOM</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@contextmanager
def meeting_server():
    server = HTTPServer(("127.0.0.1", 0), Meeting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/room?pwd=browsercanary"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def dev_clock():
    yield lambda moment: clock.set_setting(moment.isoformat())
    clock.set_setting("")


def sign_up(page, live_server, slug, session_id, email) -> str:
    page.goto(f"{live_server}/e/{slug}")
    choose(page, "session_id", str(session_id))
    fill_registration(page, email=email)
    page.click("section.register button[type=submit]")
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]+\?welcome=1$"))
    return page.url.rsplit("/", 1)[1].split("?")[0]


def test_hybrid_join_link_on_a_phone(app, live_server, phone, shot, dev_clock):
    with meeting_server() as meeting_url, database(app):
        event = factories.make_event(capacity=30)
        onsite = event.sessions[0]
        values = {"title": "", "date": onsite.starts_at.astimezone(factories.JST).date().isoformat(),
                  "doors": onsite.doors_at.astimezone(factories.JST).strftime("%H:%M"),
                  "start": onsite.starts_at.astimezone(factories.JST).strftime("%H:%M"),
                  "end": onsite.ends_at.astimezone(factories.JST).strftime("%H:%M"), "capacity": "30",
                  "mode": "both", "online_capacity": "300", "meeting_url": meeting_url}
        hybrid.apply_mode(onsite, values, actor=None, now=clock.utcnow())
        db.session.commit()
        slug, onsite_id, online_id = event.slug, onsite.id, hybrid.twin_of(onsite).id
        doors, ends = onsite.doors_at, onsite.ends_at
        db.session.remove()

        page = phone
        page.goto(f"{live_server}/e/{slug}")
        labels = page.locator("label.choice:has(input[name='session_id'])").all_inner_texts()
        assert any("会場" in t and "残り30席" in t for t in labels), labels
        assert any("オンライン" in t and "残り300席" in t for t in labels), labels
        assert_no_horizontal_overflow(page)
        shot(page, "hybrid-event-phone")
        sign_up(page, live_server, slug, onsite_id, "kaijo@example.org")
        assert page.locator("section.join-link").count() == 0  # on site: no join link
        token = sign_up(page, live_server, slug, online_id, "online@example.org")
        join = page.locator("section.join-link a.button").get_attribute("href")
        assert re.fullmatch(rf"{re.escape(live_server)}/j/\d+\.[A-Za-z0-9_-]{{22}}", join), join
        assert meeting_url not in page.content()

        dev_clock(doors - timedelta(hours=2, minutes=5))
        page.goto(join)
        countdown = page.locator("#join-countdown")
        # The development clock runs on from the moment it was set: on a busy machine the page
        # may be a second or two later than that.
        shown = re.search(r"02:0(5:00|4:5\d)", countdown.inner_text())
        assert countdown.is_visible() and shown, countdown.inner_text()
        assert "山田 花子" in page.locator(".join-owner").inner_text()
        page.wait_for_timeout(1500)
        later = re.search(r"02:0(5:00|4:[45]\d)", countdown.inner_text())
        assert later and later.group(0) < shown.group(0), countdown.inner_text()  # the script counts down
        assert meeting_url not in page.content() and "browsercanary" not in page.content()
        assert_no_horizontal_overflow(page)
        shot(page, "join-countdown-phone")

        dev_clock(doors + timedelta(minutes=3))
        page.goto(join)
        page.wait_for_url(meeting_url)
        assert page.locator("#room").inner_text() == "MEETING ROOM"
        # no-referrer: the meeting is never told the join link it came from
        assert [referer for path, referer in Meeting.referers if path.startswith("/room")] == [None]
        with database(app) as s:
            person = s.scalar(select(Registration).where(Registration.token == token))
            assert person.checked_in_desk == "online" and person.checked_in_at is not None
            assert s.get(EventSession, online_id).meeting_url == meeting_url

        dev_clock(ends + timedelta(minutes=1))
        page.goto(join)
        assert page.locator("section.join-ended").is_visible()
        shot(page, "join-ended-phone")

        dev_clock(doors - timedelta(hours=1))
        page.goto(f"{live_server}/r/{token}/cancel")
        page.click("form button.danger[type=submit]")
        page.wait_for_url(f"**/r/{token}")
        dev_clock(doors + timedelta(minutes=10))
        answer = page.goto(join)
        assert answer.status == 410 and page.locator("section.join-refused").is_visible()
        assert meeting_url not in page.content()
        shot(page, "join-refused-phone")


def test_the_session_form_on_a_desktop(app, live_server, desktop, shot):
    """The organizer chooses 両方 and types the meeting URL; saved, the page says one is set and never shows it."""
    from .organizer import make_organizer, sign_in

    email = make_organizer(app)
    with database(app) as s:
        event = factories.make_event(capacity=30)
        from eventreg.domain.access import accounts
        from eventreg.models import EventRole, StaffUser

        accounts.assign(s.scalar(select(StaffUser).where(StaffUser.email == email)), event, EventRole.owner,
                        now=clock.utcnow())
        s.commit()
        path = f"/admin/events/{event.id}/sessions/{event.sessions[0].id}"
    page = desktop
    sign_in(page, live_server, email, then=path)
    page.locator("label.choice:has(input[name='mode'][value='both'])").click()
    page.fill("#online_capacity", "300")
    page.fill("#meeting_url", "https://meet.example.net/j/1234?pwd=desktopcanary")
    page.click("form.editor button.primary[type=submit]")
    page.goto(f"{live_server}{path}")
    assert "desktopcanary" not in page.content()
    assert page.locator(".meeting-url-state").is_visible()
    assert page.is_checked("input[name=mode][value=both]")
    shot(page, "session-form-hybrid-desktop")
