"""An online registrant's page on a phone (390 px): how and when to join, no entry pass, no venue.

The on-site person of the same date still gets the QR pass and the venue. Screenshots:
online-registration-phone.png and onsite-registration-phone.png in $EVENTREG_SHOTS.
"""

from __future__ import annotations

import pytest

from eventreg.domain.backoffice import hybrid

from .. import factories
from ..domain.test_join_links import MEETING, hybrid_event
from .test_join_link import sign_up
from .test_registration_flow import assert_no_horizontal_overflow, database

pytestmark = pytest.mark.browser


def test_an_online_registrants_page_on_a_phone(app, live_server, phone, shot):
    with database(app):
        event = hybrid_event(factories.make_event, onsite=30, online=300)
        onsite = event.sessions[0]
        slug, onsite_id, online_id = event.slug, onsite.id, hybrid.twin_of(onsite).id
        venue, address = event.venue_name, event.venue_address

    page = phone
    sign_up(page, live_server, slug, online_id, "online-phone@example.org")
    join = page.locator("section.join-link")
    assert join.is_visible()
    assert "入場証はなく、会場へお越しいただく必要もありません" in join.inner_text()
    assert "/j/" in join.locator("a.button.primary").get_attribute("href")
    assert page.locator("section.pass").count() == 0 and page.locator(".qr svg").count() == 0
    assert page.locator("a", has_text="カレンダーに追加").first.is_visible()
    facts = page.locator("dl.facts").inner_text()
    assert "オンライン" in facts and venue not in facts and address not in facts
    assert MEETING not in page.content()
    assert_no_horizontal_overflow(page)
    shot(page, "online-registration-phone")

    sign_up(page, live_server, slug, onsite_id, "onsite-phone@example.org")
    assert page.locator("section.pass .qr svg").count() == 1 and page.locator("section.join-link").count() == 0
    assert venue in page.locator("dl.facts").inner_text()
    assert_no_horizontal_overflow(page)
    shot(page, "onsite-registration-phone")
