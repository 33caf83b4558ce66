"""The 1,000-badge sheet and one badge: typst (what eventreg uses) beside reportlab and WeasyPrint.

    .venv/bin/python bench/documents.py [--runs 3] [--people 1000] [--db sqlite|URL] [--no-weasyprint]

Every figure comes from the same run, for the same people (bench/badges.py's names and
organisations, seeded), each renderer in a fresh process of its own so that its memory is its own:

- compare: the sheet drawn from ready contexts (fitted texts, kept QR codes) by typst
  (adapters.badges.render_badge_sheet), by reportlab (canvas, the same fitted lines, a font
  chosen per character by hand: reportlab has no font fallback and cannot embed the CFF outlines
  of Noto Sans CJK, so 𠮷 would print as a box) and by WeasyPrint (the absolutely placed HTML
  card of eventreg before issue 15, one process: its old pool only spread the same CPU over two
  cores). Wall, CPU and peak RSS above the process's own at rest. WeasyPrint runs once.
- job: the sheet as a worker job, from claim to stored file, in a fresh worker process with
  typst's compiler and fonts loaded (a worker makes the mails' pass PDFs with it): wall, CPU and
  peak PSS of the process, sampled every 10 ms. The passes' codes are kept (pass_qr) as the
  confirmation mail keeps them; one more job with none kept shows the first sheet of an event
  whose passes were never mailed.
- badge: one badge PDF (adapters.badges.render_badge, print dialog included), median of 30
  different people in a warm process.

Floors, measured in the same run: the job's wall against typst laying out the same 1,000 cards as
one document from ready data (the typst compile alone); the job's memory against the worker
process at rest (app, database, typst and its fonts loaded); one badge against a bare typst
compile of the same card.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "bench")]

MM = 72 / 25.4
TARGETS = {"job_wall": 2.0, "job_pss": 200.0, "badge": 30.0}  # s, MB, ms


# ---- shared: the people, and memory ------------------------------------------------------------

FAMILY = [("佐藤", "さとう"), ("鈴木", "すずき"), ("高橋", "たかはし"), ("田中", "たなか"),
          ("渡邊", "わたなべ"), ("伊藤", "いとう"), ("山本", "やまもと"), ("中村", "なかむら"),
          ("小林", "こばやし"), ("加藤", "かとう"), ("吉田", "よしだ"), ("山田", "やまだ"),
          ("齋藤", "さいとう"), ("髙橋", "たかはし"), ("長谷川", "はせがわ"), ("勅使河原", "てしがわら")]
GIVEN = [("真由美", "まゆみ"), ("大輔", "だいすけ"), ("花子", "はなこ"), ("翔太", "しょうた"),
         ("美咲", "みさき"), ("健一", "けんいち"), ("由紀子", "ゆきこ"), ("誠", "まこと"),
         ("陽菜", "ひな"), ("浩二", "こうじ"), ("智恵", "ちえ"), ("龍之介", "りゅうのすけ")]
ORGS = ["特定非営利活動法人 ちば市民活動・市民事業サポートクラブ", "千葉市役所", "株式会社ミライ会計",
        "一般社団法人 地域福祉ネットワーク", "NPO法人 こども食堂ふなばし", "ちば環境保全の会",
        "社会福祉法人 房総やすらぎ会 特別養護老人ホーム", "", "Chiba International Volunteers"]
DEPTS = ["事業推進部", "総務課", "", "地域連携推進室", "経理・財務グループ", ""]


def make_ctx(i: int, rng: random.Random) -> dict:
    from eventreg.domain.registration.passes import new_token, sign_pass

    (fam, fam_kana), (giv, giv_kana) = rng.choice(FAMILY), rng.choice(GIVEN)
    token = new_token()

    def utc(*args):
        return datetime(*args, tzinfo=timezone.utc)

    return {
        "token": token, "qr_payload": sign_pass("bench-seed", 1, 1000 + i, 1), "status": "confirmed",
        "event": {
            "id": 1, "slug": "kaikei-2019", "timezone": "Asia/Tokyo", "language": "ja",
            "title": "NPO法人のための会計・税務実務セミナー ―― 新しい寄附税制をわかりやすく解説します",
        },
        "session": {"id": 1, "title": "第1部 基礎編", "doors_at": utc(2019, 2, 8, 4, 30),
                    "starts_at": utc(2019, 2, 8, 5, 0), "ends_at": utc(2019, 2, 8, 8, 0)},
        "attendee": {
            "full_name": f"{fam} {giv}", "full_kana": f"{fam_kana} {giv_kana}",
            "organization": rng.choice(ORGS), "department": rng.choice(DEPTS),
            "email": f"user{i}@example.jp",
        },
        "links": {},
    }



def contexts(people: int) -> list[dict]:
    """``people`` badge contexts as pass_context builds them, each with its kept code."""
    from eventreg.adapters import qr

    rng = random.Random(8)
    ctxs = [make_ctx(i, rng) for i in range(people)]
    for ctx in ctxs:
        code = qr.symbol(ctx["qr_payload"])
        ctx["qr_code"] = {"size": code.size, "path": code.path}
    return ctxs


def _kib(field: str) -> int:
    with open("/proc/self/smaps_rollup" if field == "Pss" else "/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class PeakPss(threading.Thread):
    """This process's PSS, sampled every 10 ms: the peak."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peak = _kib("Pss")

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, _kib("Pss"))
            self.stop.wait(0.01)

    def finish(self) -> float:
        self.stop.set()
        self.join()
        self.peak = max(self.peak, _kib("Pss"))
        return self.peak / 1024


