"""The registration page of the back office in a real browser, on a laptop and on a phone: an
organizer fixes a typo in the name, and the change shows in the history; nothing overflows."""

from __future__ import annotations

from datetime import datetime, timezone

from eventreg.domain.backoffice import registration_edits
from eventreg.extensions import db

from .. import factories

# The viewport a phone page opens with is the one it must fit (a mobile browser widens its layout
# viewport to wide content, so innerWidth alone would not tell).
NO_OVERFLOW = "document.documentElement.scrollWidth <= screen.width"


def test_fix_a_typo_and_see_the_history(live_server, ctx, desktop, phone, shot):
    spec = factories.event_spec_dict(capacity=40, questions=[
        {"label": "昼食の要否", "kind": "single", "choices": ["要", "不要"], "required": True},
        {"label": "当日聞きたいこと", "kind": "text"},
    ])
    first = spec["sessions"][0]
    spec["sessions"] = [{**first, "title": "第1回"},
                        {**first, "title": "第2回", "date": factories.in_days(21).date().isoformat()}]
    event = factories.make_event(**spec)
    owner = factories.make_staff("owner", [event], name="主催 花子")
    lunch, ask = event.questions
    reg = factories.register_person(event, family_name="渡辺", given_name="真由美", family_kana="ワタナベ",
                                    given_kana="マユミ", organization="特定非営利活動法人 ちば市民活動・市民事業サポートクラブ",
                                    department="事務局長", phone="043-123-4567",
                                    answers={str(lunch.id): "要", str(ask.id): "助成金の報告書の書き方"})
    registration_edits.resend_pass(reg, actor=owner, now=datetime.now(timezone.utc))
    db.session.commit()
    page_url = f"{live_server}/admin/events/{event.id}/registrations/{reg.id}"

    desktop.goto(f"{live_server}/login")
    desktop.fill("#email", owner.email)
    desktop.fill("#password", factories.PASSWORD)
    desktop.locator("form button[type=submit]").click()
    desktop.goto(page_url)
    desktop.click(f"a.button[href$='/registrations/{reg.id}/edit']")  # not the event's 編集 tab
    desktop.fill("#family_name", "渡邊")
    desktop.get_by_role("button", name="保存").click()
    desktop.wait_for_url(page_url)
    assert "保存しました" in desktop.content()
    assert desktop.locator("ol.audit").inner_text().count("渡辺 → 渡邊") == 1
    assert desktop.evaluate(NO_OVERFLOW)
    shot(desktop, "registration-registration-1280")

    phone.context.add_cookies(desktop.context.cookies())
    phone.goto(page_url)
    assert "渡邊 真由美" in phone.locator("h1").inner_text()
    assert phone.evaluate(NO_OVERFLOW), "the page is wider than the phone"
    shot(phone, "registration-registration-390")
    phone.goto(f"{live_server}/admin/events/{event.id}/registrations/new")
    assert phone.evaluate(NO_OVERFLOW)
    shot(phone, "registration-add-390")
    assert desktop.js_errors == [] and phone.js_errors == []
