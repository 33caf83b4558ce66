"""The reception desk in real Chromium: camera, USB scanner, search, walk-ins, counters.

The desk decides on the device and sends its operations in the background (static/desk/,
test_offline_desk.py): a look at the database first waits for the queue to drain (``drained``).

Assertions use structure (``#result[data-result=ok]``, ids, classes), not translated words, except
where the words are the point (names, the time and desk of an earlier check-in). Every look at
the database happens in a short app context closed before the browser acts again (see
test_registration_flow.py). Screenshots of the phone layout go to $EVENTREG_SHOTS/desk-*.png.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from eventreg.domain.registration import passes
from eventreg.domain.registration.passes import pass_context
from eventreg.extensions import db
from eventreg.models import Registration, Scan, ScanResult, StaffUser
from eventreg.web.documents import pass_pdf as render_pass

from .. import factories
from .conftest import watch
from .test_registration_flow import assert_no_horizontal_overflow, assert_touch_targets, database

pytestmark = pytest.mark.browser


def setup_desk(app, people=(), **event_overrides):
    """An event with a reception user and registrations; returns ids and tokens."""
    with database(app):
        event = factories.make_event(**event_overrides)
        user = factories.make_staff("reception", events=[event])
        regs = [factories.register_person(event, **person) for person in people]
        return {"event": event.id, "session": event.sessions[0].id, "email": user.email,
                "people": [(r.id, passes.qr_payload(r)) for r in regs]}  # (id, what the pass's QR carries)


def sign_in(page, live_server, email: str, then: str) -> None:
    """Through the real /login form, then on to ``then``."""
    page.goto(f"{live_server}/login?next={quote(then, safe='')}")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{then}")
    page.locator("#counts [data-count=confirmed]").filter(has_text=re.compile(r"\d")).wait_for()


def result(page, code: str):
    panel = page.locator(f"#result[data-result={code}]")
    panel.wait_for(state="visible")
    return panel


def drained(page) -> None:
    """The desk decides on the device and sends what it did in the background: wait until the
    server has answered for everything (the banner goes when nothing is left to send)."""
    page.locator("#desk-banner").wait_for(state="hidden", timeout=10_000)


def registration(app, registration_id: int) -> Registration:
    with database(app) as s:
        reg = s.get(Registration, registration_id)
        s.expunge(reg)
        return reg


def scans(app, registration_id: int) -> list[tuple[ScanResult, str]]:
    with database(app) as s:
        rows = s.scalars(select(Scan).where(Scan.registration_id == registration_id).order_by(Scan.id))
        return [(row.result, row.method) for row in rows]


# ---- a) the camera --------------------------------------------------------------------------------

def pass_as_camera_frame(app, registration_id: int, tmp_path: Path) -> Image.Image:
    """The PDF pass as a phone camera would see it: its QR area on white, 640×480, turned 10°."""
    import zxingcpp

    with app.app_context():
        reg = db.session.get(Registration, registration_id)
        from eventreg.web.links import registration_links

        pdf = render_pass(pass_context(reg, registration_links(reg)))
        db.session.remove()
    (tmp_path / "pass.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", "-singlefile",
                    str(tmp_path / "pass.pdf"), str(tmp_path / "pass")], check=True)
    page = Image.open(tmp_path / "pass.png").convert("RGB")
    [code] = zxingcpp.read_barcodes(page)
    xs = [p.x for p in (code.position.top_left, code.position.bottom_right)]
    ys = [p.y for p in (code.position.top_left, code.position.bottom_right)]
    margin = (max(xs) - min(xs)) // 3  # the quiet zone and a bit of the pass around it
    crop = page.crop((min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin))
    crop.thumbnail((400, 400))
    frame = Image.new("RGB", (640, 480), "white")
    frame.paste(crop, ((640 - crop.width) // 2, (480 - crop.height) // 2))
    return frame.rotate(10, fillcolor="white")


def test_camera_checks_in_without_a_tap(app, live_server, camera_phone, tmp_path, shot):
    ids = setup_desk(app, [dict(family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ")])
    [(reg_id, _token)] = ids["people"]
    page = camera_phone(pass_as_camera_frame(app, reg_id, tmp_path))

    sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}?camera=1&desk=" + quote("受付1"))
    panel = result(page, "ok")  # no click anywhere: the camera starts and the pass is decoded
    assert "result-good" in panel.get_attribute("class")
    assert page.locator(".result-name").inner_text() == "山田 花子"
    assert page.locator(".result-kana").inner_text() == "ヤマダ ハナコ"
    assert page.locator("#result-badge").get_attribute("href").endswith(f"/badge/{reg_id}")
    assert page.js_errors == []
    shot(page, "desk-camera-ok", full_page=False)
    page.click("#result-next")
    drained(page)
    assert page.locator("#camera-video").is_visible()
    assert page.get_attribute("#camera-toggle", "aria-pressed") == "true"
    shot(page, "desk-camera", full_page=False)

    reg = registration(app, reg_id)
    assert reg.checked_in_at is not None and reg.checked_in_desk == "受付1"
    # The pass stays in front of the camera: still one check-in, not one per frame.
    page.wait_for_timeout(1500)
    assert scans(app, reg_id) == [(ScanResult.ok, "camera")]


# ---- b) a USB scanner, the amber result and undo ----------------------------------------------

def test_usb_scanner_then_already_checked_in_then_undo(app, live_server, phone, shot):
    ids = setup_desk(app, [dict(family_name="佐藤", given_name="一郎", family_kana="サトウ", given_kana="イチロウ",
                                organization="若者TECHプロジェクト")])
    [(reg_id, token)] = ids["people"]
    page = phone
    sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}?desk=" + quote("受付2"))
    assert page.evaluate("document.activeElement.id") == "scan-input"
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page, 44)
    shot(page, "desk-idle")

    page.keyboard.type(f"{token}\n")  # what a scanner does: the code, then Enter
    panel = result(page, "ok")
    assert "result-good" in panel.get_attribute("class")
    assert page.locator(".result-name").inner_text() == "佐藤 一郎"
    assert page.locator(".result-org").inner_text() == "若者TECHプロジェクト"
    assert page.locator("#result-undo").is_visible() and page.locator("#result-badge").is_visible()
    shot(page, "desk-ok", full_page=False)
    drained(page)
    time, desk = registration(app, reg_id).checked_in_at, registration(app, reg_id).checked_in_desk
    assert time is not None and desk == "受付2"

    page.keyboard.type(f"{token}\n")  # the focus stayed in the scanner's input
    panel = result(page, "already_checked_in")
    assert "result-amber" in panel.get_attribute("class")
    when = page.locator(".result-when").inner_text()
    assert re.search(r"\b\d{1,2}:\d{2}\b", when) and "受付2" in when, when
    shot(page, "desk-already", full_page=False)

    page.click("#result-undo")
    result(page, "undone")
    drained(page)
    reg = registration(app, reg_id)
    assert reg.checked_in_at is None and reg.checked_in_desk == ""
    log = scans(app, reg_id)
    assert [r for r, _ in log] == [ScanResult.ok, ScanResult.already_checked_in, ScanResult.undone]
    assert log[0][1] == "keyboard"

    # A pass that is not one of ours: red, in words, and the screen clears itself.
    page.click("#result-next")
    page.keyboard.type("ER1:" + "x" * 32 + "\n")
    panel = result(page, "unknown_pass")
    assert "result-bad" in panel.get_attribute("class")
    assert page.locator(".result-message").inner_text().strip()
    shot(page, "desk-red", full_page=False)
    page.locator("#result").wait_for(state="hidden", timeout=12_000)
    assert page.evaluate("document.activeElement.id") == "scan-input"
    assert page.js_errors == []


# ---- c) search by furigana and kana row -------------------------------------------------------

def test_search_by_hiragana_and_kana_row_then_check_in(app, live_server, phone, shot):
    people = [
        dict(family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ"),
        dict(family_name="佐藤", given_name="健", family_kana="サトウ", given_kana="ケン", organization="NPOサトウ"),
        dict(family_name="鈴木", given_name="次郎", family_kana="スズキ", given_kana="ジロウ"),
        dict(family_name="田中", given_name="三郎", family_kana="タナカ", given_kana="サブロウ"),
    ]
    ids = setup_desk(app, people)
    page = phone
    sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}")

    page.click("#search-input")
    page.keyboard.type("やま", delay=20)  # hiragana, partial: finds ヤマダ
    page.locator("#search-results .person").first.wait_for()
    # Locator waits, not wait_for_function: polling a JS string needs eval, which our CSP refuses.
    expect(page.locator("#search-results .person")).to_have_count(1)
    assert page.locator("#search-results .person-kana").inner_text() == "ヤマダ ハナコ"
    assert page.evaluate("document.activeElement.id") == "search-input"  # not stolen by the scanner input

    page.fill("#search-input", "")
    page.click(".kana-row[data-row=sa]")
    assert page.get_attribute(".kana-row[data-row=sa]", "aria-pressed") == "true"
    expect(page.locator("#search-results .person-kana")).to_have_text(["サトウ ケン", "スズキ ジロウ"])
    assert_no_horizontal_overflow(page)
    shot(page, "desk-search")

    satou = page.locator("#search-results .person", has_text="佐藤 健")
    satou.locator("button.person-checkin").click()
    result(page, "ok")
    assert page.locator(".result-name").inner_text() == "佐藤 健"
    drained(page)
    assert registration(app, ids["people"][1][0]).checked_in_at is not None
    assert scans(app, ids["people"][1][0]) == [(ScanResult.ok, "search")]
    # The list shows the new state once the screen is back.
    page.click("#result-next")
    satou.locator(".person-in").filter(has_text=re.compile(r"\d{1,2}:\d{2}")).wait_for()
    assert satou.locator("button.person-checkin").is_hidden()
    assert page.js_errors == []


# ---- d) walk-ins and the live counters -------------------------------------------------------

def test_walk_in_registers_checks_in_and_counts(app, live_server, phone, browser, shot):
    ids = setup_desk(app, [{}, {}], capacity=10)
    page = phone
    desk_url = f"/desk/{ids['event']}"
    sign_in(page, live_server, ids["email"], desk_url)
    keys = ("checked_in", "not_arrived", "walk_ins", "confirmed")
    counts = {key: page.locator(f"#counts [data-count={key}]") for key in keys}
    page.locator("#counts [data-count=confirmed]").filter(has_text="2").wait_for(timeout=8000)
    assert [c.inner_text() for c in counts.values()] == ["0", "2", "0", "2"]
    # Under the words of the attendee list and the statistics.
    assert page.locator("#counts .count-label").all_inner_texts() == ["受付済み", "未到着", "当日参加", "申し込み完了"]

    # A second desk, signed in on another device, sees the change by polling.
    other = watch(browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP"))
    other_page = other.new_page()
    sign_in(other_page, live_server, ids["email"], desk_url)

    page.click("#walkin > summary")
    page.click("#walkin-submit")  # empty: the fields say what is missing
    page.locator("[data-field=family_name].has-error .error").wait_for()
    assert page.locator("[data-field=sector].has-error").count() == 1
    assert_touch_targets(page, 24)
    shot(page, "desk-walkin-errors")
    page.fill("#walkin-family_name", "高橋")
    page.fill("#walkin-given_name", "四郎")
    page.fill("#walkin-family_kana", "たかはし")
    page.fill("#walkin-given_kana", "しろう")
    page.fill("#walkin-organization", "当日株式会社")
    page.locator("label.choice:has(input[name=sector][value=company])").click()
    page.click("#walkin-submit")
    panel = result(page, "walk_in")
    assert "result-good" in panel.get_attribute("class")
    assert page.locator(".result-kana").inner_text() == "タカハシ シロウ"
    expect(page.locator("#result-badge")).to_be_visible()  # once the server has numbered the walk-in
    assert page.locator("#result-undo").is_hidden()

    drained(page)
    with database(app) as s:
        reg = s.scalar(select(Registration).where(Registration.family_name == "高橋"))
        assert reg.walk_in is True and reg.checked_in_at is not None and reg.email is None
    other_page.locator("#counts [data-count=walk_ins]").filter(has_text="1").wait_for(timeout=8000)
    assert other_page.locator("#counts [data-count=checked_in]").inner_text() == "1"
    # The walk-in is confirmed and arrived; the two who registered are still to come.
    assert other_page.locator("#counts [data-count=not_arrived]").inner_text() == "2"
    assert other_page.locator("#counts [data-count=confirmed]").inner_text() == "3"
    shot(other_page, "desk-desktop")
    other.close()
    assert page.js_errors == []


# ---- e) staff of another event -------------------------------------------------------------------

def test_reception_of_another_event_gets_404(app, client, login):
    with database(app):
        event = factories.make_event()
        other_event = factories.make_event()
        outsider = factories.make_staff("reception", events=[other_event])
        mine, theirs = other_event.id, event.id
        login(outsider)
    assert client.get(f"/desk/{theirs}").status_code == 404
    assert client.get(f"/api/v1/events/{theirs}/counts").status_code == 404
    assert client.get(f"/desk/{mine}").status_code == 200


def test_the_desk_downloads_no_decoder_until_a_camera_starts(app, client, login):
    """A USB-scanner desk never loads a decoder: the page names camera.js and the decoder's URLs,
    and nothing of them is a script of the page (web/desk_vendor.py serves them when asked)."""
    ids = setup_desk(app)
    with database(app) as s:
        login(s.scalars(select(StaffUser).where(StaffUser.email == ids["email"])).one())
    page = client.get(f"/desk/{ids['event']}").get_data(as_text=True)
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', page)
    assert not [src for src in scripts if "vendor" in src or "jsQR" in src or "camera" in src], scripts
    assert "zxing_reader.wasm" in page  # named for camera.js, which main.js imports when a camera starts
    [main] = re.findall(r'<script type="module" src="([^"]+/main\.js)"', page)
    assert 'import("./camera.js")' in client.get(main).get_data(as_text=True)


def test_desk_with_several_sessions_offers_a_session_choice(app, client, login):
    first = factories.event_spec_dict()["sessions"][0]
    second = dict(first, start="18:00", end="20:00", doors="17:45")
    with database(app):
        event = factories.make_event(sessions=[first, second])
        user = factories.make_staff("reception", events=[event])
        event_id, session_ids = event.id, [s.id for s in event.sessions]
        login(user)
    page = client.get(f"/desk/{event_id}?session={session_ids[1]}&desk=" + quote("入口A")).get_data(as_text=True)
    assert f'<option value="{session_ids[1]}" selected>' in page
    assert f'name="session_id" value="{session_ids[1]}" checked' in page  # the walk-in form follows
    assert 'value="入口A"' in page
    assert client.get(f"/desk/{event_id}?session=999999").status_code == 404


# ---- f) a compact desk on a phone, its way out, and what search offers after the result --------

def test_the_camera_sits_high_on_a_phone_and_the_header_leads_out(app, live_server, camera_phone, tmp_path, shot):
    ids = setup_desk(app, [dict(family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ")])
    [(reg_id, _token)] = ids["people"]
    page = camera_phone(Image.new("RGB", (640, 480), "white"))  # a camera that sees no pass
    sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}?camera=1")
    page.locator("#camera-video").wait_for(state="visible")
    top = page.evaluate("document.getElementById('camera-video').getBoundingClientRect().top")
    height = page.evaluate("window.innerHeight")
    assert height == 844 and top <= 0.2 * height, f"the camera starts at {top}px of {height}"
    assert page.locator(".top").is_hidden()  # the site's bar gives way to the desk's
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page, 44)
    shot(page, "desk-camera", full_page=False)

    # The way back to the event list, and out.
    assert page.locator("#desk-events").get_attribute("href").endswith("/staff")
    page.click("#desk-signout")
    page.wait_for_url("**/login")
    assert page.goto(f"{live_server}/desk/{ids['event']}").url.startswith(f"{live_server}/login")
    assert page.js_errors == []


def test_search_after_the_result_offers_reprint_and_undo(app, live_server, phone, shot):
    ids = setup_desk(app, [dict(family_name="佐藤", given_name="健", family_kana="サトウ", given_kana="ケン")])
    [(reg_id, token)] = ids["people"]
    page = phone
    sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}")
    page.keyboard.type(f"{token}\n")
    result(page, "ok")
    page.click("#result-next")  # the screen closed: only the search is left

    page.click("#search-input")
    page.keyboard.type("さとう", delay=20)
    person = page.locator("#search-results .person", has_text="佐藤 健")
    person.locator(".person-undo").wait_for()
    assert person.locator(".person-checkin").is_hidden()
    badge = person.locator(".person-badge")
    assert badge.is_visible() and badge.get_attribute("href").endswith(f"/badge/{reg_id}")
    assert person.locator(".person-security").is_hidden()  # no list was sent: no marker
    assert_touch_targets(page, 44)
    shot(page, "desk-search-reprint-undo", full_page=False)

    person.locator(".person-undo").click()
    result(page, "undone")
    drained(page)
    assert registration(app, reg_id).checked_in_at is None
    assert [r for r, _ in scans(app, reg_id)] == [ScanResult.ok, ScanResult.undone]
    page.click("#result-next")
    person.locator(".person-checkin").wait_for()  # the list shows the new state
    assert person.locator(".person-undo").is_hidden() and person.locator(".person-badge").is_hidden()
    assert page.js_errors == []


def test_someone_missing_from_the_sent_security_list_is_marked(app, live_server, phone, shot):
    from datetime import datetime, timezone

    from eventreg.domain.communication import building_list

    ids = setup_desk(app, [dict(family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ")])
    with database(app) as s:
        from eventreg.models import Event

        event = s.get(Event, ids["event"])
        event.security_email = "security@venue.example"
        building_list.send_full(event.sessions[0], trigger="manual", now=datetime.now(timezone.utc))
        s.commit()
        late = factories.register_person(event, family_name="遅野", given_name="次郎", family_kana="オソノ",
                                         given_kana="ジロウ")
        late_id, late_token = late.id, passes.qr_payload(late)
    page = phone
    sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}")

    page.keyboard.type(f"{late_token}\n")  # signed up after the list went to the building
    result(page, "ok")
    mark = page.locator("#result-security")
    assert mark.is_visible() and "入館者リストに未掲載" in mark.inner_text() and "ビル入館証がありません" in mark.inner_text()
    shot(page, "desk-security-marker", full_page=False)
    page.click("#result-next")

    page.keyboard.type(f"{ids['people'][0][1]}\n")  # on the list: no marker
    result(page, "ok")
    assert page.locator("#result-security").is_hidden()
    page.click("#result-next")

    page.click("#search-input")
    page.keyboard.type("おその", delay=20)
    person = page.locator("#search-results .person", has_text="遅野 次郎")
    person.locator(".person-security").wait_for()
    assert "入館者リストに未掲載" in person.locator(".person-security").inner_text()
    shot(page, "desk-security-marker-search", full_page=False)
    drained(page)
    assert registration(app, late_id).checked_in_at is not None
    assert page.js_errors == []


def test_a_second_walk_in_of_the_same_name_asks_first(app, live_server, phone, shot):
    ids = setup_desk(app, [], capacity=10)
    page = phone
    sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}")

    def enter():
        page.click("#walkin > summary")
        page.fill("#walkin-family_name", "高橋")
        page.fill("#walkin-given_name", "四郎")
        page.fill("#walkin-family_kana", "たかはし")
        page.fill("#walkin-given_kana", "しろう")
        page.locator("label.choice:has(input[name=sector][value=company])").click()
        page.click("#walkin-submit")

    enter()
    result(page, "walk_in")
    page.click("#result-next")
    enter()
    question = page.locator("#walkin-again")
    question.wait_for()
    text = page.locator("#walkin-again-text").inner_text()
    assert "高橋 四郎" in text and re.search(r"\d{1,2}:\d{2}", text), text
    assert page.locator("#walkin-submit").is_hidden()
    question.scroll_into_view_if_needed()
    shot(page, "desk-walkin-again", full_page=False)
    drained(page)
    with database(app) as s:
        assert s.scalar(select(func.count()).select_from(Registration)) == 1  # asking wrote nothing

    page.click("#walkin-again-yes")
    result(page, "walk_in")
    drained(page)
    with database(app) as s:
        assert s.scalar(select(func.count()).select_from(Registration).where(Registration.walk_in.is_(True))) == 2
    assert page.js_errors == []


# ---- g) the check-in log on a phone, and the sign-in page -----------------------------------------

def test_check_in_log_on_a_phone_is_cards_in_words(app, live_server, phone, desktop, shot):
    from datetime import datetime, timezone

    from eventreg.domain.reception import checkin, walk_ins

    with database(app) as s:
        event = factories.make_event()
        organizer = factories.make_staff("owner", events=[event], email=f"owner{event.id}@example.org")
        desk_user = factories.make_staff("reception", events=[event], name="受付 花子")
        person = factories.register_person(event, family_name="渡邊", given_name="真由美",
                                           organization="特定非営利活動法人 ちば市民活動・市民事業サポートクラブ")
        now = datetime.now(timezone.utc)
        for payload, method in ((passes.qr_payload(person), "camera"), (passes.qr_payload(person), "keyboard"),
                                ("garbage", "api")):
            checkin.scan(payload, event=event, method=method, desk="正面受付 1", user_id=desk_user.id, now=now)
        walk_ins.walk_in(event.sessions[0], factories.applicant(email=None), desk="正面受付 1",
                        user_id=desk_user.id, now=now)
        s.commit()
        event_id, email = event.id, organizer.email
    url = f"/admin/events/{event_id}/checkins"
    for page in (phone, desktop):
        page.goto(f"{live_server}/login?next={quote(url, safe='')}")
        page.fill("#email", email)
        page.fill("#password", factories.PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url(f"**{url}")
    methods = phone.locator(".log-method").all_inner_texts()
    assert sorted(methods) == sorted(["カメラ", "USBスキャナー", "スキャナーアプリ", "当日参加"]), methods
    assert not {"camera", "keyboard", "walk_in", "api"} & set(methods)
    assert_no_horizontal_overflow(phone)
    # Stacked: every cell of a row starts at the row's left edge, one under the other, no table columns.
    display = phone.evaluate("getComputedStyle(document.querySelector('.log tbody tr')).display")
    assert display == "flex"
    assert phone.locator(".log thead").bounding_box()["height"] <= 1
    shot(phone, "desk-checkin-log-390")
    assert desktop.evaluate("getComputedStyle(document.querySelector('.log tbody tr')).display") == "table-row"
    shot(desktop, "desk-checkin-log-1280")


def test_the_password_field_looks_like_the_others(live_server, phone, shot):
    phone.goto(f"{live_server}/login")
    style = """(sel) => { const s = getComputedStyle(document.querySelector(sel));
                         return [s.borderTopWidth, s.borderTopStyle, s.borderRadius, s.paddingLeft, s.fontSize,
                                 Math.round(document.querySelector(sel).getBoundingClientRect().width),
                                 Math.round(document.querySelector(sel).getBoundingClientRect().height)]; }"""
    assert phone.evaluate(style, "#password") == phone.evaluate(style, "#email")
    shot(phone, "desk-login")


# ---- h) the development clock's page and banner ----------------------------------------------------

def test_the_clock_page_moves_the_time_and_every_page_says_so(app, live_server, phone, shot, tmp_path):
    from eventreg import clock

    saved = clock._file
    clock.configure(str(tmp_path / "clock.json"))
    try:
        ids = setup_desk(app, [{}])
        page = phone
        page.goto(f"{live_server}/_dev/clock")
        assert page.locator("#dev-clock").count() == 0
        page.fill("#clock-at", "2019-02-07T12:01")
        page.click("#clock-set button[type=submit]")
        banner = page.locator("#dev-clock")
        assert banner.inner_text() == "開発用時計: 2019-02-07 12:01 (JST)"
        assert_no_horizontal_overflow(page)
        shot(page, "desk-clock-page")
        sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}")
        assert page.locator("#dev-clock").is_visible()  # also above the desk's own bar
        shot(page, "desk-clock-banner-desk", full_page=False)
        page.goto(f"{live_server}/_dev/clock")
        page.click("#clock-reset button")
        assert page.locator("#dev-clock").count() == 0
        assert page.js_errors == []
    finally:
        clock.configure(saved)
