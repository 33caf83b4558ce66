"""The offline desk in figures: verdict latency online and offline, queue drain, page weight.

    .venv/bin/python bench/desk_offline.py                       # about a minute
    .venv/bin/python bench/desk_offline.py --scans 100 --queued 50,300 --json out.json

What it does (see docs/benchmarks.md, "Issue 14"):
1. a fresh PostgreSQL database on 127.0.0.1:5432 migrated with ``flask db upgrade``; an event with
   ``--people`` confirmed registrations (one INSERT), a reception account and an API token, made in
   this process with the test suite's factories;
2. ``gunicorn -w 2 --threads 4`` on loopback (with the repository's gunicorn.conf.py, whose access
   log lists every answer); the system Chromium, as the browser tests drive it,
   signs in and opens the desk;
3. **page weight**: every answer the server gave while the desk loaded the first time (the page,
   its modules, styles, the service worker and what the page puts in its cache: decoder, fonts),
   from gunicorn's access log, then again for a reload with the service worker in charge; each
   file's raw and gzip -6 size (fetched again with the page's cookies: the server sends them
   uncompressed, a reverse proxy may gzip). Floor: the sign-in page, the smallest page of the same
   layout, loaded the same way in a fresh context;
4. **verdict latency online**: ``--scans`` passes typed into the scanner field, then Enter; the
   page's own record (``window.deskMetrics.verdicts``: Enter to verdict painted). Floors: a no-op
   page (an input whose Enter paints a line, timed the same way) and a bare ``fetch`` round trip
   from the desk page to the server (a small static file, no cache);
5. **verdict latency offline** and **queue drain**, for each N of ``--queued``: gunicorn is killed,
   N fresh passes are scanned (the offline latencies), gunicorn starts again on the same port and
   the time from its first answer to the desk's queue reaching 0 is measured. Floor: the server's
   own time for the same number of scan operations posted straight to the batch API (httpx, the
   API token, batches of 200) with other fresh passes.

Only 127.0.0.1 is contacted. The database is dropped at the end (``--keep-db`` keeps it).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test suite's factories and browser settings (tests/ is not installed)
os.environ.setdefault("EVENTREG_ENV", "development")  # this process's app too (the suite's conftest does the same)
# The imports below need the path and the environment above first (E402 on purpose, as in bench/stats.py).

from sqlalchemy import select  # noqa: E402

from eventreg import create_app  # noqa: E402
from eventreg.domain.access.api_tokens import create_api_token  # noqa: E402
from eventreg.domain.registration import passes  # noqa: E402
from eventreg.extensions import db  # noqa: E402
from eventreg.models import Registration  # noqa: E402
from tests import factories  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP  # noqa: E402
from tests.pg import fresh_database  # noqa: E402
from tests.smtp import free_port  # noqa: E402

VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) (?P<bytes>\d+|-) ')
DECODER_HINTS = ("jsqr", "zxing", "qr-scanner", "decoder", "barcode")
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".otf")

NO_OP_PAGE = """<!doctype html><meta charset="utf-8"><input id="scan"><p id="out"></p>
<script>
window.deskMetrics = {verdicts: []};
const input = document.getElementById("scan"), out = document.getElementById("out");
input.addEventListener("keydown", (e) => {
  if (e.key !== "Enter") return;
  const t0 = performance.now();
  out.textContent = input.value; input.value = "";
  // Painted: the frame that shows the text has been produced (as the desk's record does).
  requestAnimationFrame(() => setTimeout(() => window.deskMetrics.verdicts.push({ms: performance.now() - t0})));
});
</script>"""


# --- the server ----------------------------------------------------------------------------------

class Gunicorn:
    """The app on a fixed port, killed and started again like the tests' outage."""

    def __init__(self, env: dict, workdir: Path):
        self.env, self.port, self.log = env, free_port(), workdir / "gunicorn.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        """Starts it; returns the monotonic time of its first answer."""
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b", f"{HOST}:{self.port}", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log}")
            try:
                if httpx.get(f"http://{HOST}:{self.port}/login", timeout=2).status_code == 200:
                    return time.monotonic()
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start; see {self.log}")
            time.sleep(0.02)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def log_mark(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def answers_since(self, mark: int) -> list[dict]:
        """The access log's answers written after ``mark``: method, path, status, bytes."""
        with open(self.log, "rb") as log:
            log.seek(mark)
            text = log.read().decode(errors="replace")
        return [{**m.groupdict(), "bytes": int(m["bytes"]) if m["bytes"] != "-" else 0}
                for m in ACCESS_LINE.finditer(text)]


