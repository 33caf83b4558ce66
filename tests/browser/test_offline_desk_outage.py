"""Two desks through a real outage: the server process is stopped while reception goes on.

The deployment is real: gunicorn (2 processes, 4 threads) on a fresh PostgreSQL database migrated
with ``flask db upgrade``; the desk pages reach it through tests/dropping_proxy.py (their origin),
which can lose the answer to a desk batch. The test process writes the people straight into the
database (as an import would) and reads it to check the outcome.

1. Two desks (受付1, 受付2: two browser contexts, two reception accounts) open and sync the roster.
2. The server is killed (SIGKILL: the proxy stops listening too, so connections are refused).
   5 people register after the last sync (their passes are valid but unknown to the desks).
3. 300 scans of 280 passes go in through the scanner field (the pass text, then Enter), spread
   over both desks: 20 passes at both, 5 of the post-sync people, 5 passes cancelled before the
   sync; 10 walk-ins; desk 受付2 is reloaded halfway (the service worker serves the page).
   Every verdict is timed from Enter to verdict painted (the page's ``deskMetrics``) and printed;
   the targets (p95 ≤ 150 ms, drain ≤ 5 s) are bench/desk_offline.py's, on a quiet machine.
4. gunicorn starts again on the same port. Both queues empty (time printed), the database holds
   exactly 275 check-ins, 10 checked-in walk-ins, 20 conflicts, and nothing twice, and both desks
   list the 20 conflicts (as does the check-in log). Every batch sent again as it was changes
   nothing. Then one more pass is scanned online and the proxy loses the answer to its batch: the
   page sends it again, the person is checked in once; sent a third time, nothing changes.
5. IndexedDB read raw holds no name in plaintext; signing out empties it.

PostgreSQL only, like tests/multi: several processes share the database.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from eventreg import create_app
from eventreg.domain.registration import passes, signup
from eventreg.extensions import db
from eventreg.models import CheckinConflict, DeskOperation, Event, Registration, Status

from .. import factories, processes
from ..dropping_proxy import DroppingProxy
from ..pg import fresh_database
from ..smtp import free_port
from .conftest import DESKTOP, watch

# Not a skip of unfinished work: scripts/test runs the suite on PostgreSQL every time, and this
# deployment (several processes on one database) is what SQLite is not for (docs/how-it-works.md).
pytestmark = pytest.mark.skipif(
    os.environ.get("EVENTREG_TEST_DB", "sqlite") != "postgresql",
    reason="gunicorn processes and the test share one database over the network: PostgreSQL (see tests/multi)",
)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
IN_ROSTER = 270  # confirmed at the last sync
BOTH = 20  # of those, scanned at both desks
CANCELLED = 5  # cancelled before the last sync: their passes are refused
LATE = 5  # registered after the last sync: valid passes the desks have never seen
WALK_INS = 10
DESKS = ("受付1", "受付2")
# Speed is measured by bench/desk_offline.py on a quiet machine (targets: verdict p95 <= 150 ms,
# drain <= 5 s; figures in docs/benchmarks.md), not timed here: CI shares 2 cores with the other
# browser. These bounds only catch a desk that waits for the server (a 3 s fetch deadline per
# verdict) or a queue that stalls; the run prints its figures.
P95_MS = 1000
DRAIN_SECONDS = 30
REFUSED = {"cancelled", "superseded"}
WALK_IN_NAMES = [("飛込", "一郎", "トビコミ", "イチロウ"), ("当日", "二郎", "トウジツ", "ジロウ"),
                 ("来場", "三郎", "ライジョウ", "サブロウ"), ("窓口", "四郎", "マドグチ", "シロウ"),
                 ("入口", "五郎", "イリグチ", "ゴロウ"), ("正面", "六郎", "ショウメン", "ロクロウ"),
                 ("会場", "七海", "カイジョウ", "ナナミ"), ("受講", "八重", "ジュコウ", "ヤエ"),
                 ("聴講", "九美", "チョウコウ", "クミ"), ("参加", "十和", "サンカ", "トワ")]


# ---- the deployment -----------------------------------------------------------------------------

class Server:
    """gunicorn on a fixed port, startable again after being killed."""

    def __init__(self, env: dict, folder: Path):
        self.env, self.folder, self.port = env, folder, free_port()
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def cli(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"flask {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self) -> None:
        self.starts += 1
        with open(self.folder / f"gunicorn-{self.starts}.log", "wb") as log:
            self.process = processes.spawn(
                [str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{self.port}",
                 "--graceful-timeout", "2", "wsgi:app"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def wait_until_serving(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            assert self.process.poll() is None, f"gunicorn exited:\n{self.logs()}"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/login", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not start:\n{self.logs()}"
            time.sleep(0.05)

    def kill(self) -> None:
        """A power cut: the whole process group at once, nothing finishes its requests."""
        processes.stop(self.process, first=signal.SIGKILL)
        self.process = None

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-tail:]}"
                         for log in sorted(self.folder.glob("gunicorn-*.log")))


@pytest.fixture
def deployment(tmp_path):
    database_url, drop_database = fresh_database()
    env = {**os.environ, "EVENTREG_ENV": "development", "EVENTREG_SQLALCHEMY_DATABASE_URI": database_url,
           "EVENTREG_SECRET_KEY": secrets.token_urlsafe(32), "EVENTREG_RATELIMIT_ENABLED": "false",
           "EVENTREG_INSTANCE_PATH": str(tmp_path / "instance"), "EVENTREG_MAIL_PORT": "1"}
    server = Server(env, tmp_path)
    proxy = DroppingProxy(server.port)
    app = None
    try:
        server.cli("db", "upgrade")
        proxy.start()
        server.env["EVENTREG_BASE_URL"] = f"http://127.0.0.1:{proxy.port}"
        server.start()
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": env["EVENTREG_SECRET_KEY"]})
        with app.app_context():
            data = _people(app)
        server.wait_until_serving()
        yield {"server": server, "proxy": proxy, "app": app, "url": f"http://127.0.0.1:{proxy.port}", **data}
    finally:
        if server.process is not None:
            processes.stop(server.process, timeout=5)
        proxy.close()
        if app is not None:
            with app.app_context():
                db.engine.dispose()
        drop_database()


def _people(app) -> dict:
    """The event, its staff and the 275 people of the last sync: 270 confirmed, 5 of them with a
    cancelled pass (the pass they hold was issued before they cancelled)."""
    event = factories.make_event(capacity=IN_ROSTER + CANCELLED + LATE + WALK_INS + 10)
    desks = [factories.make_staff("reception", events=[event], email=f"desk{n}@example.org", name=f"受付係{n}")
             for n in (1, 2)]
    organizer = factories.make_staff("organizer", events=[event], email="owner@example.org")
    factories.bulk_confirmed(event.sessions[0], IN_ROSTER + CANCELLED)
    people = db.session.scalars(select(Registration).where(Registration.event_id == event.id)
                                .order_by(Registration.id)).all()
    held = {r.id: passes.qr_payload(r) for r in people}
    now = datetime.now(timezone.utc)
    for person in people[:CANCELLED]:
        signup.cancel(person, now=now, notify=False, by_staff=True)
    db.session.commit()
    names = {text for r in people for text in (r.family_name, r.given_name, r.family_kana, r.given_kana)}
    result = {"event": event.id, "desks": [d.email for d in desks], "organizer": organizer.email,
              "cancelled": [held[r.id] for r in people[:CANCELLED]],
              "confirmed": [(r.id, held[r.id]) for r in people[CANCELLED:]], "names": names}
    db.session.remove()
    return result


def _register_late(app, event_id: int, count: int = LATE, family: str = "遅登録") -> list[tuple[int, str]]:
    """People who sign up after the desks' last sync (straight into the database: the server may be down)."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        late = [factories.register_person(event, family_name=family, given_name=f"{n}号", family_kana="オソトウロク",
                                          given_kana="ゴウ") for n in range(count)]
        result = [(r.id, passes.qr_payload(r)) for r in late]
        db.session.remove()
    return result