# ---- the three renderers -----------------------------------------------------------------------

def typst_sheet(ctxs: list[dict]) -> bytes:
    from eventreg.adapters import badges

    return badges.render_badge_sheet(ctxs)


def reportlab_sheet(ctxs: list[dict]) -> bytes:
    """The same cards with reportlab: the lines adapters.badges fitted, each character in the
    first chain font that has it and that reportlab can embed (TrueType outlines only)."""
    import io

    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from eventreg.adapters import badges, fonts, qr

    usable = []
    for i, font in enumerate(fonts.chain_fonts()):
        try:
            pdfmetrics.registerFont(TTFont(f"chain{i}", font.file, subfontIndex=font.index))
            usable.append((f"chain{i}", font))
        except Exception:  # noqa: BLE001 - CFF outlines (Noto Sans CJK): reportlab cannot embed them
            continue

    def runs(text: str):
        current, start = None, 0
        for i, ch in enumerate(text):
            name = next((n for n, f in usable if f.covers(ch)), usable[0][0])
            if name != current:
                if current is not None:
                    yield current, text[start:i]
                current, start = name, i
        if current is not None:
            yield current, text[start:]

    def draw_text(c, x, y, text, size):
        for name, part in runs(text):
            c.setFont(name, size)
            c.drawString(x, y, part)
            x += pdfmetrics.stringWidth(part, name, size)

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(210 * MM, 297 * MM))
    for n, ctx in enumerate(ctxs):
        if n and n % 10 == 0:
            c.showPage()
        slot = n % 10
        left, top = (14 + 91 * (slot % 2)) * MM, (297 - 11 - 55 * (slot // 2)) * MM
        data = badges.card(ctx)
        title = data["title"]
        draw_text(c, left + 4 * MM, top - 3 * MM - title["s"], "".join(
            p if isinstance(p, str) else p["w"] for p in title["l"][0]), title["s"])
        c.line(left + 4 * MM, top - 11.4 * MM, left + 87 * MM, top - 11.4 * MM)
        y = top - (12.5 + data["pad"]) * MM
        for key, pitch in (("kana", 1.25), ("name", 1.15), ("org", 1.25), ("dept", 1.25)):
            drawn = data[key]
            if drawn is None:
                continue
            for line in drawn.get("e") or drawn["l"]:
                y -= drawn["s"] * pitch
                text = line if isinstance(line, str) else "".join(p if isinstance(p, str) else p["w"] for p in line)
                draw_text(c, left + 4 * MM, y, text, drawn["s"])
        code = ctx["qr_code"]
        image = ImageReader(io.BytesIO(qr.png(code["size"], code["path"])))
        c.drawImage(image, left + 64.5 * MM, top - 44.5 * MM, 24 * MM, 24 * MM)
    c.save()
    return out.getvalue()


WEASY_CSS = """
@page { size: A4; margin: 0; }
body { margin: 0; font-family: "Noto Sans LGC", "IPAexGothic", "Noto Sans CJK JP"; }
.page { position: relative; width: 210mm; height: 296mm; break-after: page; overflow: hidden; }
.card { position: absolute; width: 91mm; height: 55mm; overflow: hidden; line-height: 1.25; overflow-wrap: anywhere; }
.title { position: absolute; left: 4mm; top: 3mm; width: 83mm; height: 7.6mm; border-bottom: 0.25mm solid #111;
         color: #333; line-height: 1.2; overflow: hidden; }
.who { position: absolute; left: 4mm; top: 12.5mm; width: 58mm; height: 40mm; overflow: hidden; }
.who p { margin: 0; white-space: pre-line; }
.qr { position: absolute; left: 64.5mm; top: 20.5mm; width: 24mm; height: 24mm; image-rendering: pixelated; }
"""


def weasyprint_sheet(ctxs: list[dict]) -> bytes:
    """The same cards as the absolutely placed HTML of eventreg's WeasyPrint badges (before issue 15)."""
    import base64
    from html import escape

    import weasyprint

    from eventreg.adapters import badges, qr

    def text(lines) -> str:
        return "\n".join(line if isinstance(line, str) else "".join(
            p if isinstance(p, str) else p["w"] for p in line) for line in lines)

    pages = []
    for start in range(0, len(ctxs), 10):
        cards = []
        for slot, ctx in enumerate(ctxs[start:start + 10]):
            data = badges.card(ctx)
            code = ctx["qr_code"]
            png = base64.b64encode(qr.png(code["size"], code["path"])).decode()
            who = "".join(f'<p style="font-size: {data[k]["s"]}pt">{escape(text(data[k].get("e") or data[k]["l"]))}</p>'
                          for k in ("kana", "name", "org", "dept") if data[k])
            cards.append(
                f'<div class="card" style="left: {14 + 91 * (slot % 2)}mm; top: {11 + 55 * (slot // 2)}mm">'
                f'<p class="title" style="font-size: {data["title"]["s"]}pt">{escape(text(data["title"]["l"]))}</p>'
                f'<div class="who" style="padding-top: {data["pad"]}mm">{who}</div>'
                f'<img class="qr" src="data:image/png;base64,{png}"></div>')
        pages.append('<div class="page">' + "".join(cards) + "</div>")
    html = f'<!doctype html><html lang="ja"><meta charset="utf-8"><style>{WEASY_CSS}</style><body>{"".join(pages)}</body></html>'
    return weasyprint.HTML(string=html).write_pdf()


RENDERERS = {"typst": typst_sheet, "reportlab": reportlab_sheet, "weasyprint": weasyprint_sheet}


def render_child(name: str, people: int) -> dict:
    """In a fresh process: one sheet of ``people`` with renderer ``name``, after a one-card warm-up."""
    from eventreg import create_app

    ctxs = contexts(people)
    app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        RENDERERS[name](ctxs[:1])  # imports, fonts
        rest_rss = _kib("VmRSS")
        wall, cpu = time.perf_counter(), time.process_time()
        body = RENDERERS[name](ctxs)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "peak_mb": (_kib("VmHWM") - rest_rss) / 1024, "bytes": len(body)}


# ---- the worker job ----------------------------------------------------------------------------

def setup_event(url: str, people: int, keep_codes: bool) -> int:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from eventreg import create_app
    from eventreg.adapters import qr
    from eventreg.domain.registration import pass_qr
    from eventreg.extensions import db
    from eventreg.models import Registration
    from tests import factories

    app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        event = factories.make_event(capacity=people, title=(
            "NPO法人のための会計・税務実務セミナー ―― 新しい寄附税制をわかりやすく解説します"))
        factories.bulk_confirmed(event.sessions[0], people)
        if keep_codes:  # as the confirmation mails keep them
            pass_qr.symbols(db.session.scalars(select(Registration)).all(), qr.symbol)
            db.session.commit()
        event_id = event.id
        db.session.remove()
    return event_id


def job_child(url: str, event_id: int) -> dict:
    """In a fresh worker process: the PSS at rest (app, database, typst loaded), then one badge
    sheet job from claim to stored file, with its peak PSS."""
    from eventreg.domain.backoffice import jobs
    from tests import factories

    return measured_job(url, event_id, lambda: jobs.queue_badge_sheet(event_id, factories.in_days(0)))


def measured_job(url: str, event_id: int, queue) -> dict:
    """The job ``queue()`` makes (in an app context), run by this process as a worker at rest
    (typst and its fonts loaded): wall, CPU, PSS at rest and at the peak, the file's size, the total."""
    from eventreg import create_app
    from eventreg.adapters import typst_pdf
    from eventreg.extensions import db
    from eventreg.models import Event, Job
    from eventreg.worker import run_job

    app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.session.get(Event, event_id)  # connected
        job_id = queue().id
        db.session.commit()
        db.session.remove()
    typst_pdf._compiler()  # a worker at rest has typst and its fonts loaded (it makes the mails' pass PDFs)
    rest = _kib("Pss") / 1024
    sampler = PeakPss()
    sampler.start()
    wall, cpu = time.perf_counter(), time.process_time()
    assert run_job(app, worker_id="bench") == job_id
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = sampler.finish()
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status.value == "done", (job.status, job.error)
        size, total = len(job.result_file.data), job.total
        db.session.remove()
    return {"wall": wall, "cpu": cpu, "rest_pss": rest, "peak_pss": peak, "bytes": size, "pages": total}


def typst_floor(people: int) -> float:
    """The same cards as one typst document from ready data: the compile alone (s, median of 3)."""
    from eventreg.adapters import badges, typst_pdf

    cards = [badges.card(c) for c in contexts(people)]
    data = {"sheet": True, "lang": "ja", "cards": cards}
    typst_pdf.render(badges.TEMPLATE, {**data, "cards": cards[:1]})
    times = []
    for _ in range(3):
        typst_pdf.forget()  # nothing memoized from the run before
        started = time.perf_counter()
        typst_pdf.render(badges.TEMPLATE, data)
        times.append(time.perf_counter() - started)
    typst_pdf.forget()
    return statistics.median(times)


def one_badge(renders: int = 30) -> tuple[float, float]:
    """One badge PDF (median ms of ``renders`` people) and its floor, a bare compile of the card."""
    from eventreg.adapters import badges, typst_pdf

    ctxs = contexts(renders + 1)
    badges.render_badge(ctxs[0])
    walls, floors = [], []
    for ctx in ctxs[1:]:
        started = time.perf_counter()
        badges.render_badge(ctx)
        walls.append((time.perf_counter() - started) * 1000)
        card = badges.card(ctx)
        started = time.perf_counter()
        typst_pdf.render(badges.TEMPLATE, {"sheet": False, "lang": "ja", "cards": [card]})
        floors.append((time.perf_counter() - started) * 1000)
    return statistics.median(walls), statistics.median(floors)


def emit_job(what: str, runs: list[dict], floor: float, floor_what: str) -> None:
    """The RESULT lines of a document job (the badge sheet, the certificates): its wall against
    ``floor``, its peak PSS against the worker at rest; medians of ``runs``."""
    from result import emit

    wall = statistics.median(r["wall"] for r in runs)
    pss = statistics.median(r["peak_pss"] for r in runs)
    rest = statistics.median(r["rest_pss"] for r in runs)
    emit(f"{what} (wall)", wall, "s", floor=floor, floor_what=floor_what, target="<= 2 s",
         met=wall <= TARGETS["job_wall"], runs=len(runs))
    emit(f"{what} (peak PSS)", pss, "MB", floor=rest,
         floor_what="the worker process at rest (app, database, typst and fonts loaded)", target="< 200 MB",
         met=pss < TARGETS["job_pss"], runs=len(runs))


def child(args: list[str], script: str = __file__) -> dict:
    """Runs ``script`` (this bench, or another that imports this) in a fresh process: its last line, as JSON."""
    return json.loads(subprocess.run([sys.executable, script, *args], check=True, capture_output=True,
                                     text=True).stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--db", default="sqlite", help="sqlite, or postgresql+psycopg://user@host/db")
    parser.add_argument("--no-weasyprint", action="store_true", help="leave out WeasyPrint (~15 CPU-s)")
    parser.add_argument("--no-compare", action="store_true", help="the targets alone (bench/badges.py)")
    parser.add_argument("--render-child", help=argparse.SUPPRESS)
    parser.add_argument("--job-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.render_child:
        print(json.dumps(render_child(args.render_child, args.people)))
        return
    if args.job_child:
        print(json.dumps(job_child(args.job_child[0], int(args.job_child[1]))))
        return

    from in_process import database
    from result import emit

    from eventreg import create_app

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    n = args.people
    names = [] if args.no_compare else ["typst", "reportlab"] + ([] if args.no_weasyprint else ["weasyprint"])
    if names:
        print(f"\ncompare: a sheet of {n} badges from ready contexts, each renderer in a fresh process")
    for name in names:
        runs = [child(["--render-child", name, "--people", str(n)])
                for _ in range(1 if name == "weasyprint" else args.runs)]
        mid = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"  {name:10s} wall {mid['wall']:6.2f} s  cpu {mid['cpu']:6.2f} s  peak RSS +{mid['peak_mb']:4.0f} MB  "
              f"{mid['bytes'] / 1e6:4.1f} MB PDF  ({len(runs)} run{'s' if len(runs) > 1 else ''}, "
              f"load {os.getloadavg()[0]:.2f})")

    print(f"\njob: the badge sheet of {n} as a worker job, a fresh worker process each run")
    jobs_warm, jobs_cold = [], None
    url, drop = database(args.db)
    try:
        event_id = setup_event(url, n, keep_codes=True)
        for _ in range(args.runs):
            jobs_warm.append(child(["--job-child", url, str(event_id)]))
    finally:
        drop()
    url, drop = database(args.db)
    try:
        jobs_cold = child(["--job-child", url, str(setup_event(url, n, keep_codes=False))])
    finally:
        drop()
    for label, r in [*(("codes kept", r) for r in jobs_warm), ("none kept", jobs_cold)]:
        print(f"  {label:10s} wall {r['wall']:5.2f} s  cpu {r['cpu']:5.2f} s  PSS at rest {r['rest_pss']:4.0f} MB  "
              f"peak {r['peak_pss']:4.0f} MB  {r['bytes'] / 1e6:4.1f} MB PDF")

    app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        floors = [typst_floor(n) for _ in range(args.runs)]
        badge = [one_badge() for _ in range(args.runs)]
    floor = statistics.median(floors)
    print(f"\nfloor: typst laying out the {n} cards as one document from ready data: {floor:.2f} s")
    badge_ms, badge_floor = statistics.median(b[0] for b in badge), statistics.median(b[1] for b in badge)
    print(f"badge: one badge PDF {badge_ms:.1f} ms (floor: a bare compile of the card {badge_floor:.1f} ms)")
    print(f"load average {os.getloadavg()[0]:.2f} at end\n")

    emit_job("badge sheet job, 1,000 badges", jobs_warm, floor, "typst compile of the same 1,000 cards from ready data")
    emit("one badge PDF (warm)", badge_ms, "ms", floor=badge_floor,
         floor_what="a bare typst compile of the same card", target="<= 30 ms",
         met=badge_ms <= TARGETS["badge"], runs=args.runs)


if __name__ == "__main__":
    main()
