"""/staff in Chromium, on a laptop and on a phone: the upcoming event above last month's, each
card with its counts, nothing wider than the screen. Screenshots: staff-home-1280, staff-home-390."""

from __future__ import annotations

from eventreg.extensions import db

from .. import factories
from .test_team_pages import no_sideways_scroll, sign_in


def test_staff_home_shows_the_next_seminar_first(app, ctx, live_server, desktop, phone, shot):
    last_month = factories.make_event(title="第4回 NPOのためのCSR連携セミナー", start=factories.in_days(-30))
    next_month = factories.make_event(title="第5回 NPOのためのCSR連携セミナー（企業の社会貢献担当者と語る午後）",
                                      start=factories.in_days(25), capacity=40)
    for _ in range(3):
        factories.register_person(next_month)
    organizer = factories.make_staff("organizer", events=[last_month, next_month], name="主催 花子").email
    db.session.remove()

    for page, width in ((desktop, 1280), (phone, 390)):
        sign_in(page, live_server, organizer)
        cards = page.locator("li.card")
        assert cards.count() == 2
        assert "第5回" in cards.nth(0).inner_text() and "第4回" in cards.nth(1).inner_text()
        counts = " ".join(cards.nth(0).locator(".card-counts").inner_text().split())
        assert counts == "申し込み完了 3 / 定員 40 キャンセル待ち 0", counts
        no_sideways_scroll(page)
        shot(page, f"staff-home-{width}")
