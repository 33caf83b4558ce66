"""The organizer's whole journey (issue 7, "What it must show"), in one flow, in real Chromium
against the app on a real HTTP port and a real SMTP server on loopback:

1. an organizer signs in, creates the seed seminar from nothing (and a two-session briefing),
   gives the seminar the venue's building-security contact and publishes both;
2. a person registers on the public form on a phone (furigana typed in hiragana);
3. the organizer finds them in the attendee list by typing hiragana, fixes a typo in the name
   and sees the change in the registration's history;
4. downloads each export (CSV UTF-8 with BOM, CSV CP932, XLSX) and the test reads the files;
   queues the reception list PDF, which the worker's job function makes;
5. with the development clock moved past the deadline on /_dev/clock, the worker's tick and
   delivery (called in-process, as `flask worker` would) send the building-security list to the
   venue with the right rows, and the back office says "sent … — 2名";
6. the person cancels through the link in their email: the next tick sends the venue a
   difference naming exactly them, and nothing else.

Screenshots (issue7-*.png in $EVENTREG_SHOTS) are made on the way; only what the test asserts
decides pass or fail. Every look at the database happens in a short app context closed before the
browser acts again (SQLite's write lock, see test_registration_flow.py).
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from eventreg import clock
from eventreg.domain.communication import building_list
from eventreg.models import Event, Registration, Status
from eventreg.worker import deliver_due, run_job, tick

from .. import factories
from .conftest import SHOTS
from .organizer import (
    SEED,
    SEED_QUESTION,
    add_question,
    add_session,
    event_id,
    make_organizer,
    publish,
    save_draft,
    sign_in,
    start_new_event,
)
from .test_registration_flow import choose, database, type_into

pytestmark = pytest.mark.browser

JST = ZoneInfo("Asia/Tokyo")
VENUE = "security@venue.example"
PERSON = "hanako.yamada@example.org"
BRIEFING = {"title": "NPO向け 休眠預金活用 助成金申請 説明会 2026", "venue_name": "市民活動サポートセンター 会議室A",
            "contact_email": "ms.tech@example.org", "deadline": "1d@12:00"}


@pytest.fixture
def dev_clock(tmp_path):
    """The development clock reads and writes a file of this test's own; real time afterwards."""
    saved = clock._file
    clock.configure(str(tmp_path / "clock.json"))
    try:
        yield
    finally:
        clock.set_setting("")
        clock.configure(saved)


def deliver_all(app) -> int:
    sent = 0
    while n := deliver_due(app, worker_id="journey-worker"):
        sent += n
    return sent


def attachment(message):
    [part] = list(message.iter_attachments())
    return part.get_filename(), part.get_payload(decode=True)