# --- figures -------------------------------------------------------------------------------------

def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def latency(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": round(pct(values, 50), 1), "p95_ms": round(pct(values, 95), 1),
            "max_ms": round(max(values), 1)}


def kind_of(path: str) -> str:
    name = urlsplit(path).path.lower()
    if any(hint in name for hint in DECODER_HINTS):
        return "decoder"
    if name.endswith(FONT_SUFFIXES):
        return "fonts"
    if name.endswith((".js", ".mjs")):
        return "js"
    if name.endswith(".css"):
        return "css"
    if "/api/" in name:
        return "api"
    return "html" if not re.search(r"\.\w{2,5}$", name) else "other"


def weight(answers: list[dict], fetch) -> dict:
    """What the server answered (the access log), by kind: each distinct file's raw and gzip -6
    size, its body fetched again with the page's cookies (``fetch(path) -> bytes``); the API's
    answers (roster, counts) only counted."""
    files: dict[str, dict] = {}
    missing: list[str] = []
    api = 0
    for answer in answers:
        kind = kind_of(answer["path"])
        if kind == "api":
            api += 1
        elif answer["method"] == "GET" and answer["status"] in ("200", "304") and answer["path"] not in files:
            body = fetch(answer["path"])
            if body is None:  # not there when asked again (say so rather than guess its size)
                missing.append(answer["path"])
                continue
            files[answer["path"]] = {"kind": kind, "raw": len(body), "gzip": len(gzip.compress(body, 6))}
    by_kind: dict[str, dict] = {}
    for file in files.values():
        entry = by_kind.setdefault(file["kind"], {"files": 0, "raw": 0, "gzip": 0})
        entry["files"] += 1
        entry["raw"] += file["raw"]
        entry["gzip"] += file["gzip"]
    return {"answers": len(answers), "api_answers": api, "files_by_kind": by_kind,
            "raw": sum(f["raw"] for f in files.values()), "gzip": sum(f["gzip"] for f in files.values()),
            "paths": sorted(files), "not_fetched_again": missing}


# --- the desk ------------------------------------------------------------------------------------

