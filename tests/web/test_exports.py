"""Exports as users open them: downloaded through the app, then read back by LibreOffice
(headless), pandas and openpyxl, and compared cell by cell.

LibreOffice starts in 2-5 s, so each format is converted once per run (module fixture ``files``).
CSV is imported with "evaluate formulas" on (the worst case: a formula cell of ours that were
not neutralised would come back as its result) and the phone column as Text, as a user sets it
in the import dialog; the XLSX is opened with no options at all.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import openpyxl
import pandas
import pytest
from sqlalchemy import select, update

from eventreg.extensions import db
from eventreg.models import AuditEntry, Job, JobStatus, Question, Registration, Sector, Status
from eventreg.worker import run_job

from .. import factories
from .conftest import csrf_token

pytestmark = pytest.mark.slow

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# LibreOffice CSV filter options: separator, quote, charset (76 UTF-8, 60 Windows-31J), first
# line, column formats (col/format, 2 = Text), language (1041 ja-JP), quoted field as text,
# detect special numbers, …, token 13: evaluate formulas.
CSV_IN = "CSV:44,34,{charset},1,{formats},1041,false,false,false,false,false,-1,true"
CSV_OUT = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false"

FORMULAS = {
    "organization": '=HYPERLINK("http://example.com/","x")',
    "department": "-1",
    "phone": "+81 90 1234 5678",
    "answer": "@SUM(1,2)\n二行目",
}


def _soffice(tmp, infilter: str | None, *paths) -> list[list[list[str]]]:
    """Opens ``paths`` in one LibreOffice run and saves each as UTF-8 CSV; returns their cells."""
    out = tmp / "out"
    args = [SOFFICE, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore"]
    if infilter:
        args.append(f"--infilter={infilter}")
    args += ["--convert-to", CSV_OUT, "--outdir", str(out), *map(str, paths)]
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    return [_cells((out / f"{p.stem}.csv").read_bytes(), "utf-8") for p in paths]


def _cells(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def _people(event):
    """Five people whose cells are hard for spreadsheets (all within CP932), one checked in,
    one cancelled (not in the list by default), answers to every kind of question."""
    text, multi, tick, hidden = (q.id for q in event.questions)
    answers = {str(text): FORMULAS["answer"], str(multi): ["オンライン", "会場"], str(tick): True,
               str(hidden): "非表示の回答"}
    factories.register_person(event, family_name="山田", given_name="花子", family_kana="ヤマダ",
                              given_kana="ハナコ", phone="0312345678", answers=answers,
                              organization=FORMULAS["organization"], department=FORMULAS["department"])
    factories.register_person(event, family_name="髙橋", given_name="﨑子", family_kana="タカハシ",
                              given_kana="サキコ", phone=FORMULAS["phone"], organization="株式会社①㈱",
                              answers={str(text): " =1+1", str(multi): ["会場"], str(tick): False})
    arrived = factories.register_person(event, family_name="伊藤", given_name="誠", family_kana="イトウ",
                                        given_kana="マコト", phone="090-1234-5678", sector=Sector.government,
                                        organization="千葉市役所", answers={str(text): "%0A|calc\t"})
    factories.register_person(event, family_name="Smith", given_name="Anne", family_kana="スミス",
                              given_kana="アン", organization="Cafe, \"Quotes\" & Co.", phone="",
                              answers={str(text): "0012"})
    gone = factories.register_person(event, family_name="加藤", given_name="翔太", family_kana="カトウ",
                                     given_kana="ショウタ", organization="取消済")
    at = datetime(2026, 12, 2, 5, 7, tzinfo=timezone.utc)  # 14:07 in Tokyo
    db.session.execute(update(Registration).where(Registration.id == arrived.id)
                       .values(checked_in_at=at, checked_in_desk="受付A"))
    db.session.execute(update(Registration).where(Registration.id == gone.id)
                       .values(status=Status.cancelled, cancelled_at=at))
    db.session.execute(update(Question).where(Question.id == hidden).values(hidden=True))
    db.session.commit()


QUESTIONS = [
    {"label": "参加の動機", "kind": "text"},
    {"label": "参加方法", "kind": "multiple", "choices": ["会場", "オンライン"]},
    {"label": "懇親会に参加する", "kind": "checkbox"},
    {"label": "旧い質問", "kind": "text"},
]


def _organizer_client(app):
    client = app.test_client()
    user = factories.make_staff("organizer")
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    return client


@pytest.fixture(scope="module")
def files(app, tmp_path_factory):
    """The attendee export in the three formats, and what LibreOffice reads from each."""
    assert SOFFICE, "LibreOffice is missing: scripts/test (scripts/setup --test) installs libreoffice-calc-nogui"
    tmp = tmp_path_factory.mktemp("lo")
    with app.app_context():
        event = factories.make_event(questions=QUESTIONS)
        _people(event)
        client = _organizer_client(app)
        got = {}
        for fmt in ("csv", "cp932.csv", "xlsx"):
            response = client.get(f"/admin/events/{event.id}/exports/attendees.{fmt}")
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            got[fmt] = response.data
        table = _cells(got["csv"], "utf-8-sig")
        phone = table[0].index("電話番号") + 1
        (tmp / "attendees.csv").write_bytes(got["csv"])
        (tmp / "attendees-cp932.csv").write_bytes(got["cp932.csv"])
        (tmp / "attendees.xlsx").write_bytes(got["xlsx"])
        # A control: the same import evaluates a formula that was not neutralised.
        (tmp / "control.csv").write_bytes(b"a,b\r\n=1+1,0312345678\r\n")
        lo_csv, control = _soffice(tmp, CSV_IN.format(charset=76, formats=f"{phone}/2"),
                                   tmp / "attendees.csv", tmp / "control.csv")
        (lo_cp932,) = _soffice(tmp, CSV_IN.format(charset=60, formats=f"{phone}/2"), tmp / "attendees-cp932.csv")
        (lo_xlsx,) = _soffice(tmp, None, tmp / "attendees.xlsx")
        data = dict(event_id=event.id, questions=[q.id for q in event.questions])
    return dict(data, bytes=got, table=table, lo_csv=lo_csv, lo_cp932=lo_cp932, lo_xlsx=lo_xlsx,
                control=control, tmp=tmp)


def _row(table, family):
    header = table[0]
    return next(dict(zip(header, r, strict=True)) for r in table[1:] if r[header.index("姓")] == family)


def test_the_export_holds_every_column_and_answer(files):
    table = files["table"]
    assert table[0] == ["ID", "状態", "参加する回", "参加形態", "姓", "名", "セイ(フリガナ)", "メイ(フリガナ)", "メールアドレス", "電話番号",
                        "会社名・団体名", "部署・役職", "所属区分", "当日参加", "申込日時", "キャンセル日時",
                        "受付日時", "受付", "参加の動機", "参加方法", "懇親会に参加する", "旧い質問"]
    assert [r[4] for r in table[1:]] == ["伊藤", "Smith", "髙橋", "山田"]  # 五十音: イ ス タ ヤ; 加藤 cancelled
    yamada = _row(table, "山田")
    assert yamada["電話番号"] == "0312345678"
    assert yamada["会社名・団体名"] == "'" + FORMULAS["organization"]
    assert yamada["部署・役職"] == "'-1"
    assert yamada["参加の動機"] == "'@SUM(1,2)\n二行目"
    assert yamada["参加方法"] == "オンライン / 会場"
    assert yamada["懇親会に参加する"] == "はい"
    assert yamada["旧い質問"] == "非表示の回答"  # a hidden question's answers stay in the export
    assert yamada["状態"] == "申し込み完了" and yamada["所属区分"] == "NPO・NGO"
    assert yamada["参加形態"] == "会場"  # the session's attendance mode (issue 17)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", yamada["申込日時"])
    ito = _row(table, "伊藤")
    assert (ito["受付日時"], ito["受付"], ito["所属区分"]) == ("2026-12-02 14:07", "受付A", "行政・自治体")
    assert ito["参加の動機"] == "'%0A|calc\t"
    takahashi = _row(table, "髙橋")
    assert (takahashi["電話番号"], takahashi["参加の動機"]) == ("'+81 90 1234 5678", "' =1+1")
    assert takahashi["懇親会に参加する"] == "" and takahashi["名"] == "﨑子"


def _as_guessed(table, text_column: str):
    """What a type-guessing CSV import shows: a cell of digits only is a number ("0012" -> "12"),
    except in the column set to Text. Only such cells may differ; XLSX needs no such rule."""
    keep = table[0].index(text_column)
    return [table[0]] + [[str(int(c)) if c.isascii() and c.isdigit() and i != keep else c
                          for i, c in enumerate(row)] for row in table[1:]]


def test_libreoffice_reads_the_utf8_csv_back_cell_by_cell(files):
    # The import evaluates a formula that was not neutralised, and guesses numbers where no
    # column format says Text (the phone column of ours is set to Text).
    assert files["control"] == [["a", "b"], ["2", "312345678"]]
    assert files["lo_csv"] == _as_guessed(files["table"], "電話番号")
    assert _row(files["lo_csv"], "山田")["会社名・団体名"] == "'" + FORMULAS["organization"]  # text, not "x"


def test_libreoffice_reads_the_cp932_csv_back_cell_by_cell(files):
    assert not files["bytes"]["cp932.csv"].startswith(b"\xef\xbb\xbf")
    assert files["lo_cp932"] == _as_guessed(files["table"], "電話番号")


def _unguarded(table):
    """The CSV's cells without the quote that guards a would-be formula: what XLSX holds, where a
    string cell is never evaluated and so needs no guard."""
    def cell(text):
        rest = text[1:].lstrip(" \u3000\u00a0")
        return text[1:] if text.startswith("'") and rest[:1] in set("=+-@|%\t\r") else text
    return [[cell(c) for c in row] for row in table]


def test_libreoffice_opens_the_xlsx_with_every_cell_as_text(files):
    # Phone numbers too: no import option needed. Formula-like cells come back as written, not
    # evaluated ("x", -1) and not prefixed with the CSV's quote.
    assert files["lo_xlsx"] == _unguarded(files["table"])
    yamada = _row(files["lo_xlsx"], "山田")
    assert (yamada["会社名・団体名"], yamada["部署・役職"]) == (FORMULAS["organization"], "-1")
    assert _row(files["lo_xlsx"], "髙橋")["電話番号"] == "+81 90 1234 5678"


def test_pandas_reads_both_csv_files(files):
    for fmt, encoding in (("csv", "utf-8-sig"), ("cp932.csv", "cp932")):
        frame = pandas.read_csv(io.BytesIO(files["bytes"][fmt]), encoding=encoding, dtype=str,
                                keep_default_na=False)
        assert [list(frame.columns)] + frame.values.tolist() == files["table"]


def test_openpyxl_sees_only_strings(files):
    sheet = openpyxl.load_workbook(io.BytesIO(files["bytes"]["xlsx"])).active
    cells = [list(row) for row in sheet.iter_rows()]
    assert [[c.value for c in row] for row in cells] == _unguarded(files["table"])
    assert {c.data_type for row in cells for c in row} == {"s"}
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:V{len(files['table'])}"


# ---- the page, the report, the rules ----------------------------------------------------------

def test_downloads_are_named_typed_and_never_cached(client, login, make_event):
    event = make_event()
    factories.register_person(event)
    login(factories.make_staff("organizer"))
    expected = {
        "attendees.csv": ("text/csv; charset=utf-8", "csv"),
        "attendees.cp932.csv": ("text/csv; charset=windows-31j", "csv"),
        "arrivals.xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        "reception.csv": ("text/csv; charset=utf-8", "csv"),
        "summary.csv": ("text/csv; charset=utf-8", "csv"),
    }
    today = (datetime.now(timezone.utc) + timedelta(hours=9)).strftime("%Y%m%d")
    for path, (mimetype, extension) in expected.items():
        response = client.get(f"/admin/events/{event.id}/exports/{path}")
        assert response.status_code == 200 and response.mimetype == mimetype.split(";")[0]
        assert response.headers["Content-Type"] == mimetype
        which = path.split(".")[0]
        suffix = "-cp932" if "cp932" in path else ""
        assert response.headers["Content-Disposition"] == (
            f"attachment; filename=event-{event.id}-{which}-{today}{suffix}.{extension}")
        assert response.headers["Cache-Control"] == "no-store"
    for bad in ("attendees.pdf", "everyone.csv", "attendees.CSV", "summary.txt"):
        assert client.get(f"/admin/events/{event.id}/exports/{bad}").status_code == 404


def test_cp932_with_unmappable_characters_shows_the_report(client, login, make_event):
    event = make_event(questions=[{"label": "ご質問", "kind": "text"}])
    question = event.questions[0].id
    factories.register_person(event, family_name="山田", family_kana="ヤマダ")
    factories.register_person(event, family_name="𠮷野", given_name="𩸽子", family_kana="ヨシノ",
                              answers={str(question): "10時〜12時"})
    login(factories.make_staff("organizer"))
    response = client.get(f"/admin/events/{event.id}/exports/attendees.cp932.csv?sector=npo")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Content-Disposition" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td><td class="char">([^<]*)</td>'
                      r'<td><code>([^<]*)</code></td></tr>', page)
    assert rows == [("3", "姓", "𠮷", "U+20BB7"), ("3", "名", "𩸽", "U+29E3D"), ("3", "ご質問", "〜", "U+301C")]
    assert "3個" in page  # the count
    assert f'href="/admin/events/{event.id}/exports/attendees.csv?sector=npo"' in page
    assert f'href="/admin/events/{event.id}/exports/attendees.xlsx?sector=npo"' in page
    # Without such characters, the same route gives the file.
    clean = client.get(f"/admin/events/{event.id}/exports/attendees.cp932.csv?q=ヤマダ")
    assert clean.headers["Content-Disposition"].startswith("attachment;")
    assert "山田".encode("cp932") in clean.data and "𠮷".encode() not in clean.data


def test_the_attendee_list_filter_is_carried_over(client, login, make_event):
    event = make_event()
    factories.register_person(event, family_name="山田", family_kana="ヤマダ")
    factories.register_person(event, family_name="佐藤", family_kana="サトウ")
    login(factories.make_staff("organizer"))
    page = client.get(f"/admin/events/{event.id}/exports?q=やまだ").get_data(as_text=True)
    assert "2人中1人が対象です" in page
    assert f'href="/admin/events/{event.id}/exports/attendees.csv?q=%E3%82%84%E3%81%BE%E3%81%A0"' in page
    data = client.get(f"/admin/events/{event.id}/exports/attendees.csv?q=%E3%82%84%E3%81%BE%E3%81%A0").data
    table = _cells(data, "utf-8-sig")
    assert [r[4] for r in table[1:]] == ["山田"]
    # Nonsense in the query string falls back to the defaults, never a 500.
    assert client.get(f"/admin/events/{event.id}/exports/attendees.csv?session=x&status=%01&walk_in=7").status_code == 200


def test_a_viewer_gets_the_summary_only(client, login, make_event):
    event = make_event()
    factories.register_person(event, family_name="山田")
    factories.register_person(event, family_name="佐藤", sector=Sector.company)
    login(factories.make_staff("viewer", events=[event]))
    page = client.get(f"/admin/events/{event.id}/exports").get_data(as_text=True)
    assert "summary.csv" in page and "attendees.csv" not in page and "reception-list" not in page
    for path in ("attendees.csv", "arrivals.xlsx", "reception.cp932.csv"):
        assert client.get(f"/admin/events/{event.id}/exports/{path}").status_code == 403
    token = csrf_token(client, "/staff")
    assert client.post(f"/admin/events/{event.id}/reception-list", data={"csrf_token": token}).status_code == 403
    summary = client.get(f"/admin/events/{event.id}/exports/summary.csv")
    table = _cells(summary.data, "utf-8-sig")
    assert table[0] == ["参加する回", "所属区分", "申し込み完了", "受付済み", "未到着", "当日参加", "不参加",
                        "メール未確認", "キャンセル待ち", "キャンセル済み"]
    assert [r[1:3] for r in table[1:]] == [["企業", "1"], ["NPO・NGO", "1"], ["合計", "2"]]
    assert "山田" not in summary.data.decode("utf-8-sig")


def test_reception_staff_and_strangers_get_nothing(client, login, make_event):
    event = make_event()
    login(factories.make_staff("reception", events=[event]))
    assert client.get(f"/admin/events/{event.id}/exports").status_code == 403
    assert client.get(f"/admin/events/{event.id}/exports/summary.csv").status_code == 403
    other = make_event()
    assert client.get(f"/admin/events/{other.id}/exports/attendees.csv").status_code == 404


def test_a_personal_export_is_audited(client, login, make_event):
    event = make_event()
    factories.register_person(event)
    user = factories.make_staff("organizer")
    login(user)
    client.get(f"/admin/events/{event.id}/exports/attendees.xlsx?sector=npo")
    client.get(f"/admin/events/{event.id}/exports/summary.csv")
    entries = db.session.scalars(select(AuditEntry)).all()
    assert [(e.action, e.actor_id, e.event_id) for e in entries] == [("personal_data_exported", user.id, event.id)]
    assert (entries[0].note, entries[0].note_params) == (
        "export", {"set": "attendees", "format": "xlsx", "people": 1, "filter": {"sector": "npo"}})


def test_arrivals_are_grouped_by_sector(client, login, make_event):
    event = make_event()
    now = datetime.now(timezone.utc)
    for family, kana, sector in [("山田", "ヤマダ", Sector.npo), ("阿部", "アベ", Sector.university),
                                 ("佐藤", "サトウ", Sector.company), ("伊藤", "イトウ", Sector.npo),
                                 ("森", "モリ", Sector.npo)]:
        reg = factories.register_person(event, family_name=family, family_kana=kana, sector=sector)
        if family != "森":
            db.session.execute(update(Registration).where(Registration.id == reg.id).values(checked_in_at=now))
    db.session.commit()
    login(factories.make_staff("organizer"))
    table = _cells(client.get(f"/admin/events/{event.id}/exports/arrivals.csv").data, "utf-8-sig")
    assert table[0][:3] == ["所属区分", "氏名", "フリガナ"]
    assert [(r[0], r[1].split()[0]) for r in table[1:]] == [
        ("企業", "佐藤"), ("NPO・NGO", "伊藤"), ("NPO・NGO", "山田"), ("大学・研究機関", "阿部")]


def test_the_reception_list_pdf_is_a_job(app, client, login, make_event):
    event = make_event()
    for family, kana in [("山田", "ヤマダ"), ("阿部", "アベ"), ("佐藤", "サトウ")]:
        factories.register_person(event, family_name=family, family_kana=kana)
    login(factories.make_staff("organizer"))
    page = client.get(f"/admin/events/{event.id}/exports?q=ア").get_data(as_text=True)
    assert f'action="/admin/events/{event.id}/reception-list?q=%E3%82%A2"' in page
    token = csrf_token(client, f"/admin/events/{event.id}/exports")
    response = client.post(f"/admin/events/{event.id}/reception-list?q=%E3%82%A2", data={"csrf_token": token})
    assert response.status_code == 303
    job = db.session.scalar(select(Job))
    assert response.headers["Location"] == f"/admin/jobs/{job.id}"
    assert (job.total, job.params) == (1, {"filter": {"q": "ア"}})  # アベ only
    assert "受付名簿" in client.get(f"/admin/jobs/{job.id}").get_data(as_text=True)
    assert run_job(app, worker_id="test") == job.id
    db.session.rollback()  # a new transaction sees the worker's commit
    assert db.session.get(Job, job.id).status == JobStatus.done
    state = client.get(f"/admin/jobs/{job.id}.json").json
    assert state["message"] == "完成しました:1人分の受付名簿。"
    pdf = client.get(state["download_url"])
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert f"reception-list-{event.slug}.pdf" in pdf.headers["Content-Disposition"]
    listed = client.get(f"/admin/events/{event.id}/exports").get_data(as_text=True)
    assert f'href="/admin/jobs/{job.id}/download"' in listed