def sheet_rows(data: bytes) -> list[list[str]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def as_dicts(rows: list[list[str]]) -> list[dict[str, str]]:
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def download(page, link, tmp_path) -> bytes:
    with page.expect_download() as info:
        link.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path.read_bytes()


def test_the_organizers_whole_journey(app, live_server, smtp_server, desktop, phone, shot, dev_clock, tmp_path):
    # -- 1. Create the seed seminar and the two-session briefing from nothing, publish both ----------
    organizer = make_organizer(app)
    page = desktop
    sign_in(page, live_server, organizer)
    today = datetime.now(JST).date()
    day = today + timedelta(days=10)
    start_new_event(page, SEED)
    seminar_edit = save_draft(page)
    add_session(page, day, doors="13:30", start="14:00", end="17:00", capacity=80)
    add_question(page, **SEED_QUESTION)
    page.goto(seminar_edit)
    assert page.is_checked("input[name=deadline_kind][value=days_before]")  # 前日12:00, in the deadline editor
    assert "締切: " in page.inner_text("#deadline_kind-field .deadline-resolved")
    shot(page, "issue7-event-editor-1280")
    seminar = event_id(seminar_edit)
    page.goto(f"{live_server}/admin/events/{seminar}/security")
    page.fill("#email", VENUE)
    with page.expect_navigation():
        page.click("form.security-settings button[type=submit]")
    assert page.input_value("#email") == VENUE
    assert re.search(r"\d+月\d+日\(.\) 12:00", page.inner_text(f"#session-{_first_session(app, seminar)}"))
    publish(page, seminar_edit)

    page.goto(f"{live_server}/staff")
    start_new_event(page, BRIEFING)
    briefing_edit = save_draft(page)
    add_session(page, today + timedelta(days=20), title="第1回", start="18:30", end="20:00", capacity=30)
    add_session(page, today + timedelta(days=27), title="第2回", start="18:30", end="20:00", capacity=30)
    assert [t.strip() for t in page.locator("#sessions .row-main strong").all_inner_texts()] == ["第1回", "第2回"]
    publish(page, briefing_edit)
    page.goto(f"{live_server}/staff")
    assert page.locator(f"a[href='/admin/events/{event_id(briefing_edit)}']").count() >= 1
    with database(app) as s:
        events = {e.id: e for e in s.scalars(select(Event))}
        assert {e.status.value for e in events.values()} == {"published"}
        event = events[seminar]
        assert event.title == SEED["title"] and event.fee_note == "参加費無料"
        assert "2階正面玄関裏手のセミナー受付" in event.access_notes
        assert event.security_email == VENUE
        [session] = event.sessions
        starts = session.starts_at.astimezone(JST)
        assert (starts.date(), starts.strftime("%H:%M"), session.doors_at.astimezone(JST).strftime("%H:%M"),
                session.ends_at.astimezone(JST).strftime("%H:%M")) == (day, "14:00", "13:30", "17:00")
        deadline = session.closes_at.astimezone(JST)
        assert (deadline.date(), deadline.strftime("%H:%M")) == (day - timedelta(days=1), "12:00")
        assert [s_.title for s_ in events[event_id(briefing_edit)].sessions] == ["第1回", "第2回"]
        slug, session_id = event.slug, session.id
        [question] = event.questions
        question_id = question.id
        # Someone else registered already (their details are what the venue will see too).
        other = factories.register_person(event, family_name="青木", given_name="大輔", family_kana="アオキ",
                                          given_kana="ダイスケ", organization="千葉市役所", department="市民協働課",
                                          email="daisuke.aoki@example.org")
        other_id = other.id

    # -- 2. A person registers on the public form on a phone, with a typo in the family name ------
    phone.goto(f"{live_server}/e/{slug}")
    type_into(phone, "#family_name", "山多")
    type_into(phone, "#given_name", "花子")
    type_into(phone, "#family_kana", "やまだ")
    type_into(phone, "#given_kana", "はなこ")
    type_into(phone, "#email", PERSON)
    type_into(phone, "#email_confirm", PERSON)
    type_into(phone, "#organization", "育て上げネット")
    choose(phone, "sector", "npo")
    choose(phone, f"q_{question_id}", "SNS")
    phone.click("#consent")
    phone.click("section.register button[type=submit]")
    phone.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]+\?welcome=1$"))
    assert phone.locator(".status.status-confirmed").is_visible()
    assert deliver_all(app) == 2  # the two confirmations
    [confirmation] = smtp_server.to(PERSON)
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    [my_link] = set(re.findall(rf"{re.escape(live_server)}/r/[A-Za-z0-9_-]+(?=\s)", text))

    # -- 3. The organizer finds them by hiragana, fixes the typo, sees the history -----------------
    attendees = f"/admin/events/{seminar}/attendees"
    page.goto(f"{live_server}{attendees}")
    assert sorted(page.locator("td.col-name").all_inner_texts()) == ["山多 花子", "青木 大輔"]
    shot(page, "issue7-attendee-list-1280")
    page.fill("#f-q", "やまだ")
    page.click(".roster-filter button[type=submit]")
    page.wait_for_url("**q=*")
    assert page.locator("td.col-name").all_inner_texts() == ["山多 花子"]
    page.click("td.col-name a")
    page.wait_for_url(re.compile(rf".*/admin/events/{seminar}/registrations/\d+$"))
    registration_url = page.url
    page.click(f"a.button[href='{registration_url.removeprefix(live_server)}/edit']")
    assert page.input_value("#family_kana") == "ヤマダ"
    page.fill("#family_name", "山田")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(registration_url)
    assert "山田 花子" in page.locator("h1").inner_text()
    assert page.locator("ol.audit").inner_text().count("山多 → 山田") == 1

    # -- 4. Every export, downloaded in the browser and read; the reception list PDF -----------------
    page.goto(f"{live_server}/admin/events/{seminar}/exports")
    links = page.locator("#set-attendees .formats a")
    files = {fmt: download(page, links.nth(i), tmp_path) for i, fmt in enumerate(("utf8", "cp932", "xlsx"))}
    assert files["utf8"].startswith(b"\xef\xbb\xbf")
    tables = {"utf8": list(csv.reader(io.StringIO(files["utf8"].decode("utf-8-sig")))),
              "cp932": list(csv.reader(io.StringIO(files["cp932"].decode("cp932")))),
              "xlsx": sheet_rows(files["xlsx"])}
    for fmt, rows in tables.items():
        people = {(r["姓"], r["名"]): r for r in as_dicts(rows)}
        assert set(people) == {("山田", "花子"), ("青木", "大輔")}, (fmt, rows)
        hanako = people["山田", "花子"]
        assert (hanako["セイ(フリガナ)"], hanako["メイ(フリガナ)"]) == ("ヤマダ", "ハナコ"), fmt
        assert hanako["会社名・団体名"] == "育て上げネット" and hanako[SEED_QUESTION["label"]] == "SNS", fmt
    page.click("#set-reception form button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/jobs/\d+$"))
    assert run_job(app, worker_id="journey-worker") is not None
    page.reload()
    pdf = download(page, page.locator("#job-download"), tmp_path)
    assert pdf.startswith(b"%PDF")
    (tmp_path / "reception.pdf").write_bytes(pdf)
    words = subprocess.run(["pdftotext", "-layout", str(tmp_path / "reception.pdf"), "-"], capture_output=True,
                           text=True, check=True, timeout=60).stdout
    assert "受付名簿" in words and "山田 花子" in words and "青木 大輔" in words and "山多" not in words, words
    SHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "reception.pdf"),
                    str(SHOTS / "issue7-reception-list-pdf")], check=True, timeout=60)

    phone.context.add_cookies(desktop.context.cookies())
    phone.goto(f"{live_server}{attendees}")
    assert phone.locator("tr.person").count() == 2
    shot(phone, "issue7-attendee-list-390")
    phone.context.clear_cookies()

    # -- 5. Past the deadline: the building-security list goes to the venue by itself --------------
    page.goto(f"{live_server}/_dev/clock")
    page.fill("#clock-at", f"{day - timedelta(days=1)}T12:00:07")
    page.click("#clock-set button[type=submit]")
    assert page.locator("#dev-clock").inner_text() == f"開発用時計: {day - timedelta(days=1)} 12:00 (JST)"
    outcomes = tick(app)
    assert outcomes["done"] >= 1 and not outcomes["error"], outcomes
    deliver_all(app)
    [security_mail] = smtp_server.to(VENUE)
    filename, data = attachment(security_mail)
    assert filename.endswith(".xlsx")
    rows = sheet_rows(data)
    assert rows[0] == ["氏名", "フリガナ", "会社名・団体名", "部署・役職", "参加する回"], rows[0]
    # An untitled session is named by its start, as on every page (domain/timing/session_name.py).
    when = f"{day.month}月{day.day}日({'月火水木金土日'[day.weekday()]}) 14:00"
    assert sorted(rows[1:]) == [["山田 花子", "ヤマダ ハナコ", "育て上げネット", "", when],
                                ["青木 大輔", "アオキ ダイスケ", "千葉市役所", "市民協働課", when]], rows

    sign_in(page, live_server, organizer, then=f"/admin/events/{seminar}/security")  # 9 days on: signed out
    status = page.locator(f"#session-{session_id} .security-history li").first.inner_text()
    assert re.search(rf"送信済み .*12:00:07 → {re.escape(VENUE)} — 2名", status), status
    shot(page, "issue7-security-page-1280", full_page=False)
    page.goto("about:blank")  # not under the app's CSP, which refuses the email's inline styles
    page.set_content(security_mail.get_body(preferencelist=("html",)).get_content())
    assert "2名" in page.inner_text("table")
    shot(page, "issue7-security-email")

    # -- 6. A late cancellation through the link in the email: the difference goes to the venue ----
    phone.goto(my_link)
    phone.click("a.button.danger")
    phone.wait_for_url("**/cancel")
    phone.click("form button.danger[type=submit]")
    phone.wait_for_url(my_link)
    assert phone.locator(".status.status-cancelled").is_visible()
    assert tick(app)["difference"] == 1
    deliver_all(app)
    venue_mail = smtp_server.to(VENUE)
    assert len(venue_mail) == 2
    diff_text = venue_mail[1].get_body(preferencelist=("plain",)).get_content()
    assert "山田 花子" in diff_text and "青木" not in diff_text, diff_text
    assert [row[0] for row in sheet_rows(attachment(venue_mail[1])[1])[1:]] == ["青木 大輔"]  # the list as it is now
    page.goto("about:blank")
    page.set_content(venue_mail[1].get_body(preferencelist=("html",)).get_content())
    shot(page, "issue7-security-diff-email")
    with database(app) as s:
        sent = building_list.last_sent(session_id)
        hanako = s.scalar(select(Registration).where(Registration.email == PERSON))
        assert hanako.status == Status.cancelled
        assert (sent.kind, sent.added, sent.removed) == (building_list.DIFF, [], [str(hanako.id)])  # ids as the JSON keeps them
        assert s.get(Registration, other_id).status == Status.confirmed
    assert tick(app)["difference"] == 0
    deliver_all(app)
    assert len(smtp_server.to(VENUE)) == 2  # nothing else to the venue
    assert desktop.js_errors == [] and phone.js_errors == []


def _first_session(app, event_id: int) -> int:
    with database(app) as s:
        return s.get(Event, event_id).sessions[0].id
