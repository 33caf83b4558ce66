"""The desk without its server, in real Chromium against a real gunicorn process (issue 14).

The desk syncs the roster, then the server process is stopped (not the browser's offline flag:
RECIPES.md "A real outage for a browser page"): the page reloads from its service worker, scans
and searches still answer from the device, the banner counts what is queued; what IndexedDB holds
is read raw and shows no name; the server is started again on the same port and the queue
drains into the database, with the person let in at two desks listed as a conflict; sign-out
leaves nothing on the device. (The two-desk, 300-scan outage
is tests/e2e's; this one stays small.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from eventreg.domain.registration import passes
from eventreg.models import Registration, Status

from .. import factories, processes
from ..smtp import free_port
from .test_desk import registration, sign_in
from .test_registration_flow import database

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PEOPLE = [
    dict(family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ", organization="若者TECHプロジェクト"),
    dict(family_name="佐藤", given_name="健", family_kana="サトウ", given_kana="ケン"),
    dict(family_name="鈴木", given_name="次郎", family_kana="スズキ", given_kana="ジロウ"),
    dict(family_name="取消", given_name="三郎", family_kana="トリケシ", given_kana="サブロウ"),
]
# What must never be readable at rest: every name and furigana the roster holds.
NAMES = ["山田", "花子", "ヤマダ", "ハナコ", "佐藤", "サトウ", "鈴木", "スズキ", "取消", "若者TECH", "高橋", "タカハシ"]

# Every store of the desk's database, every record, with bytes shown as the text they would be:
# a name written in clear (as a string or as UTF-8 bytes) would show up here.
READ_INDEXEDDB = """async () => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  if (!names.includes("eventreg-desk")) return {databases: names, stores: {}};
  const db = await new Promise((ok, no) => { const r = indexedDB.open("eventreg-desk"); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  const text = (v) => {
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return new TextDecoder("utf-8", {fatal: false}).decode(v);
    if (v instanceof CryptoKey) return {cryptoKey: true, extractable: v.extractable, usages: v.usages};
    if (Array.isArray(v)) return v.map(text);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, text(x)]));
    return v;
  };
  const stores = {};
  for (const name of db.objectStoreNames) {
    stores[name] = await new Promise((ok) => { const r = db.transaction(name).objectStore(name).getAll(); r.onsuccess = () => ok(r.result.map(text)); });
  }
  db.close();
  return {databases: names, stores};
}"""


class Server:
    """``gunicorn wsgi:app`` on one port, on the tests' database, started and stopped for real."""

    def __init__(self, app, folder: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        self.env = {**os.environ, "EVENTREG_ENV": "development",
                    "EVENTREG_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                    "EVENTREG_SECRET_KEY": app.config["SECRET_KEY"], "EVENTREG_BASE_URL": self.url,
                    "EVENTREG_RATELIMIT_ENABLED": "false", "EVENTREG_MAIL_PORT": "1",
                    "EVENTREG_INSTANCE_PATH": str(folder / "instance")}
        self.process = None

    def start(self) -> None:
        with open(self.folder / "server.log", "ab") as log:  # the child keeps its own copy
            self.process = processes.spawn(
                [str(BIN / "gunicorn"), "-w", "1", "--threads", "8", "-b", f"127.0.0.1:{self.port}", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, (self.folder / "server.log").read_text(errors="replace")[-3000:]
            try:
                if httpx.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        processes.stop(self.process)
        with pytest.raises(httpx.TransportError):  # really gone: the port refuses
            httpx.get(self.url + "/login", timeout=2)


@pytest.fixture
def server(app, tmp_path):
    running = Server(app, tmp_path)
    running.start()
    yield running
    if running.process is not None and running.process.poll() is None:
        processes.stop(running.process)


def setup(app):
    with database(app) as s:
        event = factories.make_event(capacity=20)
        user = factories.make_staff("reception", events=[event])
        regs = [factories.register_person(event, **person) for person in PEOPLE]
        cancelled = regs[3]
        cancelled.status = Status.cancelled
        s.commit()
        return {"event": event.id, "email": user.email, "ids": [r.id for r in regs],
                "passes": [passes.qr_payload(r) for r in regs]}


def tampered(payload: str) -> str:
    """The same pass with one character of its signature changed."""
    last = payload[-1]
    return payload[:-1] + ("2" if last != "2" else "3")


def banner(page) -> str:
    return page.locator("#desk-banner").inner_text()


def test_the_desk_reloads_scans_searches_and_queues_with_the_server_stopped(app, server, phone, shot):
    ids = setup(app)
    page = phone
    page.add_init_script("window.__printed = 0; window.print = () => { window.__printed += 1; };")  # the dialog
    desk_url = f"/desk/{ids['event']}?desk=" + quote("受付1")
    sign_in(page, server.url, ids["email"], desk_url)
    assert page.evaluate("document.body.dataset.deskMode") == "online"
    # The shell is kept (service worker active, page and files cached) and the roster stored.
    page.locator("body[data-desk-shell=kept]").wait_for(timeout=30_000)
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    server.stop()
    with database(app) as s:  # issued after the desk's last sync: the desk has never seen it
        event = s.get(Registration, ids["ids"][0]).event
        late = factories.register_person(event, family_name="遅野", given_name="次郎", family_kana="オソノ", given_kana="ジロウ")
        late_id, late_pass = late.id, passes.qr_payload(late)

    page.reload()  # from the service worker: nothing answers on the server's port
    page.locator("body[data-desk-mode=offline]").wait_for(timeout=10_000)
    assert page.locator("#counts [data-count=confirmed]").inner_text() == "3"  # the last counts the server gave
    expect(page.locator("#desk-banner")).to_have_text("オフライン · 未送信 0件")

    def scan(payload: str, code: str):
        page.keyboard.type(payload + "\n")
        panel = page.locator(f"#result[data-result={code}]")
        panel.wait_for(state="visible")
        return panel

    yamada, satou, suzuki, cancelled = ids["passes"]
    scan(yamada, "ok")
    assert page.locator(".result-name").inner_text() == "山田 花子"
    shot(page, "offline-desk-ok", full_page=False)
    # Her badge prints from the page: the card, its stylesheet, fonts and QR encoder were kept.
    page.click("#result-badge")
    page.locator("body.desk-badge-printing").wait_for(state="attached")
    assert page.evaluate("window.__printed") == 1
    assert "山田 花子" in page.locator("#desk-badge").text_content()  # shown for print media only
    assert page.evaluate("""[...document.fonts].some((f) => f.family.replace(/"/g, "") === "Eventreg Badge"
                                                         && f.status === "loaded")""")
    page.evaluate("document.body.classList.remove('desk-badge-printing')")
    page.click("#result-next")
    scan(yamada, "already_checked_in")
    assert "受付1" in page.locator(".result-when").inner_text()
    page.click("#result-next")
    scan(cancelled, "cancelled")
    page.click("#result-next")
    scan(late_pass, "ok")  # a good signature the roster does not know yet: let in, the server decides
    assert page.locator(".result-note").is_visible()
    page.click("#result-next")
    scan(tampered(satou), "unknown_pass")
    page.click("#result-next")
    scan(suzuki, "ok")  # meanwhile, another desk lets the same person in a little later (below)
    page.click("#result-next")

    page.click("#search-input")
    page.keyboard.type("さとう", delay=20)
    person = page.locator("#search-results .person", has_text="佐藤 健")
    person.locator("button.person-checkin").click()
    page.locator("#result[data-result=ok]").wait_for()
    page.click("#result-next")
    page.fill("#search-input", "")
    page.click(".kana-row[data-row=ya]")
    expect(page.locator("#search-results .person-kana")).to_have_text(["ヤマダ ハナコ"])

    expect(page.locator("#desk-queue-count")).to_have_text("7")
    assert banner(page) == "オフライン · 未送信 7件"
    # The counters: the server's last ones plus this desk's unsent check-ins, and it says so.
    assert page.locator("#counts [data-count=checked_in]").inner_text() == "4"
    assert page.locator("#counts-note").is_visible()
    shot(page, "offline-desk-banner", full_page=False)

    verdicts = page.evaluate("window.deskMetrics.verdicts")
    assert [v["result"] for v in verdicts] == ["ok", "already_checked_in", "cancelled", "ok", "unknown_pass", "ok", "ok"]
    assert all(v["mode"] == "offline" for v in verdicts)
    slowest = max(v["ms"] for v in verdicts)
    print(f"\noffline verdicts: {[round(v['ms']) for v in verdicts]} ms")
    assert slowest < 1000, verdicts

    # At rest: ids, the cursor and wipe_after in clear, nothing else readable.
    raw = page.evaluate(READ_INDEXEDDB)
    dump = json.dumps(raw, ensure_ascii=False)
    assert raw["stores"]["rows"] and raw["stores"]["queue"], raw["stores"].keys()
    assert [n for n in NAMES if n in dump] == []
    assert all(k["key"] == {"cryptoKey": True, "extractable": False, "usages": ["encrypt", "decrypt"]}
               for k in raw["stores"]["keys"])
    with database(app) as s:
        assert s.scalar(select(func.count()).select_from(Registration).where(Registration.checked_in_at.is_not(None))) == 0
        # Another desk, still connected, checks 鈴木 in after this desk did (by the device clocks).
        other = s.get(Registration, ids["ids"][2])
        other.checked_in_at, other.checked_in_desk = datetime.now(timezone.utc), "受付2"
        s.commit()

    server.start()  # the same port: the desk finds it again by itself
    back = time.monotonic()
    page.locator("#desk-banner").wait_for(state="hidden", timeout=20_000)  # 5 s when the machine is not busy
    print(f"queue of 7 drained {time.monotonic() - back:.1f} s after the server answered again")
    assert page.evaluate("document.body.dataset.deskMode") == "online"
    with database(app) as s:
        checked_in = set(s.scalars(select(Registration.id).where(Registration.checked_in_at.is_not(None))))
    assert checked_in == {ids["ids"][0], ids["ids"][1], ids["ids"][2], late_id}
    assert registration(app, ids["ids"][0]).checked_in_desk == "受付1"
    # The earliest admission is the check-in; the other is a conflict the desk lists.
    assert registration(app, ids["ids"][2]).checked_in_desk == "受付1"
    conflict = page.locator("#desk-conflicts li", has_text="鈴木 次郎")
    conflict.wait_for(timeout=10_000)
    assert "受付1" in conflict.inner_text() and "受付2" in conflict.inner_text()
    shot(page, "offline-desk-conflict")
    assert registration(app, ids["ids"][3]).checked_in_at is None

    # Sign-out: the page deletes the database itself before it posts the form. The logout
    # response's Clear-Site-Data (tests/web/test_login.py) is taken away here, so this shows the
    # page's own wipe; a browser that ignores the header is such a browser.
    def without_clear_site_data(route):
        answer = route.fetch(max_redirects=0)
        route.fulfill(response=answer, headers={k: v for k, v in answer.headers.items() if k.lower() != "clear-site-data"})

    page.route("**/logout*", without_clear_site_data)
    page.click("#desk-signout")
    page.wait_for_url("**/login")
    after = page.evaluate(READ_INDEXEDDB)
    assert "eventreg-desk" not in after["databases"], after
    assert page.evaluate("caches.keys()") == []


def test_the_desk_files_are_served_for_an_offline_start(app, client, login):
    with database(app):
        event = factories.make_event()
        user = factories.make_staff("reception", events=[event])
        event_id = event.id
        login(user)
    page = client.get(f"/desk/{event_id}").get_data(as_text=True)
    [main] = re.findall(r'<script type="module" src="(/desk/app/[0-9a-f]{12}/main\.js)"></script>', page)
    module = client.get(main)
    assert module.status_code == 200 and module.mimetype == "text/javascript"
    assert module.cache_control.max_age == 31536000 and not module.cache_control.no_store
    worker = client.get("/desk/sw.js")  # at /desk/: its scope is /desk/ without Service-Worker-Allowed
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.cache_control.no_store  # the browser asks for it again on every visit
    assert b"caches.open" in worker.data
    # The camera's decoder worker, beside the modules, alone may compile WebAssembly (web/security.py).
    decoder = client.get(main.replace("main.js", "decoder-worker.js"))
    assert "wasm-unsafe-eval" in decoder.headers["Content-Security-Policy"]
    assert "wasm-unsafe-eval" not in module.headers["Content-Security-Policy"]


def test_hours_after_the_event_the_desk_keeps_nothing_on_the_device(app, live_server, phone):
    """wipe_after (the last session's end + 6 h) has passed: the roster is not kept at rest, and
    the desk still answers from memory while the page stays open."""
    with database(app) as s:
        event = factories.make_event()
        user = factories.make_staff("reception", events=[event])
        person = factories.register_person(event, **PEOPLE[0])
        event_id, email, payload = event.id, user.email, passes.qr_payload(person)
        session = event.sessions[0]  # it took place two days ago
        session.doors_at, session.starts_at, session.ends_at = (
            datetime.now(timezone.utc) - timedelta(days=2, hours=h) for h in (4, 3, 0))
        s.commit()
    page = phone
    sign_in(page, live_server, email, f"/desk/{event_id}")
    page.keyboard.type(payload + "\n")
    page.locator("#result[data-result=ok]").wait_for()
    assert page.locator(".result-name").inner_text() == "山田 花子"
    raw = page.evaluate(READ_INDEXEDDB)
    assert "eventreg-desk" not in raw["databases"], raw


def test_with_nothing_on_the_device_and_no_server_the_desk_says_so(app, server, phone):
    """Hours after the event nothing is kept at rest: reloaded with the server stopped, the desk
    says it has no list and no server (not "still loading", which would never end)."""
    ids = setup(app)
    with database(app) as s:
        session = s.get(Registration, ids["ids"][0]).session  # it took place two days ago
        session.doors_at, session.starts_at, session.ends_at = (
            datetime.now(timezone.utc) - timedelta(days=2, hours=h) for h in (4, 3, 0))
        s.commit()
    page = phone
    sign_in(page, server.url, ids["email"], f"/desk/{ids['event']}")
    page.locator("body[data-desk-shell=kept]").wait_for(timeout=30_000)
    server.stop()
    page.reload()
    page.locator("body[data-desk-mode=offline]").wait_for(timeout=10_000)
    page.fill("#search-input", "やまだ")
    expect(page.locator("#search-note")).to_have_text(
        "この端末には参加者名簿がなく、サーバーにも接続できません。接続が戻るまで紙の名簿をお使いください。")