# ---- the desk pages -----------------------------------------------------------------------------

class Desk:
    """One desk page in its own browser context, driven as staff would: scanner field and form."""

    def __init__(self, browser, url: str, event_id: int, email: str, name: str):
        self.name = name
        self.context = watch(browser.new_context(**DESKTOP))
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.verdicts: list[dict] = []  # of earlier page loads (a reload starts deskMetrics afresh)
        self.seen = 0  # verdicts of this page load already returned by scan()
        self.path = f"/desk/{event_id}?desk=" + quote(name)
        self.page.goto(f"{url}/login?next={quote(self.path, safe='')}")
        self.page.fill("#email", email)
        self.page.fill("#password", factories.PASSWORD)
        with self.page.expect_response(lambda r: "/roster" in r.url and r.status == 200, timeout=20_000):
            self.page.click("form button[type=submit]")

    def evaluate(self, script: str, arg=None):
        # An async function, not a string polled by wait_for_function: the CSP refuses eval.
        return self.page.evaluate(script, arg)

    def mode(self) -> str:
        return self.evaluate("() => document.body.dataset.deskMode")

    def queued(self) -> int:
        text = self.page.locator("#desk-queue-count").text_content() or "0"
        return int(text.strip() or 0)

    def metrics(self) -> list[dict]:
        return self.evaluate("() => (window.deskMetrics && window.deskMetrics.verdicts || []).slice()")

    def scan(self, text: str) -> dict:
        """The USB scanner's path: the code typed into the scanner field, then Enter. Returns the
        verdict the page recorded for it (walk-ins are recorded too: the first keyboard one after)."""
        self.page.focus("#scan-input")
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Enter")
        found = self.evaluate("""async (n) => {
            const end = performance.now() + 5000;
            const all = window.deskMetrics.verdicts;
            const mine = () => all.findIndex((v, i) => i >= n && v.source === "keyboard");
            while (mine() < 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 2));
            return mine() < 0 ? null : [mine(), all[mine()]];
        }""", self.seen)
        if found is None:
            return None
        self.seen = found[0] + 1
        return found[1]

    def walk_in(self, family: str, given: str, family_kana: str, given_kana: str) -> None:
        before = self.queued()
        page = self.page
        if page.locator("#result").is_visible():
            page.click("#result-next")  # the last verdict is still on screen, over the form
        if not page.locator("#walkin-family_name").is_visible():
            page.click("#walkin > summary")
        page.fill("#walkin-family_name", family)
        page.fill("#walkin-given_name", given)
        page.fill("#walkin-family_kana", family_kana)
        page.fill("#walkin-given_kana", given_kana)
        page.locator("label.choice:has(input[name=sector][value=company])").click()
        page.click("#walkin-submit")
        wait_until(lambda: self.queued() > before, 5, f"{self.name}: the walk-in was not queued")

    def reload(self) -> None:
        self.verdicts += self.metrics()
        queued = self.queued()
        self.page.reload()
        self.seen = 0
        wait_until(lambda: self.mode() == "offline", 5, f"{self.name}: not offline after the reload")
        assert self.queued() == queued, "the queue did not survive the reload"

    def stored(self) -> dict[str, int]:
        """How many records each IndexedDB store of the origin holds."""
        return self.evaluate("""async () => {
            const out = {};
            for (const info of await indexedDB.databases()) {
              const idb = await new Promise((ok, ko) => {
                const r = indexedDB.open(info.name);
                r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error);
              });
              for (const store of idb.objectStoreNames) {
                out[store] = await new Promise((ok, ko) => {
                  const r = idb.transaction(store).objectStore(store).count();
                  r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error);
                });
              }
              idb.close();
            }
            return out;
        }""")

    def synced(self, rows: int) -> bool:
        """The shell is kept for offline starts and the whole roster is stored on the device."""
        shell = self.evaluate("() => document.body.dataset.deskShell")
        return shell == "kept" and self.stored().get("rows", 0) >= rows

    def lists(self, conflicts: list[str]) -> bool:
        shown = self.page.locator("#desk-conflicts").text_content() or ""
        return all(text in shown for text in conflicts)

    def scan_verdicts(self) -> list[dict]:
        return [v for v in self.verdicts + self.metrics() if v["source"] == "keyboard"]

    def idb_dump(self) -> list:
        """Every record of every store of every IndexedDB database of the origin, as stored:
        strings as they are, binary as hex."""
        return self.evaluate("""async () => {
            const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
            const plain = (v) => {
              if (v instanceof ArrayBuffer) return {hex: hex(v)};
              if (ArrayBuffer.isView(v)) return {hex: hex(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength))};
              if (v instanceof CryptoKey) return {cryptokey: v.algorithm.name, extractable: v.extractable};
              if (v instanceof Blob) return {blob: v.size};
              if (Array.isArray(v)) return v.map(plain);
              if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
              return v;
            };
            const out = [];
            for (const info of await indexedDB.databases()) {
              const idb = await new Promise((ok, ko) => {
                const r = indexedDB.open(info.name);
                r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error);
              });
              for (const store of idb.objectStoreNames) {
                const rows = await new Promise((ok, ko) => {
                  const r = idb.transaction(store).objectStore(store).getAll();
                  r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error);
                });
                out.push({db: info.name, store, rows: rows.map(plain)});
              }
              idb.close();
            }
            return out;
        }""")


