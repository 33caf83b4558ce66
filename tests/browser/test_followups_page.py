"""The 開催後 tab in a real browser, on a laptop and on a phone: an organizer turns the no-show note
on with their words and a materials link, sees each session's send time and n/N, opens the preview
(its links are placeholders), and resends one person's note from the registration page."""

from __future__ import annotations

from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.web.links import MASK

from .. import factories

NO_OVERFLOW = "document.documentElement.scrollWidth <= screen.width"


def test_turn_on_preview_and_resend(live_server, ctx, desktop, phone, shot):
    spec = factories.event_spec_dict(capacity=40)
    first = spec["sessions"][0]
    spec["sessions"] = [{**first, "title": "第1回"},
                        {**first, "title": "第2回", "date": factories.in_days(21).date().isoformat()}]
    event = factories.make_event(**spec)
    owner = factories.make_staff("owner", [event], name="主催 花子")
    came = factories.register_person(event, family_name="渡邊", given_name="真由美", family_kana="ワタナベ",
                                     given_kana="マユミ", organization="特定非営利活動法人 ちば市民活動・市民事業サポートクラブ")
    missed = factories.register_person(event, family_name="勅使河原", given_name="龍之介", family_kana="テシガワラ",
                                       given_kana="リュウノスケ")
    checkin.check_in(came, session_id=None, desk="受付1", now=event.sessions[0].starts_at)
    db.session.commit()
    page_url = f"{live_server}/admin/events/{event.id}/followups"

    desktop.goto(f"{live_server}/login")
    desktop.fill("#email", owner.email)
    desktop.fill("#password", factories.PASSWORD)
    desktop.locator("form button[type=submit]").click()
    desktop.goto(f"{live_server}/admin/events/{event.id}")
    desktop.get_by_role("link", name="開催後").click()
    desktop.wait_for_url(page_url)
    desktop.fill("#rule", "終了1時間後")
    desktop.check("input[name=noshow]")
    desktop.fill("#noshow_text", "次回(第3回)は3月10日です。録画は資料のページにあります。")
    desktop.fill("#materials_url", "https://example.org/seminar/slides.pdf")
    desktop.get_by_role("button", name="保存").click()
    desktop.wait_for_url(page_url)
    text = desktop.locator("main").inner_text() if desktop.locator("main").count() else desktop.content()
    assert "終了1時間後" in text and "0/1件 送信済み" in text
    assert desktop.evaluate(NO_OVERFLOW)
    shot(desktop, "followups-1280")

    desktop.get_by_role("link", name="来場されなかった方へのご案内").click()
    desktop.wait_for_url("**/preview/noshow")
    body = desktop.content()
    assert "【資料と次回のご案内】" in body and "勅使河原" in body and "次回(第3回)は3月10日です。" in body
    assert missed.token not in body and MASK in body
    shot(desktop, "followup-preview-noshow-1280")
    desktop.goto(f"{page_url}/preview/survey")
    assert f"/s/{MASK}" in desktop.content() and came.token not in desktop.content()
    shot(desktop, "followup-preview-survey-1280")
    desktop.goto(f"{page_url}/preview/certificate")
    assert "参加証明書" in desktop.content() and came.token not in desktop.content()
    sample = desktop.get_by_role("link", name="証明書の見本(SAMPLE入り)を開く").get_attribute("href")
    answer = desktop.request.get(f"{live_server}{sample}")
    assert answer.status == 200 and answer.headers["content-type"].startswith("application/pdf")
    shot(desktop, "followup-preview-certificate-1280")

    desktop.goto(f"{live_server}/admin/events/{event.id}/registrations/{missed.id}")
    desktop.get_by_role("button", name="欠席の方へのご案内を再送する").click()
    assert "この方にもう一度メールで送ります" in desktop.content()

    phone.context.add_cookies(desktop.context.cookies())
    phone.goto(page_url)
    assert phone.evaluate(NO_OVERFLOW), "the page is wider than the phone"
    shot(phone, "followups-390")
    assert desktop.js_errors == [] and phone.js_errors == []
