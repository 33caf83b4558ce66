"""Checking a certificate in Chromium on a phone: the code typed as printed (lower case, with a
Japanese long-vowel mark for the dash) finds the genuine certificate; a forged code is refused in
words (no CSP violation, no console error: the browser fixtures fail on those)."""

from __future__ import annotations

from datetime import datetime, timezone

from eventreg.domain.reception import checkin
from eventreg.domain.registration import certificates
from eventreg.extensions import db

from .. import factories

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def test_a_code_typed_from_paper_and_a_forged_one(app, ctx, live_server, phone, shot):
    event = factories.make_event(title="NPO法人のための会計・税務実務セミナー ―― 新しい寄附税制をわかりやすく解説します",
                                 organizer="特定非営利活動法人 ちば市民活動・市民事業サポートクラブ")
    person = factories.register_person(event, family_name="𠮷野", given_name="由紀子", family_kana="ヨシノ",
                                       given_kana="ユキコ")
    checkin.check_in(person, session_id=None, desk="受付1", now=NOW)
    issued = certificates.issue(person, NOW)
    db.session.commit()
    code = certificates.formatted(issued.code)

    phone.goto(f"{live_server}/verify")
    phone.get_by_label("検証コード").fill(code.lower().replace("-", "ー"))
    shot(phone, "verify-form-phone")
    phone.get_by_role("button", name="確認する").click()
    phone.wait_for_url(f"**/verify/{code}")
    phone.get_by_text("この参加証明書は正規のものです").wait_for()
    assert "𠮷野 由紀子" in phone.content()
    shot(phone, "verify-genuine-phone")

    forged = code[:-1] + ("0" if code[-1] != "0" else "1")
    phone.goto(f"{live_server}/verify/{forged}")
    phone.get_by_text("このコードの参加証明書はありません。").wait_for()
    assert "𠮷野" not in phone.content()
    shot(phone, "verify-refused-phone")