def wait_until(condition, seconds: float, message) -> float:
    """Polls ``condition`` until it is true; returns the seconds it took. ``message`` may be a
    callable, to describe the state when the wait ran out rather than when it began."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, message() if callable(message) else message
        time.sleep(0.02)
    return time.monotonic() - started


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def plan(confirmed: list[str], cancelled: list[str], late: list[str]) -> dict[str, list[tuple]]:
    """What each desk does, in order: ("scan", text, kind) and ("walk_in", names), and one reload."""
    both, single = confirmed[:BOTH], confirmed[BOTH:]
    a: list[tuple] = [("scan", t, "ok") for t in single[: len(single) // 2]]
    b: list[tuple] = [("scan", t, "ok") for t in single[len(single) // 2:]]
    # The passes seen by both desks: half of them reach 受付1 first, half 受付2, far apart in time.
    for n, text in enumerate(both):
        first, second = (a, b) if n % 2 == 0 else (b, a)
        first.insert(5 + n, ("scan", text, "both"))
        second.insert(len(second) - 20 + n // 2, ("scan", text, "both"))
    for n, text in enumerate(cancelled):
        (a if n % 2 else b).insert(30 + 15 * n, ("scan", text, "cancelled"))
    for n, text in enumerate(late):
        (b if n % 2 else a).insert(40 + 15 * n, ("scan", text, "late"))
    for n, names in enumerate(WALK_IN_NAMES):
        (a if n % 2 else b).insert(20 + 12 * n, ("walk_in", names))
    b.insert(len(b) // 2, ("reload",))
    return {DESKS[0]: a, DESKS[1]: b}


def db_state(app, event_id: int) -> dict:
    with app.app_context():
        regs = Registration.event_id == event_id
        count = lambda *where: db.session.scalar(select(func.count()).select_from(Registration).where(regs, *where))  # noqa: E731
        state = {
            "checked_in": count(Registration.walk_in.is_(False), Registration.checked_in_at.is_not(None)),
            "walk_ins": count(Registration.walk_in.is_(True)),
            "walk_ins_in": count(Registration.walk_in.is_(True), Registration.checked_in_at.is_not(None)),
            "conflicts": db.session.scalar(select(func.count()).select_from(CheckinConflict)
                                           .where(CheckinConflict.event_id == event_id)),
            "operations": db.session.scalar(select(func.count()).select_from(DeskOperation)
                                            .where(DeskOperation.event_id == event_id)),
            "registrations": count(),
        }
        db.session.remove()
    return state


def replay(port: int, raw: bytes) -> dict:
    """Sends the bytes of a request as they were to the server; returns the JSON answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"200", head
    return json.loads(body)


