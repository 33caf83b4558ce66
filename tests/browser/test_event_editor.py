"""The event editor in Chromium: an organizer creates the seed seminar from nothing, on a laptop
and on a phone; nothing overflows a 390-px screen and the pages run under the CSP without errors."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from eventreg.extensions import db

from .. import factories

SEED_TITLE = "ケーススタディ「企業CSR×NPO」の協働が「政策」になるまで 〜 若者UPプロジェクトを題材に 〜"


def _organizer(app) -> str:
    with app.app_context():
        user = factories.make_staff("organizer", email="organizer@example.org", name="主催 花子")
        email = user.email
        db.session.remove()
    return email


def _sign_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/staff")


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_create_the_seed_seminar_in_the_browser(app, live_server, desktop, phone, shot):
    email = _organizer(app)
    page = desktop
    _sign_in(page, live_server, email)
    page.click("text=新しいイベント")
    page.fill("#title", SEED_TITLE)
    page.fill("#description_md", "民間の取り組みが「政策化された」とも言えるこの成果は…\n\n### 当日のプログラム(予定)\n- 基調レポート\n- **ディスカッション**")
    page.fill("#venue_name", "日本マイクロソフト株式会社 セミナールーム")
    page.fill("#venue_address", "東京都港区港南2-16-3 品川グランドセントラルタワー")
    page.fill("#access_notes", "入館証は当日、2階正面玄関裏手のセミナー受付でお渡しします。")
    page.fill("#organizer", "若者TECHプロジェクト")
    page.fill("#contact_name", "若者TECHプロジェクト事務局 担当:山本賢司")
    page.fill("#contact_phone", "042-527-6051(平日10-17時)")
    page.fill("#contact_email", "ms.tech@example.org")
    page.fill("#fee_note", "参加費無料")
    page.fill("#deadline", "1d@12:00")
    page.click("button:has-text('説明をプレビュー')")
    assert page.locator(".md-preview strong").inner_text() == "ディスカッション"
    page.click("button:has-text('下書きとして保存')")
    page.wait_for_url("**/edit#sessions")
    day = (datetime.now(ZoneInfo("Asia/Tokyo")) + timedelta(days=30)).date()
    page.fill("#date", day.isoformat())
    page.fill("#doors", "13:30")
    page.fill("#start", "14:00")
    page.fill("#end", "17:00")
    page.fill("#capacity", "80")
    page.click("button:has-text('この回を追加')")
    page.wait_for_url("**/edit#sessions")
    assert "80席中0席埋まり" in page.inner_text("#sessions")
    page.click("summary:has-text('質問を追加')")
    page.select_option("#kind", "single")
    page.fill("#label", "このイベントを何で知りましたか")
    page.fill("#choices", "メールマガジン\nSNS\n知人の紹介\nその他")
    page.click("button:has-text('この質問を追加')")
    page.wait_for_url("**/edit#questions")
    edit_url = page.url.split("#")[0]
    page.goto(edit_url)
    assert "前日12:00" in page.inner_text(".rule-words")
    shot(page, "h-events-editor-1280")
    page.goto(edit_url.replace("/edit", "/preview"))
    assert "プレビュー(未公開)" in page.inner_text(".preview-banner")
    shot(page, "h-events-preview-1280")
    page.goto(edit_url)
    page.click("button:has-text('公開する')")
    page.wait_for_url("**/edit#status")
    page.goto(edit_url.replace("/edit", ""))
    assert "公開中" in page.inner_text(".admin-head")
    shot(page, "h-events-overview-1280")
    assert page.js_errors == []

    _sign_in(phone, live_server, email)
    shot(phone, "h-events-staff-390")
    _no_sideways_scroll(phone)
    for path, name in (("/edit", "editor"), ("", "overview"), ("/checkins", "checkins")):
        phone.goto(edit_url.replace("/edit", path))
        _no_sideways_scroll(phone)
        shot(phone, f"h-events-{name}-390")
    assert phone.js_errors == []
