"""An organizer imports attendees in Chromium: a Peatix-shaped CP932 CSV with a row to fix (the
corrected file uploaded again adds only that person), then a connpass-shaped CSV whose email
column is not recognized until the organizer maps it; the people are then in the attendee list
and in the XLSX export. The layouts are docs/import.md's."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from eventreg.extensions import db

from .. import factories
from .test_attendee_list import sign_in

PEATIX = ["購入ID", "チケットID", "チケット名", "申込日時", "氏名", "お名前(カナ)", "メールアドレス", "会社名", "電話番号"]
CONNPASS = ["参加枠名", "ユーザー名", "表示名", "利用開始日", "コメント", "参加ステータス", "出欠ステータス", "出席日時",
            "お名前(フリガナ)", "ご連絡先", "ご所属", "更新日時", "受付番号"]


def csv_file(path, rows, encoding):
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return str(path)


def peatix_rows(kana_for_suzuki: str):
    return [PEATIX,
            ["20001", "70001", "一般チケット", "2026/01/05 10:12", "佐藤 健一", "サトウ ケンイチ", "kenichi@example.org",
             "特定非営利活動法人 ちば市民活動・市民事業サポートクラブ", "043-111-2222"],
            ["20002", "70002", "一般チケット", "2026/01/05 11:40", "鈴木 美咲", kana_for_suzuki, "misaki@example.org",
             "千葉市役所", ""],
            ["20003", "70003", "一般チケット", "2026/01/06 09:05", "髙橋 誠", "タカハシ マコト", "makoto@example.org",
             "株式会社ミライ会計", "080-1234-5678"]]


def connpass_rows():
    rows = [CONNPASS]
    people = [("一般枠", "kobayashi_y", "小林 陽菜", "参加者", "コバヤシ ヒナ", "hina@example.org", "地域福祉ネットワーク"),
              ("一般枠", "ito_k", "伊藤 浩二", "キャンセル", "イトウ コウジ", "koji@example.org", ""),
              ("LT枠", "anna_s", "Anna Schmidt", "参加者", "", "anna@example.org", "Chiba International Volunteers")]
    for n, (frame, user, shown, status, kana, mail, org) in enumerate(people, 1):
        rows.append([frame, user, shown, "2026/01/04 20:00", "", status, "", "", kana, mail, org,
                     "2026/01/05 08:00", str(9000 + n)])
    return rows


def upload(page, path):
    page.click("#import-link")
    page.set_input_files("#import-file", path)
    page.click("form button[type=submit].primary")
    page.wait_for_url("**/import/preview?upload=*")


def counts(page, prefix="count"):
    return {name: int(page.inner_text(f"#{prefix}-{name}")) for name in ("create", "duplicate", "error")}


FITS_PHONE = ("() => document.documentElement.scrollWidth <= screen.width && [...document.querySelectorAll('body *')]"
              ".every(e => e.getBoundingClientRect().right <= screen.width + 0.5 || e.closest('.table-scroll, .admin-tabs'))")


def test_an_organizer_imports_peatix_and_connpass_files(app, live_server, desktop, phone, shot, tmp_path):
    with app.app_context():
        start = factories.in_days(21)
        event = factories.make_event(title="市民活動セミナー 第5回", sessions=[
            {"title": "第5回", "date": start.date().isoformat(), "start": "14:00", "end": "17:00", "capacity": 40}])
        organizer = factories.make_staff("owner", [event], name="主催 花子").email
        event_id = event.id
        db.session.remove()
    attendees = f"/admin/events/{event_id}/attendees"
    sign_in(desktop, live_server, organizer, attendees)

    # Peatix, CP932: 鈴木's furigana is missing; the preview names row 3 and the field.
    upload(desktop, csv_file(tmp_path / "peatix.csv", peatix_rows(""), "cp932"))
    assert "Peatixの参加者リスト" in desktop.inner_text(".import-file") and "SHIFT_JIS" in desktop.inner_text(".import-file").upper()
    assert counts(desktop) == {"create": 2, "duplicate": 0, "error": 1}
    refused = desktop.inner_text("#import-refused")
    assert "3" in refused and "鈴木 美咲" in refused and "セイ(フリガナ)" in refused and "フリガナ" in refused
    assert "髙橋 誠" in desktop.inner_text(".import-rows")
    assert "メールは送りません" in desktop.inner_text(".import-commit")
    shot(desktop, "import-preview-desktop")
    phone.context.add_cookies(desktop.context.cookies())
    phone.goto(desktop.url)
    assert phone.evaluate(FITS_PHONE)
    shot(phone, "import-preview-phone")
    desktop.click("#import-run")
    desktop.wait_for_url("**/import/commit")
    assert counts(desktop, "done") == {"create": 2, "duplicate": 0, "error": 1}
    assert "鈴木 美咲" in desktop.inner_text("#import-refused")
    shot(desktop, "import-done")

    # The corrected file again: the two already added are duplicates, 鈴木 is added.
    desktop.goto(f"{live_server}{attendees}")
    upload(desktop, csv_file(tmp_path / "peatix-fixed.csv", peatix_rows("スズキ ミサキ"), "cp932"))
    assert counts(desktop) == {"create": 1, "duplicate": 2, "error": 0}
    desktop.click("#import-run")
    desktop.wait_for_url("**/import/commit")
    assert counts(desktop, "done")["create"] == 1

    # connpass: ご連絡先 is the questionnaire's email, not recognized until mapped by hand.
    desktop.goto(f"{live_server}{attendees}")
    upload(desktop, csv_file(tmp_path / "connpass.csv", connpass_rows(), "utf-8-sig"))
    assert "connpassの参加者CSV" in desktop.inner_text(".import-file")
    assert counts(desktop) == {"create": 0, "duplicate": 0, "error": 2}
    assert "キャンセル" in desktop.inner_text("#import-refused")
    column = CONNPASS.index("ご連絡先")
    desktop.select_option(f"#col-{column}", "email")
    with desktop.expect_navigation():
        desktop.click("#import-refresh")
    assert counts(desktop) == {"create": 2, "duplicate": 0, "error": 0}
    shot(desktop, "import-preview-connpass")
    desktop.click("#import-run")
    desktop.wait_for_url("**/import/commit")
    assert counts(desktop, "done")["create"] == 2

    # In the list, and in the export.
    desktop.click("text=参加者一覧へ")
    listed = desktop.inner_text(".roster")
    for name in ("佐藤 健一", "鈴木 美咲", "髙橋 誠", "小林 陽菜", "Schmidt Anna"):
        assert name in listed
    assert "伊藤" not in listed
    answer = desktop.request.get(f"{live_server}/admin/events/{event_id}/exports/attendees.xlsx")
    assert answer.status == 200
    sheet = load_workbook(io.BytesIO(answer.body())).active
    cells = {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None}
    assert {"kenichi@example.org", "misaki@example.org", "makoto@example.org", "hina@example.org",
            "anna@example.org"} <= cells and "koji@example.org" not in cells
    assert "043-111-2222" in cells  # a phone number kept as typed