def answer_of(raw: bytes) -> dict:
    return json.loads(raw.partition(b"\r\n\r\n")[2])


def results_of(answer: dict) -> list[tuple[str, str]]:
    return [(r["id"], r["result"]) for r in answer["results"]]


def operations_of(raw: bytes) -> list[str]:
    return [op["id"] for op in json.loads(raw.partition(b"\r\n\r\n")[2])["operations"]]


# ---- the test -----------------------------------------------------------------------------------

# The test's own proxy (tests/dropping_proxy.py) can leave one accepted browser connection's socket
# to the collector when its loop stops mid-relay: a harness socket, not the app's (its own test
# checks the proxy closes what it holds). Every other warning still fails the test.
@pytest.mark.filterwarnings("ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning")
def test_two_desks_through_a_server_outage(deployment, browser, browser_problems):
    app, server, proxy, url, event_id = (deployment[k] for k in ("app", "server", "proxy", "url", "event"))
    timings: dict[str, float] = {}
    began = time.monotonic()
    desks = {name: Desk(browser, url, event_id, email, name) for name, email in zip(DESKS, deployment["desks"], strict=True)}
    for desk in desks.values():
        wait_until(lambda d=desk: d.mode() == "online" and d.stored().get("rows", 0) >= IN_ROSTER + CANCELLED, 20,
                   lambda d=desk: f"{d.name} did not sync the roster: {d.stored()}")
        # The shell is kept once the badge fonts are loaded: cut for this event's names by each
        # gunicorn worker the first time (seconds of CPU each), slow when CI's other half is busy.
        wait_until(lambda d=desk: d.synced(IN_ROSTER + CANCELLED), 90,
                   lambda d=desk: f"{d.name} did not keep the shell: {d.page.evaluate('() => document.body.dataset.deskShell')}")

    timings["two desks signed in and synced s"] = time.monotonic() - began

    # The outage: the server and the way to it are gone.
    server.kill()
    proxy.stop()
    late = _register_late(app, event_id)
    for desk in desks.values():
        wait_until(lambda d=desk: d.mode() == "offline", 6, f"{desk.name} did not notice the outage")

    steps = plan([t for _, t in deployment["confirmed"]], deployment["cancelled"], [t for _, t in late])
    assert sum(1 for s in steps[DESKS[0]] + steps[DESKS[1]] if s[0] == "scan") == 300
    kinds: dict[str, list[str]] = {}
    first_desk: dict[str, str] = {}
    started = time.monotonic()
    cursors = dict.fromkeys(DESKS, 0)
    while any(cursors[name] < len(steps[name]) for name in DESKS):
        for name in DESKS:
            if cursors[name] >= len(steps[name]):
                continue
            step = steps[name][cursors[name]]
            cursors[name] += 1
            desk = desks[name]
            if step[0] == "scan":
                verdict = desk.scan(step[1])
                assert verdict is not None, f"{name}: no verdict for a {step[2]} pass"
                kinds.setdefault(step[2], []).append(verdict["result"])
                first_desk.setdefault(step[1], name)
            elif step[0] == "walk_in":
                desk.walk_in(*step[1])
            else:
                desk.reload()
    timings["300 scans and 10 walk-ins offline"] = time.monotonic() - started
    # The reloaded page asks for its service worker again; with the server down Chromium says so on
    # the console (even though the page catches the failure). The server is down on purpose here.
    browser_problems[:] = [p for p in browser_problems if "An unknown error occurred when fetching the script" not in p]
    verdicts = [v for desk in desks.values() for v in desk.scan_verdicts()]
    assert len(verdicts) == 300, len(verdicts)
    assert {v["mode"] for v in verdicts} == {"offline"}, "every verdict was given while the desk knew it was offline"
    latency = sorted(v["ms"] for v in verdicts)
    timings["verdict p50 ms"], timings["verdict p95 ms"] = statistics.median(latency), p95(latency)
    missed = []  # the time targets: checked at the end, so one slow run still shows every figure
    if p95(latency) > P95_MS:
        missed.append(f"verdict p95 {p95(latency):.0f} ms > {P95_MS} ms")
    assert set(kinds["cancelled"]) <= REFUSED, kinds["cancelled"]
    assert not (set(kinds["ok"]) | set(kinds["both"]) | set(kinds["late"])) & REFUSED, kinds
    queued = {name: desk.queued() for name, desk in desks.items()}
    assert all(queued.values()), queued

    # The server comes back on the same port.
    server.start()
    server.wait_until_serving()
    proxy.start()
    back = time.monotonic()
    for desk in desks.values():
        wait_until(lambda d=desk: d.queued() == 0 and d.mode() == "online", 60,
                   f"{desk.name}: the queue did not drain in 60 s: {queued}")
    timings["drain s"] = time.monotonic() - back
    timings["first batch s"] = min(b.arrived for b in proxy.batches) - back  # how soon the pages noticed
    timings["server time of the batches s"] = sum(b.seconds for b in proxy.batches)
    timings["batches sent"] = len(proxy.batches)  # more than 2: a batch was sent again (a timeout)
    if timings["drain s"] > DRAIN_SECONDS:
        missed.append(f"drain {timings['drain s']:.1f} s > {DRAIN_SECONDS} s of {sum(queued.values())} operations")

    state = db_state(app, event_id)
    assert state == {"checked_in": IN_ROSTER + LATE, "walk_ins": WALK_INS, "walk_ins_in": WALK_INS,
                     "conflicts": BOTH, "operations": 300 + WALK_INS,
                     "registrations": IN_ROSTER + CANCELLED + LATE + WALK_INS}, state
    with app.app_context():
        for registration_id, _text in late:
            assert db.session.get(Registration, registration_id).checked_in_at is not None
        assert db.session.scalar(select(func.count()).select_from(Registration).where(
            Registration.event_id == event_id, Registration.status == Status.cancelled,
            Registration.checked_in_at.is_not(None))) == 0
        # The earliest device time is the check-in: the desk that scanned a shared pass first.
        texts = dict(deployment["confirmed"])
        for conflict in db.session.scalars(select(CheckinConflict).where(CheckinConflict.event_id == event_id)):
            person = conflict.registration
            assert person.checked_in_desk == first_desk[texts[person.id]] == conflict.kept_desk
            assert conflict.kept_at < conflict.other_at and conflict.other_desk != conflict.kept_desk
        conflict_texts = _conflict_texts(app, event_id)
        db.session.remove()

    # The 20 conflicts are listed on both desks within 5 s of reconnecting, and in the check-in log.
    for desk in desks.values():
        wait_until(lambda d=desk: d.lists(conflict_texts), 30, f"{desk.name} does not list the 20 conflicts")
    timings["conflicts listed s"] = time.monotonic() - back
    if timings["conflicts listed s"] > DRAIN_SECONDS:
        missed.append(f"conflicts listed on the desks {timings['conflicts listed s']:.1f} s after the server came back")
    log_page = _check_in_log(browser, url, event_id, deployment["organizer"])
    assert all(t in log_page for t in conflict_texts)

    # Every batch the desks sent, sent again as it was: the same answers, nothing changes.
    drained = list(proxy.batches)
    assert sum(len(operations_of(b.request)) for b in drained) >= 300 + WALK_INS
    for batch in drained:
        assert results_of(replay(server.port, batch.request)) == results_of(answer_of(batch.response))
    assert db_state(app, event_id) == state

    # A lost answer: one more person arrives, the answer to 受付1's batch is dropped on the way
    # back; the page sends the batch again and the person is checked in once.
    [(extra_id, extra_pass)] = _register_late(app, event_id, count=1, family="追加")
    proxy.drop_batches = 1
    desks[DESKS[0]].scan(extra_pass)
    wait_until(lambda: proxy.drop_batches == 0, 5, "no batch was sent")
    wait_until(lambda: desks[DESKS[0]].queued() == 0, 10, "the batch whose answer was lost was not sent again")
    [lost] = [b for b in proxy.batches if b.dropped]
    resent = [op for b in proxy.batches[proxy.batches.index(lost) + 1:] for op in operations_of(b.request)]
    assert set(operations_of(lost.request)) <= set(resent)
    assert results_of(replay(server.port, lost.request)) == results_of(answer_of(lost.response))  # a third time
    after = db_state(app, event_id)
    assert after == {**state, "checked_in": state["checked_in"] + 1, "operations": state["operations"] + 1,
                     "registrations": state["registrations"] + 1}, after
    with app.app_context():
        assert db.session.get(Registration, extra_id).checked_in_desk == DESKS[0]
        db.session.remove()

    # At rest, the device holds no name in plaintext; signing out deletes it all.
    names = deployment["names"] | {n for w in WALK_IN_NAMES for n in w}
    for desk in desks.values():
        dump = desk.idb_dump()
        assert any(store["rows"] for store in dump), "nothing stored: the check below would prove nothing"
        assert_no_plaintext(dump, names)
    signing_out = desks[DESKS[0]]
    signing_out.page.click("#desk-signout")
    signing_out.page.wait_for_url("**/login**")
    assert signing_out.idb_dump() == [], "IndexedDB kept records after sign-out"
    print("\noffline desk outage:", ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    assert not missed, f"{missed}; {timings}"


def _conflict_texts(app, event_id: int) -> list[str]:
    """「13:42:05 受付1 / 13:43:10 受付2」 for each conflict, in the event's time zone."""
    from zoneinfo import ZoneInfo

    event = db.session.get(Event, event_id)
    zone = ZoneInfo(event.timezone)
    return [f"{c.kept_at.astimezone(zone):%H:%M:%S} {c.kept_desk} / {c.other_at.astimezone(zone):%H:%M:%S} {c.other_desk}"
            for c in db.session.scalars(select(CheckinConflict).where(CheckinConflict.event_id == event_id))]


def _check_in_log(browser, url: str, event_id: int, email: str) -> str:
    context = watch(browser.new_context(**DESKTOP))
    page = context.new_page()
    target = f"/admin/events/{event_id}/checkins"
    page.goto(f"{url}/login?next={quote(target, safe='')}")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{target}")
    text = page.locator("body").inner_text()
    context.close()
    return text


def assert_no_plaintext(dump: list, names: set[str]) -> None:
    """No name as a string, nor as UTF-8 or UTF-16 bytes inside a binary value; no Japanese text at all."""
    strings, blobs = [], []

    def walk(value) -> None:
        if isinstance(value, dict):
            if set(value) == {"hex"}:
                blobs.append(bytes.fromhex(value["hex"]))
                return
            for key, item in value.items():
                strings.append(str(key))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            strings.append(value)
            try:  # base64 text is still binary
                blobs.append(base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=False))
            except ValueError:
                pass

    walk(dump)
    text = "\n".join(strings)
    # In binary, a name of one character is 2 or 3 bytes that ciphertext holds by chance: two or more.
    found = [n for n in names if n in text or len(n) > 1 and any(n.encode() in b or n.encode("utf-16-le") in b
                                                               for b in blobs)]
    assert not found, f"names stored in plaintext: {found[:5]}"
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), "Japanese text stored in plaintext"
