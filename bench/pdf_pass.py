"""How long one entry-pass PDF takes, for an ordinary name and for a non-BMP one.

    .venv/bin/python bench/pdf_pass.py [--renders 30] [--runs 3] [--cold-runs 3] [--name "𠮷野 𩸽子"]

Prints:
- cold: a fresh process's first pass (imports, app, typst's font index, first layout), median
  of --cold-runs processes;
- warm, for each family name (渡邊 and --name's): median and p95 of --renders passes in this
  process after one warm-up render, each a new person (a given name no other render had, so
  typst's memoized layout of a name never helps) with its code ready (the kept code of
  domain.registration.pass_qr, as the mail, the pass page and the PDF route draw it), wall and CPU;
- the floor of each, measured in the same run: a bare typst document of the same content (the
  same strings as plain paragraphs and the same QR as an SVG image, the same fonts), no layout.
Ends with one RESULT line per name (bench/result.py): the median over --runs runs of each run's
median, target ≤ 100 ms. No database: the context is built by hand with realistic Japanese data.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

COLD_FIRST_PASS = """
import sys, time
t = time.perf_counter()
sys.path.insert(0, {bench!r})
import pdf_pass
pdf_pass.Renderer().warm(1, pdf_pass.NAME)
print(time.perf_counter() - t)
"""

NAME = "渡邊"
NON_BMP = "𠮷野"
GIVEN = "真由美大輔花子翔太美咲健一紀子誠陽菜浩二智恵龍之介𩸽"  # two of these make each given name
TARGET_MS = 100

# The floor: the pass's strings and code, nothing laid out (no card, no grid, no sizes).
BARE = """#let d = json(bytes(sys.inputs.data))
#set page(paper: "a4")
#set text(font: chain)
#for line in d.lines [#line \\ ]
#image(bytes(d.qr), format: "svg", width: 104mm)
"""


def make_ctx(token: str, name: str) -> dict:
    def utc(*args):
        return datetime(*args, tzinfo=timezone.utc)

    return {
        "token": token, "qr_payload": "ER1:" + token, "status": "confirmed",
        "event": {
            "id": 1, "slug": "kaikei-2019",
            "title": "NPO法人のための会計・税務実務セミナー ―― 新しい寄附税制をわかりやすく解説します",
            "venue_name": "千葉市民活動支援センター 会議室A",
            "venue_address": "〒260-0013 千葉県千葉市中央区中央4-5-1 きぼーる15階",
            "access_notes": "JR千葉駅東口から徒歩10分。\n15階でエレベーターを降り、右手の受付へお越しください。",
            "organizer": "特定非営利活動法人 ちば市民活動・市民事業サポートクラブ",
            "contact_name": "事務局 齋藤", "contact_phone": "043-227-0000",
            "contact_email": "jimukyoku@example.org", "fee_note": "無料",
            "timezone": "Asia/Tokyo", "language": "ja", "url": "http://localhost/e/kaikei-2019",
        },
        "session": {
            "id": 1, "title": "第1部 基礎編", "doors_at": utc(2019, 2, 8, 4, 30),
            "starts_at": utc(2019, 2, 8, 5, 0), "ends_at": utc(2019, 2, 8, 8, 0),
        },
        "attendee": {
            "full_name": name, "full_kana": "わたなべ まゆみ",
            "organization": "特定非営利活動法人 ちば市民活動・市民事業サポートクラブ",
            "department": "事業推進部", "email": "mayumi@example.jp",
        },
        "links": {},
    }


class Renderer:
    """The app, the adapter and a bare typst compiler with the same fonts, in this process."""

    def __init__(self):
        import typst

        from eventreg import create_app
        from eventreg.adapters import fonts, qr, typst_pdf
        from eventreg.domain.registration.passes import new_token
        from eventreg.web import documents

        self.app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        self.documents, self.qr, self.new_token = documents, qr, new_token
        dirs = sorted({os.path.dirname(font.file) for font in fonts.chain_fonts()})
        self.bare = typst.Compiler(font_paths=dirs, ignore_system_fonts=True)
        self.bare_source = (typst_pdf.preamble() + BARE).encode()
        self.people = 0

    def passes(self, count: int, family: str) -> list[tuple[dict, object]]:
        """``count`` new passes, each of a person named as no pass before, with their codes
        encoded beforehand (as kept)."""
        ctxs = []
        for _ in range(count):
            n, self.people = self.people, self.people + 1
            given = GIVEN[n // len(GIVEN) % len(GIVEN)] + GIVEN[n % len(GIVEN)] + GIVEN[n // len(GIVEN) ** 2 % len(GIVEN)]
            ctxs.append(make_ctx(self.new_token(), f"{family} {given}"))
        return [(ctx, self.qr.symbol(ctx["qr_payload"])) for ctx in ctxs]

    def warm(self, renders: int, name: str) -> tuple[list[float], list[float], int]:
        """Wall and CPU milliseconds of ``renders`` passes, and the last one's size."""
        walls, cpus, size = [], [], 0
        with self.app.app_context():
            for ctx, code in self.passes(renders, name):
                wall, cpu = time.perf_counter(), time.process_time()
                size = len(self.documents.pass_pdf(ctx, code))
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
        return walls, cpus, size

    def floor(self, renders: int, name: str) -> list[float]:
        """Wall milliseconds of the bare document of the same strings and code."""
        walls = []
        with self.app.app_context():
            for ctx, code in self.passes(renders, name):
                data = self.documents.pass_data(ctx, code)
                lines = [*data["event"].values(), data["session_title"], data["when"], *data["attendee"].values()]
                inputs = {"data": json.dumps({"lines": lines, "qr": data["qr"]}, ensure_ascii=False)}
                wall = time.perf_counter()
                self.bare.compile(input=self.bare_source, sys_inputs=inputs)
                walls.append((time.perf_counter() - wall) * 1000)
        return walls


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def run_python(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1]) * 1000


def main() -> None:
    from result import emit

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--name", default=NON_BMP, help="a second family name to time (default a non-BMP one)")
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    firsts = [run_python(COLD_FIRST_PASS.format(bench=bench_dir)) for _ in range(args.cold_runs)]
    print(f"cold  fresh process, first pass  median {statistics.median(firsts):7.1f} ms  "
          f"(all imports + app + typst's font index + first render)")

    renderer = Renderer()
    results = {}
    for name in (NAME, args.name):
        renderer.warm(1, name)  # the import and the first render (and its fonts) are not counted
        renderer.floor(1, name)
        figures, floors = [], []
        for run in range(args.runs):
            walls, cpus, size = renderer.warm(args.renders, name)
            bare = renderer.floor(args.renders, name)
            figures.append(statistics.median(walls))
            floors.append(statistics.median(bare))
            print(f"warm  {name}  run {run + 1}: {args.renders} renders  wall median {statistics.median(walls):6.1f} ms"
                  f"  p95 {p95(walls):6.1f} ms | cpu median {statistics.median(cpus):6.1f} ms"
                  f" | {size / 1024:.0f} KiB | floor (bare typst) median {statistics.median(bare):6.1f} ms")
        results[name] = (statistics.median(figures), statistics.median(floors))
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    for key, name in (("pass_pdf_warm", NAME), ("pass_pdf_warm_non_bmp", args.name)):
        figure, floor = results[name]
        emit(key, figure, "ms", floor=floor, floor_what=f"bare typst document of the same strings and QR ({name} …)",
             target=f"<= {TARGET_MS} ms", met=figure <= TARGET_MS, runs=args.runs)


if __name__ == "__main__":
    main()
