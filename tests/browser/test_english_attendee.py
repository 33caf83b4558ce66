"""An attendee switches the page to English, signs up with a Latin name and no furigana, gets the
confirmation at a real SMTP server in English (name given first), cancels from the link, and the
cancellation email is English too. Screenshots: the English form, session choices with full and
nearly-full sessions, a waiting person's page; on a phone and on a desktop."""

from __future__ import annotations

import re

import pytest
import regex
from sqlalchemy import select, update

from eventreg import clock
from eventreg.domain.registration.signup import register
from eventreg.models import EventSession, Registration, Status
from eventreg.worker import deliver_due

from .. import factories
from .test_registration_flow import choose, database, type_into

pytestmark = pytest.mark.browser
JAPANESE = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")


def two_session_event(app):
    """第1回 full (capacity 2), 第2回 nearly full (2 of 20 left)."""
    with database(app) as s:
        spec = factories.event_spec_dict()
        first = spec["sessions"][0]
        later = dict(first, date=factories.in_days(21).date().isoformat())
        event = factories.make_event(sessions=[dict(first, title="第1回", capacity=2),
                                               dict(later, title="第2回", capacity=20)])
        one, two = sorted(event.sessions, key=lambda x: x.starts_at)
        for _ in range(3):
            register(one, factories.applicant(), now=clock.utcnow())
        s.execute(update(EventSession).where(EventSession.id == two.id).values(seats_taken=18))
        s.commit()
        waiting = s.scalars(select(Registration).where(Registration.status == Status.waitlisted)).one()
        return event.slug, one.id, two.id, waiting.token, dict(
            title=event.title, venue=event.venue_name, address=event.venue_address,
            access=event.access_notes, organizer=event.organizer, sessions=("第1回", "第2回"))


def without_event_text(text: str, event_text: dict) -> str:
    for value in (event_text["title"], event_text["venue"], event_text["address"], event_text["access"],
                  event_text["organizer"], *event_text["sessions"]):
        text = text.replace(value, "")
    return text


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_english_sign_up_with_a_latin_name(app, live_server, smtp_server, shot, request, device):
    page = request.getfixturevalue(device)
    slug, _first_id, second_id, waiting_token, event_text = two_session_event(app)

    page.goto(f"{live_server}/e/{slug}")
    page.click("nav.lang a[lang=en]")
    page.wait_for_url(f"**/e/{slug}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").get_attribute("lang") == "ja"
    choices = page.locator("#session_id-field label.choice").all_inner_texts()
    assert "Full (waiting list)" in choices[0] and "Few seats left (2 left)" in choices[1], choices
    shot(page, f"english-form-{device}")
    page.locator("#session_id-field").screenshot(path=str(shot(page, f"english-form-{device}").with_name(
        f"english-sessions-{device}.png")))

    choose(page, "session_id", str(second_id))
    type_into(page, "#family_name", "Schmidt")
    type_into(page, "#given_name", "Anna")
    email = f"anna.schmidt.{device}@example.org"
    type_into(page, "#email", email)
    type_into(page, "#email_confirm", email)
    choose(page, "sector", "university")
    page.click("#consent")
    page.click("section.register button[type=submit]")
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]+\?welcome=1$"))
    token = page.url.rsplit("/", 1)[1].split("?")[0]
    assert page.locator(".status.status-confirmed").is_visible()
    assert page.locator(".pass .name strong").inner_text() == "Anna Schmidt"

    with database(app) as s:
        reg = s.scalar(select(Registration).where(Registration.token == token))
        assert (reg.family_kana, reg.given_kana, reg.language) == ("", "", "en")

    assert deliver_due(app, worker_id="browser-test") >= 1
    [mail] = smtp_server.to(email)
    assert str(mail["Subject"]).startswith("Registration confirmed: ")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Dear Anna Schmidt,")
    assert not JAPANESE.search(without_event_text(text, event_text)), text
    link = re.findall(rf"{re.escape(live_server)}/r/[A-Za-z0-9_-]+/cancel", text)[0]

    page.goto(link)
    page.click("form button.danger[type=submit]")
    page.wait_for_url(f"**/r/{token}")
    assert page.locator(".status.status-cancelled").is_visible()
    while deliver_due(app, worker_id="browser-test"):
        pass
    mails = smtp_server.to(email)
    assert len(mails) == 2 and str(mails[1]["Subject"]).startswith("Registration cancelled: ")
    text = mails[1].get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Dear Anna Schmidt,") and not JAPANESE.search(without_event_text(text, event_text)), text

    # The waiting person's page, in English: their place and the switch to 第2回.
    page.goto(f"{live_server}/r/{waiting_token}")
    assert page.locator(".queue").is_visible() and page.locator(".switch form").count() == 1
    shot(page, f"english-waitlisted-{device}")
