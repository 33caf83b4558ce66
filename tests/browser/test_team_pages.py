"""The staff page in Chromium: an owner invites someone through the form, on a laptop and on a
phone; the invited person opens the link from the email and creates their account. Screenshots
go to $EVENTREG_SHOTS (team-*, invite-*, tokens-*)."""

from __future__ import annotations

import re

from eventreg.extensions import db
from eventreg.models import EventRole, StaffUser
from eventreg.worker import deliver_due

from .. import factories
from .conftest import watch


def sign_in(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff")


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_an_owner_invites_and_the_person_joins(app, ctx, make_event, live_server, desktop, phone, browser, shot,
                                               smtp_server):
    event = make_event(title="地域NPO向け ITツール活用セミナー")
    owner = factories.make_staff("organizer", events=[event], name="主催 花子")
    factories.make_staff("reception", events=[event], name="受付 次郎", email="jiro.uketsuke@example.org")
    factories.make_staff("viewer", events=[event], name="閲覧 三郎",
                         email="saburo.a.very.long.address.for.the.phone@example-npo-network.org")
    event_id, owner_email = event.id, owner.email
    db.session.remove()

    sign_in(desktop, live_server, owner_email)
    desktop.click(f"a[href='/admin/events/{event_id}']")  # the staff home -> the event's back office
    desktop.click(f".admin-tabs a[href='/admin/events/{event_id}/team']")
    desktop.fill("input[name=email]", "new.staff@example.org")
    desktop.select_option("form[action*='/team/invite'] select[name=role]", "editor")
    desktop.click("form[action*='/team/invite'] button[type=submit]")
    desktop.wait_for_url(re.compile(rf".*/admin/events/{event_id}/team(#.*)?$"))  # a redirect keeps #invite
    assert "new.staff@example.org" in desktop.locator(".flash").inner_text()
    assert desktop.locator(".team .member").count() == 4  # three members, one pending invitation
    shot(desktop, "team-team-1280")

    sign_in(phone, live_server, owner_email)
    phone.goto(f"{live_server}/admin/events/{event_id}/team")
    no_sideways_scroll(phone)
    shot(phone, "team-team-390")
    phone.goto(f"{live_server}/admin/events/{event_id}/tokens")
    phone.fill("input[name=name]", "受付2のiPad")
    phone.click("button.primary")
    assert re.fullmatch(r"er_[\w-]{40,}", phone.locator("#new-token").inner_text().strip())
    no_sideways_scroll(phone)
    shot(phone, "team-tokens-390")

    assert deliver_due(app, worker_id="browser-team") == 1
    [mail] = smtp_server.to("new.staff@example.org")
    link = re.search(rf"{re.escape(live_server)}/invite/[\w-]+", mail.get_body(("plain",)).get_content()).group()
    context = watch(browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                        device_scale_factor=2, locale="ja-JP"))
    invited = context.new_page()
    invited.goto(link)
    no_sideways_scroll(invited)
    shot(invited, "team-invite-390")
    invited.fill("input[name=name]", "新井 四郎")
    invited.fill("input[name=new_password]", "a-long-new-password")
    invited.fill("input[name=confirm]", "a-long-new-password")
    invited.click("button.primary")
    invited.wait_for_url("**/staff")
    assert "地域NPO向け" in invited.content()
    invited.goto(link)
    shot(invited, "team-invite-used-390")
    assert invited.locator("h1[data-state=accepted]").count() == 1
    context.close()
    with app.app_context():
        user = db.session.query(StaffUser).filter_by(email="new.staff@example.org").one()
        assert user.role_on(event_id) == EventRole.editor