class DeskPage:
    def __init__(self, browser, url: str, path: str, email: str):
        self.context = browser.new_context(**DESKTOP)
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.page.goto(f"{url}/login?next={quote(path, safe='')}")
        self.page.fill("#email", email)
        self.page.fill("#password", factories.PASSWORD)
        self.page.click("form button[type=submit]")
        self.page.wait_for_url(f"**{path}")

    def evaluate(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def mode(self) -> str:
        return self.evaluate("() => document.body.dataset.deskMode")

    def queued(self) -> int:
        return int((self.page.locator("#desk-queue-count").text_content() or "0").strip() or 0)

    def settled(self) -> None:
        """The service worker controls the page and has finished precaching; the roster is there."""
        self.evaluate("async () => { await navigator.serviceWorker.ready; }")
        wait(lambda: self.evaluate("() => !!navigator.serviceWorker.controller") and self.mode() == "online", 20,
             "the desk did not settle online under its service worker")
        time.sleep(1.0)  # what the first sync and the precache still send

    def scan(self, text: str) -> float:
        before = self.evaluate("() => window.deskMetrics.verdicts.length")
        self.page.focus("#scan-input")
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Enter")
        verdict = self.evaluate("""async (n) => {
            const end = performance.now() + 5000;
            while (window.deskMetrics.verdicts.length <= n && performance.now() < end)
              await new Promise((r) => setTimeout(r, 2));
            return window.deskMetrics.verdicts[n] || null;
        }""", before)
        if verdict is None:
            raise SystemExit("no verdict recorded within 5 s")
        return verdict["ms"]

    def fetch_round_trips(self, path: str, count: int) -> list[float]:
        return self.evaluate("""async ([path, count]) => {
            const out = [];
            for (let i = 0; i < count; i++) {
              const t0 = performance.now();
              const r = await fetch(path + (path.includes("?") ? "&" : "?") + "n=" + i, {cache: "no-store"});
              await r.arrayBuffer();
              out.push(performance.now() - t0);
            }
            return out;
        }""", [path, count])


def body_fetcher(context, url: str):
    """``fetch(path) -> bytes | None`` with the cookies of ``context`` (the desk page needs the sign-in)."""
    def fetch(path: str) -> bytes:
        answer = context.request.get(url + path, max_redirects=0)
        return answer.body() if answer.status == 200 else None

    return fetch


def wait(condition, seconds: float, message: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise SystemExit(message)
        time.sleep(0.01)
    return time.monotonic() - started


def no_op_latency(browser, count: int) -> list[float]:
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.set_content(NO_OP_PAGE)
    page.focus("#scan")
    out = []
    for n in range(count):
        page.keyboard.insert_text(f"3{n:0150d}")
        page.keyboard.press("Enter")
        out.append(page.evaluate("""async (n) => {
            while (window.deskMetrics.verdicts.length <= n) await new Promise((r) => setTimeout(r, 2));
            return window.deskMetrics.verdicts[n].ms;
        }""", n))
    context.close()
    return out


def server_batch_seconds(url: str, event_id: int, token: str, texts: list[str]) -> float:
    """The batch API's own time for these scans (batches of 200, one after the other)."""
    device = uuid.uuid4().hex
    started = time.monotonic()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        for first in range(0, len(texts), 200):
            now = datetime.now(timezone.utc).isoformat()
            operations = [{"id": uuid.uuid4().hex, "seq": first + n, "at": now, "kind": "scan", "payload": text,
                           "session_id": None, "method": "keyboard"} for n, text in enumerate(texts[first:first + 200])]
            answer = http.post(f"/api/v1/events/{event_id}/desk-batches",
                               json={"device": device, "desk": "bench", "sent_at": now, "operations": operations})
            answer.raise_for_status()
            results = {r["result"] for r in answer.json()["results"]}
            if results != {"ok"}:
                raise SystemExit(f"the batch API answered {results}")
    return time.monotonic() - started


TWO_DESK_OPS, BOTH_DESKS, WALK_INS, PAGE_BATCH = 310, 20, 10, 50  # issue 14's outage test; queue.js BATCH_LIMIT


def two_desk_queues(texts: list[str], session_id: int, run: int) -> list[list[dict]]:
    """Two desks' queues after an outage, as the outage test leaves them: 310 operations, of which
    20 passes scanned at both desks (conflicts: the earliest admission counts) and 10 walk-ins."""
    at = datetime.now(timezone.utc)
    singles = texts[BOTH_DESKS:TWO_DESK_OPS - BOTH_DESKS - WALK_INS]
    both = texts[:BOTH_DESKS]
    queues: list[list[tuple]] = [[("scan", t) for t in singles[::2]], [("scan", t) for t in singles[1::2]]]
    for n, text in enumerate(both):
        queues[0].insert(5 + n, ("scan", text))
        queues[1].insert(len(queues[1]) - 20 + n // 2, ("scan", text))
    for n in range(WALK_INS):
        queues[n % 2].insert(20 + 12 * n, ("walk_in", f"{'一二三四五六七八九十'[run % 10]}{n}郎"))  # new names each run
    out = []
    for q in queues:
        ops = []
        for seq, (kind, value) in enumerate(q):
            op = {"id": uuid.uuid4().hex, "seq": seq, "at": at.isoformat(), "kind": kind}
            if kind == "scan":
                op.update(payload=value, method="keyboard", session_id=None)
            else:
                op.update(confirm=False, fields={"session_id": session_id, "family_name": "当日", "given_name": value,
                                                 "family_kana": "トウジツ", "given_kana": "イチロウ",
                                                 "sector": "individual", "email": ""})
            ops.append(op)
        out.append(ops)
    assert sum(len(q) for q in out) == TWO_DESK_OPS
    return out


def two_desk_drain_seconds(url: str, event_id: int, token: str, queues: list[list[dict]]) -> float:
    """Both desks' queues posted at once, each in the page's batches of 50, one after the other:
    the server's time from the first request to the last answer."""

    errors: list[str] = []

    def desk(name: str, ops: list[dict]) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
            for first in range(0, len(ops), PAGE_BATCH):
                now = datetime.now(timezone.utc).isoformat()
                answer = http.post(f"/api/v1/events/{event_id}/desk-batches", json={
                    "device": name, "desk": name, "sent_at": now, "operations": ops[first:first + PAGE_BATCH]})
                if answer.status_code != 200:
                    errors.append(f"{name}: HTTP {answer.status_code}")
                    return
                bad = {r["result"] for r in answer.json()["results"]} - {"ok", "conflict", "walk_in"}
                if bad:
                    errors.append(f"{name}: {bad}")

    seconds = _seconds_at_once([(desk, (f"受付{n + 1}", q)) for n, q in enumerate(queues)])
    if errors:
        raise SystemExit(f"the two-desk drain failed: {errors}")
    return seconds


def bare_two_desk_seconds(database_url: str, event_id: int, ids: list[list[int]]) -> float:
    """Floor: the same check-ins as bare conditional UPDATEs plus a log INSERT, committed one by
    one, over two connections at once (what the batch API cannot do with less)."""

    import psycopg

    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")

    def desk(name: str, rids: list[int]) -> None:
        with psycopg.connect(dsn) as conn:
            for rid in rids:
                conn.execute("UPDATE registration SET checked_in_at = now(), checked_in_desk = %s "
                             "WHERE id = %s AND checked_in_at IS NULL", (name, rid))
                conn.execute("INSERT INTO scan (event_id, registration_id, token_hash, result, method, desk, at) "
                             "VALUES (%s, %s, '', 'ok', 'keyboard', %s, now())", (event_id, rid, name))
                conn.commit()

    return _seconds_at_once([(desk, (f"floor{n}", r)) for n, r in enumerate(ids)])


def _seconds_at_once(calls) -> float:
    """Wall seconds for the (function, args) calls run in threads at once: two desks draining."""
    import threading

    threads = [threading.Thread(target=fn, args=args) for fn, args in calls]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def serve_fresh_database(workdir: Path):
    """A fresh PostgreSQL database and a gunicorn (not started yet) configured for it: the database
    URL, its drop function, the secret key, the environment, the server and its base URL."""
    database_url, drop = fresh_database(prefix="eventreg_bench")
    secret = secrets.token_urlsafe(32)
    env = {**os.environ, "EVENTREG_ENV": "development", "EVENTREG_SQLALCHEMY_DATABASE_URI": database_url,
           "EVENTREG_SECRET_KEY": secret, "EVENTREG_RATELIMIT_ENABLED": "false",
           "EVENTREG_INSTANCE_PATH": str(workdir / "instance"), "EVENTREG_MAIL_PORT": "1"}
    server = Gunicorn(env, workdir)
    env["EVENTREG_BASE_URL"] = url = f"http://{HOST}:{server.port}"
    return database_url, drop, secret, env, server, url


def drain_only(args, workdir: Path) -> dict:
    """The two-desk drain of issue 14's outage test through the batch API, ``args.runs`` times,
    each with its own 310 fresh operations, and its floor in the same run; no browser."""
    database_url, drop, secret, env, server, url = serve_fresh_database(workdir)
    figures: dict = {"drain_runs": [], "floor_runs": []}
    try:
        subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        per_run = TWO_DESK_OPS - WALK_INS
        data = setup(database_url, secret, 2 * per_run * args.runs, walk_in_seats=WALK_INS * args.runs)
        server.start()
        for run_number in range(args.runs):
            texts = data["texts"][2 * per_run * run_number:2 * per_run * (run_number + 1)]
            queues = two_desk_queues(texts[:per_run], data["session"], run_number)
            seconds = two_desk_drain_seconds(url, data["event"], data["token"], queues)
            floor_ids = data["ids"][2 * per_run * run_number + per_run:2 * per_run * (run_number + 1)]
            floor = bare_two_desk_seconds(database_url, data["event"], [floor_ids[::2], floor_ids[1::2]])
            figures["drain_runs"].append(round(seconds, 3))
            figures["floor_runs"].append(round(floor, 3))
            print(f"  run {run_number + 1}: two desks, {TWO_DESK_OPS} operations: {seconds:.2f} s; floor {floor:.2f} s "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        server.kill()
        if not args.keep_db:
            drop()
    return figures


# --- the run -------------------------------------------------------------------------------------

def setup(database_url: str, secret: str, people: int, walk_in_seats: int = 10) -> dict:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": secret})
    with app.app_context():
        event = factories.make_event(capacity=people + walk_in_seats)
        desk = factories.make_staff("reception", events=[event], email="bench-desk@example.org")
        owner = factories.make_staff("organizer", events=[event], email="bench-owner@example.org")
        factories.bulk_confirmed(event.sessions[0], people)
        token = create_api_token(owner, "bench", now=datetime.now(timezone.utc))
        db.session.commit()
        people_ = list(db.session.scalars(
            select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)))
        result = {"event": event.id, "desk": desk.email, "token": token, "session": event.sessions[0].id,
                  "texts": [passes.qr_payload(r) for r in people_], "ids": [r.id for r in people_]}
        db.session.remove()
        db.engine.dispose()
    return result


def run(args, workdir: Path) -> dict:
    from playwright.sync_api import sync_playwright

    database_url, drop, secret, env, server, url = serve_fresh_database(workdir)
    figures: dict = {"people": args.people}
    try:
        subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        queued = [int(n) for n in args.queued.split(",")]
        needed = args.scans + 2 * sum(queued)
        data = setup(database_url, secret, max(args.people, needed))
        texts = iter(data["texts"])
        server.start()
        desk_path = f"/desk/{data['event']}?desk=" + quote("受付1")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            # Floor for the weight: the sign-in page, in a fresh context.
            floor = browser.new_context(**DESKTOP)
            mark = server.log_mark()
            floor.new_page().goto(f"{url}/login")
            time.sleep(0.5)
            figures["weight_floor_login"] = weight(server.answers_since(mark), body_fetcher(floor, url))
            floor.close()

            mark = server.log_mark()
            desk = DeskPage(browser, url, desk_path, data["desk"])
            desk.settled()
            first = [a for a in server.answers_since(mark) if not a["path"].startswith("/login")]
            figures["weight_first_load"] = weight(first, body_fetcher(desk.context, url))
            mark = server.log_mark()
            desk.page.reload()
            desk.settled()
            figures["weight_reload"] = weight(server.answers_since(mark), body_fetcher(desk.context, url))

            figures["floor_no_op_page"] = latency(no_op_latency(browser, args.scans))
            static = next((p for p in figures["weight_first_load"]["paths"] if kind_of(p) == "css"), "/static/app.css")
            figures["floor_fetch_round_trip"] = latency(desk.fetch_round_trips(static, args.scans))
            figures["verdict_online"] = latency([desk.scan(next(texts)) for _ in range(args.scans)])

            offline: list[float] = []
            figures["drain"] = []
            for count in queued:
                server.kill()
                wait(lambda: desk.mode() == "offline", 10, "the desk did not notice the outage")
                offline += [desk.scan(next(texts)) for _ in range(count)]
                wait(lambda c=count: desk.queued() >= c, 5, "the scans were not queued")
                back = server.start()
                wait(lambda: desk.queued() == 0, 60, "the queue did not drain in 60 s")
                drain_seconds = time.monotonic() - back  # from the server's first answer
                direct = server_batch_seconds(url, data["event"], data["token"], [next(texts) for _ in range(count)])
                figures["drain"].append({"queued": count, "seconds": round(drain_seconds, 3),
                                         "server_batch_seconds": round(direct, 3)})
            figures["verdict_offline"] = latency(offline)
            browser.close()
    finally:
        server.kill()
        if not args.keep_db:
            drop()
    return figures


def kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


def report(figures: dict) -> None:
    print(f"\noffline desk, {figures['people']} people")
    for name in ("verdict_online", "verdict_offline", "floor_no_op_page", "floor_fetch_round_trip"):
        f = figures[name]
        print(f"  {name:24} n={f['n']:4}  p50 {f['p50_ms']:7.1f} ms  p95 {f['p95_ms']:7.1f} ms  max {f['max_ms']:7.1f} ms")
    for d in figures["drain"]:
        print(f"  drain of {d['queued']:4} queued ops: {d['seconds']:.2f} s after the server's first answer"
              f" (floor: the batch API's own time for as many scans {d['server_batch_seconds']:.2f} s)")
    for name in ("weight_first_load", "weight_reload", "weight_floor_login"):
        w = figures[name]
        kinds = ", ".join(f"{k} {kb(v['raw'])} ({kb(v['gzip'])} gz, {v['files']} files)"
                          for k, v in sorted(w["files_by_kind"].items()))
        print(f"  {name:20} {w['answers']:3} answers ({w['api_answers']} API); files {kb(w['raw'])} raw,"
              f" {kb(w['gzip'])} gzip -6: {kinds}")
        print(f"  {'':20} {' '.join(w['paths'])}")
        if w["not_fetched_again"]:
            print(f"  {'':20} not there when fetched again: {' '.join(w['not_fetched_again'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=300, help="registrations of the event (at least what the run scans)")
    parser.add_argument("--scans", type=int, default=100, help="online scans, and samples of each floor")
    parser.add_argument("--queued", default="50,300", help="operations queued offline before each drain")
    parser.add_argument("--json", type=Path, help="also write all figures here")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--drain-only", action="store_true",
                        help="only the two-desk drain through the batch API (no browser) and its RESULT line")
    parser.add_argument("--runs", type=int, default=3, help="runs of the two-desk drain (the median is reported)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="eventreg-bench-desk-"))
    drain = drain_only(args, workdir)
    if args.drain_only:
        emit_drain(drain, args.runs)
        return
    if not shutil.which(CHROMIUM):
        raise SystemExit(f"no Chromium at {CHROMIUM}")
    figures = run(args, workdir)
    report(figures)
    figures.update(drain)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    emit_drain(drain, args.runs)


def emit_drain(figures: dict, runs: int) -> None:
    from result import emit

    seconds, floor = statistics.median(figures["drain_runs"]), statistics.median(figures["floor_runs"])
    print(f"\ntwo desks' drain of {TWO_DESK_OPS} operations (batch API, batches of {PAGE_BATCH}): median {seconds:.2f} s "
          f"of {figures['drain_runs']}; floor {floor:.2f} s of {figures['floor_runs']}")
    emit("desk_two_desk_drain", seconds, "s", floor=floor,
         floor_what=f"{TWO_DESK_OPS - WALK_INS} bare conditional UPDATE + log INSERT, each committed, two connections",
         target="<= 5 s", met=seconds <= 5, runs=runs)


if __name__ == "__main__":
    main()
