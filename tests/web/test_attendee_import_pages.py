"""The import pages: upload, preview (nothing written), commit; who may use them; and nothing a
client uploads or sends back gives a 500 or is trusted as data."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg.domain.backoffice import attendee_import_uploads
from eventreg.extensions import db
from eventreg.models import AuditEntry, Registration, StoredFile

from .. import factories
from ..domain.test_attendee_import import PEATIX, csv_bytes
from .conftest import csrf_token


@pytest.fixture
def event(ctx):
    return factories.make_event(capacity=10)


def peatix_file() -> bytes:
    rows = [PEATIX,
            ["1001", "5001", "一般", "2026/01/05 10:00", "佐藤 健一", "サトウ ケンイチ", "kenichi@example.org",
             '=HYPERLINK("http://evil.example","x")', "043-111-2222"],
            ["1002", "5002", "一般", "2026/01/05 11:00", "鈴木 美咲", "", "misaki@example.org", "千葉市役所", ""],
            ["1003", "5003", "一般", "2026/01/05 12:00", "高橋 誠", "タカハシ マコト", "makoto@example.org", "", ""]]
    return csv_bytes(rows, "cp932")


def upload(client, event, data: bytes, name: str = "peatix.csv"):
    token = csrf_token(client, f"/admin/events/{event.id}/import")
    return client.post(f"/admin/events/{event.id}/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def key_of(response) -> str:
    return re.search(r"upload=([0-9a-f]{32})", response.headers["Location"]).group(1)


def commit(client, event, key: str, page: str):
    fields = dict(re.findall(r'<input type="hidden" name="(session|sector|duplicates)" value="([^"]*)"', page))
    cols = re.findall(r'<input type="hidden" name="col" value="([^"]*)"', page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(f"/admin/events/{event.id}/import/commit",
                       data={"csrf_token": token, "upload": key, "col": cols, **fields})


def people(event) -> list[Registration]:
    return list(db.session.scalars(select(Registration).where(Registration.event_id == event.id)))


def test_upload_preview_commit_and_again(client, login, event):
    login(factories.make_staff("editor", [event]))
    answer = upload(client, event, peatix_file())
    assert answer.status_code == 303
    key = key_of(answer)
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Peatix" in page and "SHIFT_JIS" in page.upper()
    assert re.search(r'id="count-create">2<', page) and re.search(r'id="count-error">1<', page)
    assert "佐藤" in page and "鈴木" in page  # the first rows, and the refused one with its row and field
    assert re.search(r'<td class="num">3</td><td>エラー</td>\s*<td>鈴木 美咲</td>\s*<td>セイ\(フリガナ\)</td>', page)
    assert people(event) == []  # the preview wrote nothing
    done = commit(client, event, key, page)
    assert done.status_code == 200 and re.search(r'id="done-create">2<', done.get_data(as_text=True))
    assert sorted(r.email for r in people(event)) == ["kenichi@example.org", "makoto@example.org"]
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0  # the upload is gone
    again = upload(client, event, peatix_file())
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="count-create">0<', page) and re.search(r'id="count-duplicate">2<', page)
    assert 'id="import-run" disabled' in page


def test_the_export_escapes_what_the_file_held_as_a_formula(client, login, event):
    login(factories.make_staff("owner", [event]))
    key = key_of(upload(client, event, peatix_file()))
    page = client.get(f"/admin/events/{event.id}/import/preview?upload={key}").get_data(as_text=True)
    commit(client, event, key, page)
    exported = client.get(f"/admin/events/{event.id}/exports/attendees.csv").get_data()
    assert b"'=HYPERLINK" in exported and "佐藤".encode() in exported


def test_the_mapping_can_be_changed_on_the_preview(client, login, event):
    login(factories.make_staff("owner", [event]))
    key = key_of(upload(client, event, peatix_file()))
    cols = ["", "", "", "", "full_name", "", "email", "organization", ""]  # furigana column ignored
    page = client.get(f"/admin/events/{event.id}/import/preview",
                      query_string={"upload": key, "col": cols, "sector": "company"}).get_data(as_text=True)
    assert re.search(r'id="count-create">0<', page) and re.search(r'id="count-error">3<', page)
    assert '<option value="company" selected>' in page


@pytest.mark.parametrize("role", ["reception", "viewer"])
def test_reception_and_viewers_may_not_import(client, login, event, role):
    login(factories.make_staff(role, [event]))
    assert client.get(f"/admin/events/{event.id}/import").status_code == 403
    assert client.get(f"/admin/events/{event.id}/import/preview?upload=" + "0" * 32).status_code == 403
    assert "インポート" not in client.get(f"/admin/events/{event.id}/attendees").get_data(as_text=True)


def test_an_upload_of_another_event_is_not_found(client, login, event):
    other = factories.make_event()
    login(factories.make_staff("owner", [event, other]))
    key = key_of(upload(client, other, peatix_file()))
    answer = client.get(f"/admin/events/{event.id}/import/preview?upload={key}")
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/admin/events/{event.id}/import")


@pytest.mark.parametrize("data, words", [
    (b"", "ファイルが空です"),
    (bytes(range(256)) * 8, "文字として読めません"),
    (b"PK\x03\x04" + b"\x00" * 100, "開けません"),
    (("a,b\r\n" + "x,y\r\n" * 1001).encode(), "1000行"),
])
def test_a_file_that_is_no_table_is_refused_with_words(client, login, event, data, words):
    login(factories.make_staff("owner", [event]))
    answer = upload(client, event, data)
    assert answer.status_code == 400 and words in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_what_a_client_sends_back_is_checked(client, login, event):
    owner = factories.make_staff("owner", [event])
    login(owner)
    base = f"/admin/events/{event.id}/import"
    key = key_of(upload(client, event, peatix_file()))
    assert client.get(f"{base}/preview", query_string={"upload": key, "col": ["email"] * 9}).status_code == 400
    assert client.get(f"{base}/preview", query_string={"upload": key, "col": ["x"]}).status_code == 400
    assert client.get(f"{base}/preview", query_string={"upload": key, "session": "999999"}).status_code == 400
    assert client.get(f"{base}/preview", query_string={"upload": key, "sector": "<b>"}).status_code == 400
    assert client.get(f"{base}/preview", query_string={"upload": "../../etc"}).status_code == 303
    token = csrf_token(client, base)
    assert client.post(base, data={"csrf_token": token}).status_code == 400  # no file at all
    assert client.post(f"{base}/commit", data={"csrf_token": token, "upload": "0" * 32}).status_code == 303
    big = upload(client, event, b"a,b\r\n" + b"x" * (300 * 1024))
    assert big.status_code == 413
    assert people(event) == []


def test_an_old_upload_is_gone(client, login, event):
    login(factories.make_staff("owner", [event]))
    key = key_of(upload(client, event, peatix_file()))
    stored = db.session.scalar(select(StoredFile))
    stored.created_at -= attendee_import_uploads.KEPT + timedelta(minutes=1)
    db.session.commit()
    answer = client.get(f"/admin/events/{event.id}/import/preview?upload={key}")
    assert answer.status_code == 303
    upload(client, event, peatix_file())  # the next upload removes the old one
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 1


def test_an_excel_workbook_is_imported_like_a_csv(client, login, event):
    from openpyxl import Workbook

    login(factories.make_staff("owner", [event]))
    book = Workbook()
    book.active.append(["姓", "名", "セイ", "メイ", "メールアドレス", "電話番号"])
    book.active.append(["吉田", "智恵", "ヨシダ", "チエ", "chie@example.org", "090-1111-2222"])
    out = io.BytesIO()
    book.save(out)
    key = key_of(upload(client, event, out.getvalue(), name="名簿.xlsx"))
    page = client.get(f"/admin/events/{event.id}/import/preview?upload={key}").get_data(as_text=True)
    assert "XLSX" in page and re.search(r'id="count-create">1<', page)
    commit(client, event, key, page)
    assert [(r.family_name, r.phone) for r in people(event)] == [("吉田", "090-1111-2222")]


def test_the_attendee_list_links_to_the_import(client, login, event):
    login(factories.make_staff("editor", [event]))
    page = client.get(f"/admin/events/{event.id}/attendees").get_data(as_text=True)
    assert f'href="/admin/events/{event.id}/import"' in page and "インポート" in page


def test_each_person_imported_shows_the_import_in_their_history(client, login, event):
    login(factories.make_staff("owner", [event], name="主催 花子"))
    key = key_of(upload(client, event, peatix_file(), name="参加者リスト.csv"))
    page = client.get(f"/admin/events/{event.id}/import/preview?upload={key}").get_data(as_text=True)
    commit(client, event, key, page)
    reg = next(r for r in people(event) if r.email == "kenichi@example.org")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.registration_id == reg.id)).all()
    assert [(e.action, e.actor_name) for e in entries] == [("registration_added", "主催 花子")]
    history = client.get(f"/admin/events/{event.id}/registrations/{reg.id}").get_data(as_text=True)
    assert "参加者リスト.csv" in history and "2行目" in history
