"""The attendee import: files read in every encoding and format it promises, Peatix's and
connpass's layouts recognized, every row checked as the form checks it, duplicates by email
refused or merged, nothing new on a second import, seats through the capacity's guard, no mail
unless asked, one audit entry per row; and the 300-row CP932 file with 5 bad rows."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from eventreg.adapters import spreadsheet_read
from eventreg.adapters.spreadsheet_read import Unreadable
from eventreg.domain.backoffice import attendee_import
from eventreg.domain.backoffice.attendee_import import Options
from eventreg.domain.backoffice.attendee_import_layouts import guess, layout
from eventreg.extensions import db
from eventreg.models import AuditEntry, EventSession, OutboxMessage, Registration, Sector, Status

from .. import factories

NOW = datetime.now(timezone.utc)
HEADER = ["姓", "名", "セイ", "メイ", "メールアドレス", "会社名・団体名"]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def person(n: int, **changes) -> list[str]:
    values = dict(family="佐藤", given=f"花子{n}", fk="サトウ", gk="ハナコ", email=f"p{n}@example.org", org="ちばNPO")
    values.update(changes)
    return list(values.values())


def options(event, width: int = len(HEADER), **changes) -> Options:
    table = {"mapping": guess(HEADER, []) if width == len(HEADER) else [""] * width,
             "session_id": event.sessions[0].id, "sector": "npo"}
    table.update(changes)
    return Options(**table)


def run(event, data: bytes, opts: Options | None = None, **changes):
    table = spreadsheet_read.read(data)
    opts = opts or Options(mapping=guess(table.headers, [(q.id, q.label) for q in event.questions]),
                           session_id=event.sessions[0].id, sector="npo")
    opts = Options(**{**vars(opts), **changes})
    result = attendee_import.run(event, table.rows, opts, actor=None, now=NOW, filename="list.csv")
    db.session.commit()
    return result


def registrations(event) -> list[Registration]:
    return list(db.session.scalars(select(Registration).where(Registration.event_id == event.id)
                                   .order_by(Registration.id)))


# --- reading ---------------------------------------------------------------------------------

ROWS = [HEADER, person(1, family="髙橋", given="𠮷子"), person(2)]


@pytest.mark.parametrize("encoding, expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"),
])
def test_unicode_encodings_read_the_same_table(encoding, expected):
    table = spreadsheet_read.read(csv_bytes(ROWS, encoding))
    assert (table.encoding, table.headers, table.rows[0][:2]) == (expected, HEADER, ["髙橋", "𠮷子"])


def test_cp932_is_read_when_the_bytes_are_not_utf8():
    rows = [HEADER, person(1, family="髙橋", given="①子")]  # NEC and IBM extensions of Windows-31J
    table = spreadsheet_read.read(csv_bytes(rows, "cp932"))
    assert (table.encoding, table.rows[0][:2]) == ("cp932", ["髙橋", "①子"])


def test_tab_separated_text_is_read():
    data = "\n".join("\t".join(r) for r in ROWS).encode("utf-16")
    assert spreadsheet_read.read(data).rows[1][4] == "p2@example.org"


def test_xlsx_is_read_with_numbers_as_typed():
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER + ["電話番号"])
    sheet.append(person(1) + ["0312345678"])
    sheet.append(person(2) + [312345678])
    out = io.BytesIO()
    book.save(out)
    table = spreadsheet_read.read(out.getvalue())
    assert (table.kind, table.rows[0][6], table.rows[1][6]) == ("xlsx", "0312345678", "312345678")


@pytest.mark.parametrize("data, code", [
    (b"", "empty"), (b"   \r\n", "empty"), (bytes(range(256)) * 4, "encoding"), (b"a,b\r\n\x00\x01,\x02\r\n", "binary"),
    (b"\x82\xa0\xff\xfe\xfd\x80\x81", "encoding"), (b"PK\x03\x04garbage that is no zip", "damaged"),
    (b"a,b\r\n", "no_rows"), (("a," * 300 + "\r\n1\r\n").encode(), "too_many_columns"),
    (("name\r\n" + "x\r\n" * 2100).encode(), "too_many_rows"),
    (("name\r\n" + "x" * 200_000 + "\r\n").encode(), "cell_too_long"),
])
def test_what_is_no_table_is_refused_with_a_reason(data, code):
    with pytest.raises(Unreadable) as caught:
        spreadsheet_read.read(data)
    assert caught.value.code == code


# --- layouts --------------------------------------------------------------------------------

CONNPASS = ["参加枠名", "ユーザー名", "表示名", "利用開始日", "コメント", "参加ステータス", "出欠ステータス", "出席日時",
            "氏名(フリガナ)", "メールアドレスを入力してください", "所属(会社名・団体名)", "更新日時", "受付番号"]
PEATIX = ["購入ID", "チケットID", "チケット名", "申込日時", "氏名", "お名前(カナ)", "メールアドレス", "会社名", "電話番号"]


def test_connpass_layout_is_recognized_and_mapped():
    assert layout(CONNPASS) == "connpass"
    assert guess(CONNPASS, []) == ["", "", "full_name", "", "", "status", "", "", "full_kana", "email", "organization",
                                   "", ""]


def test_peatix_layout_is_recognized_and_mapped():
    assert layout(PEATIX) == "peatix"
    assert guess(PEATIX, []) == ["", "", "", "", "full_name", "full_kana", "email", "organization", "phone"]


def test_a_question_is_found_by_its_label_and_a_field_goes_to_one_column():
    assert guess(["昼食", "メール", "E-mail"], [(7, "昼食")]) == ["q:7", "email", ""]
    assert layout(["昼食"]) == ""


# --- rows checked as the form checks them ---------------------------------------------------------

def test_each_refused_row_names_its_row_and_field(make_event):
    event = make_event()
    data = csv_bytes([HEADER, person(1), person(2, email="not-an-address"), person(3, fk=""),
                      person(4, family="山田😀"), person(5, gk="hanako")])
    result = run(event, data)
    refused = {(r.number, p.field, p.code) for r in result.rows for p in r.problems}
    assert refused == {(3, "email", "invalid_email"), (4, "family_kana", "kana_required"),
                       (5, "family_name", "emoji"), (6, "given_kana", "not_katakana")}
    assert [r.email for r in registrations(event)] == ["p1@example.org"]


def test_full_names_are_split_and_a_latin_name_is_given_name_first(make_event):
    event = make_event()
    data = csv_bytes([["氏名", "フリガナ", "メール"], ["山田　太郎", "やまだ たろう", "a@example.org"],
                      ["Anna Schmidt", "", "b@example.org"], ["山田太郎", "ヤマダ タロウ", "c@example.org"]])
    result = run(event, data)
    assert [(r.family_name, r.given_name, r.family_kana, r.given_kana) for r in registrations(event)] == [
        ("山田", "太郎", "ヤマダ", "タロウ"), ("Schmidt", "Anna", "", "")]
    assert [(r.number, [p.code for p in r.problems]) for r in result.rows if r.action == "error"] == [
        (4, ["name_not_split"])]


def test_sector_and_session_come_from_their_columns_or_the_default(make_event):
    event = make_event(sessions=[
        {"title": "第1回", "date": factories.in_days(10).date().isoformat(), "start": "14:00", "end": "16:00", "capacity": 5},
        {"title": "第2回", "date": factories.in_days(11).date().isoformat(), "start": "14:00", "end": "16:00", "capacity": 5}])
    data = csv_bytes([HEADER + ["所属区分", "回"], person(1) + ["企業", "第2回"], person(2) + ["", ""],
                      person(3) + ["宇宙", "第9回"]])
    result = run(event, data)
    people = {r.email: (r.sector, r.session_id) for r in registrations(event)}
    assert people == {"p1@example.org": (Sector.company, event.sessions[1].id),
                      "p2@example.org": (Sector.npo, event.sessions[0].id)}
    assert {(p.field, p.code) for p in result.rows[2].problems} == {("sector", "unknown_sector"),
                                                                    ("session", "unknown_session")}


def test_without_a_default_sector_a_row_without_one_is_refused_as_on_the_form(make_event):
    event = make_event()
    result = run(event, csv_bytes([HEADER, person(1)]), sector="")
    assert [(p.field, p.code) for p in result.rows[0].problems] == [("sector", "required")]


def test_questions_are_checked_and_stored_as_the_form_stores_them(make_event):
    event = make_event(questions=[
        {"label": "昼食", "kind": "single", "choices": ["要", "不要"], "required": True},
        {"label": "関心", "kind": "multiple", "choices": ["福祉", "教育", "環境"]},
        {"label": "懇親会に参加", "kind": "checkbox"}])
    q1, q2, q3 = (str(q.id) for q in event.questions)
    data = csv_bytes([HEADER + ["昼食", "関心", "懇親会に参加"], person(1) + ["要", "教育、福祉", "はい"],
                      person(2) + ["", "", ""], person(3) + ["大盛り", "", ""]])
    result = run(event, data)
    assert [r.answers for r in registrations(event)] == [{q1: "要", q2: ["福祉", "教育"], q3: True}]
    assert [(r.number, [(p.field, p.code) for p in r.problems]) for r in result.rows if r.problems] == [
        (3, [(f"q:{q1}", "answer_required")]), (4, [(f"q:{q1}", "invalid_choice")])]


def test_cancelled_and_waiting_rows_of_connpass_are_skipped(make_event):
    event = make_event()
    rows = [CONNPASS]
    for n, status in enumerate(["参加者", "キャンセル", "補欠"], 1):
        rows.append(["一般枠", f"user{n}", f"佐藤 花子{n}", "2026/01/05 10:00", "", status, "", "", "サトウ ハナコ",
                     f"p{n}@example.org", "ちばNPO", "2026/01/06 10:00", str(1000 + n)])
    result = run(event, csv_bytes(rows))
    assert [(r.number, r.action) for r in result.rows] == [(2, "create"), (3, "skipped"), (4, "skipped")]
    assert [r.email for r in registrations(event)] == ["p1@example.org"]


def test_formula_text_is_kept_as_text(make_event):
    event = make_event()
    run(event, csv_bytes([HEADER, person(1, org='=HYPERLINK("http://evil.example","x")')]))
    assert registrations(event)[0].organization == '=HYPERLINK("http://evil.example","x")'


# --- duplicates, merging, idempotence ---------------------------------------------------------------

def test_duplicates_in_the_event_and_in_the_file_are_refused(make_event):
    event = make_event()
    factories.register_person(event, email="p1@example.org")
    result = run(event, csv_bytes([HEADER, person(1), person(2), person(3, email="P2@Example.org")]))
    assert [(r.number, r.action, r.same_as_row) for r in result.rows] == [
        (2, "duplicate", None), (3, "create", None), (4, "duplicate", 3)]
    assert len(registrations(event)) == 2


def test_merge_fills_only_empty_fields_with_one_audit_entry(make_event):
    event = make_event()
    reg = factories.register_person(event, email="p1@example.org", organization="", phone="")
    header = HEADER + ["電話番号"]
    data = csv_bytes([header, person(1, family="別人", org="ちばNPO") + ["043-123-4567"]])
    result = run(event, data, merge=True)
    db.session.refresh(reg)
    assert result.rows[0].action == "merge"
    assert (reg.family_name, reg.organization, reg.phone) == ("山田", "ちばNPO", "043-123-4567")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.registration_id == reg.id)).all()
    assert [(e.action, e.note, e.note_params) for e in entries] == [
        ("registration_edited", "merged_from_import", {"file": "list.csv", "row": 2})]
    assert set(entries[0].changes) == {"organization", "phone"}
    assert run(event, data, merge=True).rows[0].action == "duplicate"  # nothing left to fill


def test_importing_the_same_file_again_creates_nothing(make_event):
    event = make_event()
    data = csv_bytes([HEADER] + [person(n) for n in range(1, 6)])
    first = run(event, data)
    second = run(event, data)
    assert (first.count("create"), second.count("create"), second.count("duplicate")) == (5, 0, 5)
    assert len(registrations(event)) == 5
    assert db.session.get(EventSession, event.sessions[0].id).seats_taken == 5


def test_no_mail_unless_asked_and_one_audit_entry_per_row(make_event):
    event = make_event()
    run(event, csv_bytes([HEADER, person(1), person(2)]))
    ids = [r.id for r in registrations(event)]
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.registration_id.in_(ids))) == 0
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.registration_id.in_(ids))
                                 .order_by(AuditEntry.id)).all()
    assert [(e.registration_id, e.action, e.note, e.note_params["row"]) for e in entries] == [
        (ids[0], "registration_added", "imported_row", 2), (ids[1], "registration_added", "imported_row", 3)]
    run(event, csv_bytes([HEADER, person(3)]), send_mail=True)
    mailed = registrations(event)[-1]
    assert db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.registration_id == mailed.id)).all() == [
        "confirmation"]
    assert mailed.status == Status.confirmed


# --- seats --------------------------------------------------------------------------------

def test_rows_beyond_the_free_seats_are_refused_unless_allowed(make_event):
    event = make_event(capacity=3)
    factories.register_person(event)
    data = csv_bytes([HEADER] + [person(n) for n in range(1, 5)])
    result = run(event, data)
    assert [(r.number, r.action) for r in result.rows] == [(2, "create"), (3, "create"), (4, "error"), (5, "error")]
    assert result.rows[2].problems[0].code == "no_seat_left"
    session = db.session.get(EventSession, event.sessions[0].id)
    assert (session.seats_taken, session.capacity) == (3, 3)
    again = run(event, data, over_capacity=True)
    assert [r.action for r in again.rows] == ["duplicate", "duplicate", "create", "create"]
    db.session.refresh(session)
    assert (session.seats_taken, session.capacity) == (5, 5)


def test_a_seat_taken_between_preview_and_import_refuses_that_row_only(make_event):
    """The plan counts free seats, but the seat itself is the capacity's conditional UPDATE: when
    it fails at the write, that row is rolled back to its savepoint and listed."""
    event = make_event(capacity=2)
    table = spreadsheet_read.read(csv_bytes([HEADER, person(1), person(2)]))
    opts = Options(mapping=guess(HEADER, []), session_id=event.sessions[0].id, sector="npo")
    planned = attendee_import.plan(event, table.rows, opts)
    assert planned.count("create") == 2
    db.session.execute(EventSession.__table__.update().where(EventSession.id == event.sessions[0].id)
                       .values(seats_taken=1))  # someone signed up meanwhile (as far as seats go)
    db.session.commit()
    db.session.expire_all()
    from unittest import mock

    with mock.patch.object(attendee_import, "_seats"):  # the preview's count, as it was
        result = attendee_import.run(event, table.rows, opts, actor=None, now=NOW, filename="x.csv")
    db.session.commit()
    assert [(r.action, [p.code for p in r.problems]) for r in result.rows] == [("create", []), ("error", ["session_full"])]
    assert db.session.get(EventSession, event.sessions[0].id).seats_taken == 2
    assert len(registrations(event)) == 1


# --- the case -----------------------------------------------------------------------------

def test_300_rows_in_cp932_with_5_bad_rows_create_295_and_name_the_5(make_event):
    event = make_event(capacity=400)
    rows = [["氏名", "フリガナ", "メールアドレス", "会社名・団体名", "電話番号"]]
    bad = {17: "email", 58: "family_kana", 120: "name", 199: "phone", 301: "email"}  # spreadsheet rows
    for number in range(2, 302):
        (family, fk), (given, gk) = factories.FAMILIES[number % 20], factories.GIVENS[number % 12]
        row = [f"{family} {given}", f"{fk} {gk}", f"person{number}@example.org", "株式会社ミライ会計", "03-1234-5678"]
        problem = bad.get(number)
        if problem == "email":
            row[2] = "person-at-example.org"
        elif problem == "family_kana":
            row[1] = ""
        elif problem == "name":
            row[0] = f"{family}{given}"
        elif problem == "phone":
            row[4] = "電話してね"
        rows.append(row)
    data = csv_bytes(rows, "cp932")
    assert spreadsheet_read.read(data).encoding == "cp932"
    result = run(event, data)
    assert result.count("create") == 295
    assert {r.number: {p.field for p in r.problems} for r in result.rows if r.action == "error"} == {
        17: {"email"}, 58: {"family_kana", "given_kana"}, 120: {"full_name"}, 199: {"phone"}, 301: {"email"}}
    assert len(registrations(event)) == 295
    assert db.session.get(EventSession, event.sessions[0].id).seats_taken == 295
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.event_id == event.id, AuditEntry.note == "imported_row")) == 295
    assert run(event, data).count("create") == 0  # and once more: nothing new
