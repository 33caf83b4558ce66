"""What an organizer does in the back office, step by step in a real browser: shared by the event
editor's test and the organizer's whole journey (test_organizer_journey.py).

Every step goes through the pages as a person would (links, fields, buttons) and waits for the
page the app answers with; nothing here touches the database except ``make_organizer``.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

from eventreg.domain.timing import rules
from eventreg.extensions import db

from .. import factories

# The seed seminar (../shared/seeds/000_*.txt), as an organizer would type it into the editor.
SEED_TITLE = "ケーススタディ「企業CSR×NPO」の協働が「政策」になるまで 〜 若者UPプロジェクトを題材に 〜"
SEED = {
    "title": SEED_TITLE,
    "description_md": "民間の取り組みが「政策化された」とも言えるこの成果は…\n\n"
                      "### 当日のプログラム(予定)\n- 基調レポート\n- **ディスカッション**",
    "venue_name": "日本マイクロソフト株式会社 セミナールーム",
    "venue_address": "東京都港区港南2-16-3 品川グランドセントラルタワー",
    "access_notes": "入館証は当日、2階正面玄関裏手のセミナー受付でお渡しします。",
    "organizer": "若者TECHプロジェクト",
    "contact_name": "若者TECHプロジェクト事務局 担当:山本賢司",
    "contact_phone": "042-527-6051(平日10-17時)",
    "contact_email": "ms.tech@example.org",
    "fee_note": "参加費無料",
    "deadline": "1d@12:00",  # 前日12:00
}
SEED_QUESTION = {"kind": "single", "label": "このイベントを何で知りましたか",
                 "choices": ["メールマガジン", "SNS", "知人の紹介", "その他"]}


def make_organizer(app, email: str = "organizer@example.org", name: str = "主催 花子") -> str:
    """An account that may create events (Role.organizer); returns its email."""
    with app.app_context():
        user = factories.make_staff("organizer", email=email, name=name)
        email = user.email
        db.session.remove()
    return email


def sign_in(page, url: str, email: str, then: str = "/staff") -> None:
    """Through the real /login form, then on to ``then`` (a path)."""
    page.goto(f"{url}/login" if then == "/staff" else f"{url}/login?next={quote(then, safe='')}")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{then}")


def start_new_event(page, values: dict) -> None:
    """From the staff home: 新しいイベント, then the event's own fields (not saved yet)."""
    page.click("text=新しいイベント")
    for name, value in values.items():
        if name == "deadline":
            set_deadline(page, value)
        else:
            page.fill(f"#{name}", value)


def set_deadline(page, text: str, prefix: str = "deadline") -> None:
    """Chooses the deadline in the editor as a person would: the kind, then its parts (``text`` is a
    rule as domain.timing.rules reads it, e.g. "1d@12:00" = 「開始の [1] 日前の [12:00]」)."""
    rule = rules.parse(text)
    page.check(f"input[name={prefix}_kind][value={rule.kind}]")
    if rule.kind == "days_before":
        page.fill(f"#{prefix}_days", str(rule.days))
        page.fill(f"#{prefix}_days_at", rule.hhmm or "")
    elif rule.kind == "business_days_before":
        page.fill(f"#{prefix}_business_days", str(rule.days))
        page.fill(f"#{prefix}_business_at", rule.hhmm or "")
    elif rule.kind == "hours_before":
        page.fill(f"#{prefix}_hours", f"{rule.hours:g}")


def save_draft(page) -> str:
    """Saves the new event as a draft; returns the URL of its edit page (no #fragment)."""
    page.click("button:has-text('下書きとして保存')")
    page.wait_for_url("**/edit#sessions")
    return page.url.split("#")[0]


def add_session(page, day: date, *, start: str, end: str, capacity: int, doors: str = "",
                title: str = "") -> None:
    """On the edit page: one session through 「回を追加」's form (times in the event's zone)."""
    form = page.locator("#sessions form.editor")
    if not form.is_visible():
        page.click("#sessions summary")
    if title:
        page.fill("#session_title", title)
    page.fill("#date", day.isoformat())
    page.fill("#doors", doors)
    page.fill("#start", start)
    page.fill("#end", end)
    page.fill("#capacity", str(capacity))
    page.click("button:has-text('この回を追加')")
    page.wait_for_url("**/edit#sessions")
    assert page.locator("#sessions .error-summary").count() == 0, page.inner_text("#sessions")


def add_question(page, *, kind: str, label: str, choices: list[str] = ()) -> None:
    page.click("summary:has-text('質問を追加')")
    page.select_option("#kind", kind)
    page.fill("#label", label)
    if choices:
        page.fill("#choices", "\n".join(choices))
    page.click("button:has-text('この質問を追加')")
    page.wait_for_url("**/edit#questions")


def publish(page, edit_url: str) -> None:
    page.goto(edit_url)
    page.click("button:has-text('公開する')")
    page.wait_for_url("**/edit#status")


def event_id(edit_url: str) -> int:
    return int(re.search(r"/admin/events/(\d+)/edit", edit_url).group(1))
