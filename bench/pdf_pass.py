"""How long one entry-pass PDF takes.

    .venv/bin/python bench/pdf_pass.py [--renders 30] [--cold-runs 3] [--name "𠮷野 𩸽子"]

Prints:
- cold: ``import weasyprint`` in a fresh interpreter, and a fresh process's first pass
  (imports + fontconfig + first layout), medians of --cold-runs processes;
- warm: median and p95 of --renders passes in this process after one warm-up render, each with
  a new token so the QR cache never helps. Wall time and this process's CPU time are both shown:
  on a shared machine the CPU figure is the steadier one.
No database: the context is built by hand with realistic Japanese data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

COLD_IMPORT = "import time; t = time.perf_counter(); import weasyprint; print(time.perf_counter() - t)"
COLD_FIRST_PASS = """
import sys, time
t = time.perf_counter()
sys.path.insert(0, {bench!r})
import pdf_pass
pdf_pass.render_warm(1)
print(time.perf_counter() - t)
"""


NAME = "渡邊 真由美"


def make_ctx(token: str, name: str | None = None) -> dict:
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
            "full_name": name or NAME, "full_kana": "わたなべ まゆみ",
            "organization": "特定非営利活動法人 ちば市民活動・市民事業サポートクラブ",
            "department": "事業推進部", "email": "mayumi@example.jp",
        },
        "links": {},
    }


def render_warm(renders: int, name: str | None = None) -> tuple[list[float], list[float], int]:
    """Render ``renders`` passes; returns wall and CPU milliseconds per pass, and the last size."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from eventreg import create_app
    from eventreg.adapters import pdf
    from eventreg.domain.registration.passes import new_token

    app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    walls, cpus, size = [], [], 0
    with app.app_context():
        for _ in range(renders):
            ctx = make_ctx(new_token(), name)
            wall, cpu = time.perf_counter(), time.process_time()
            size = len(pdf.render_pass(ctx))
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    return walls, cpus, size


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def run_python(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--name", default=NAME, help="the attendee's name (e.g. a non-BMP one)")
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    imports = [run_python(COLD_IMPORT) for _ in range(args.cold_runs)]
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    firsts = [run_python(COLD_FIRST_PASS.format(bench=bench_dir)) for _ in range(args.cold_runs)]
    print(f"cold  import weasyprint          median {statistics.median(imports):7.1f} ms  "
          f"(runs: {', '.join(f'{v:.0f}' for v in imports)})")
    print(f"cold  fresh process, first pass  median {statistics.median(firsts):7.1f} ms  "
          f"(all imports + app + first render)")

    render_warm(1, args.name)  # the import and the first render are excluded from the warm figures
    walls, cpus, size = render_warm(args.renders, args.name)
    print(f"name  {args.name}")
    print(f"warm  one pass PDF, {args.renders} renders  wall median {statistics.median(walls):6.1f} ms"
          f"  p95 {p95(walls):6.1f} ms | cpu median {statistics.median(cpus):6.1f} ms"
          f"  p95 {p95(cpus):6.1f} ms | {size / 1024:.0f} KiB")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
