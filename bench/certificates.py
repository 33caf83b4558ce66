"""The 1,000-certificate job: every attendee's certificate of attendance issued and drawn as one PDF.

    .venv/bin/python bench/certificates.py [--runs 3] [--people 1000] [--db sqlite|URL]

Each run: a fresh database with one event whose ``people`` registrations all checked in (the
seed's seminar title and organizer, bench/documents.py's names), then the job in a fresh worker
process, from claim to stored file: issuing the 1,000 certificates (one INSERT … ON CONFLICT DO
NOTHING), their verify URLs' QR codes, typst's layout in chunks on a second thread, the join.
Wall, CPU and peak PSS of the process (sampled every 10 ms), against the worker at rest (app,
database, typst and its fonts loaded), as bench/badges.py measures the badge sheet.

Floor, measured in the same run: typst laying out the same 1,000 pages as one document from ready
data (texts sized, QR codes drawn as PNGs): the compile alone. One certificate PDF (warm) is
printed too, against a bare compile of its page.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "bench")]

from documents import child, emit_job, measured_job  # noqa: E402 - the bench folder on the path first

TITLE = "NPO法人のための会計・税務実務セミナー ―― 新しい寄附税制をわかりやすく解説します"
ORGANIZER = "特定非営利活動法人 ちば市民活動・市民事業サポートクラブ"


def setup_event(url: str, people: int) -> int:
    from flask_migrate import upgrade
    from sqlalchemy import update

    from eventreg import create_app
    from eventreg.extensions import db
    from eventreg.models import Registration
    from tests import factories

    app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        event = factories.make_event(capacity=people, title=TITLE, organizer=ORGANIZER)
        factories.bulk_confirmed(event.sessions[0], people)
        db.session.execute(update(Registration).values(checked_in_at=datetime.now(timezone.utc)))
        db.session.commit()
        event_id = event.id
        db.session.remove()
    return event_id


def job_child(url: str, event_id: int) -> dict:
    """In a fresh worker process: the PSS at rest, then the certificates job with its peak PSS."""
    from eventreg.adapters import certificates  # noqa: F401 - loaded as the worker loads it
    from eventreg.domain.registration import certificates as issuing

    return measured_job(url, event_id, lambda: issuing.queue_job(event_id, datetime.now(timezone.utc)))


def ready_pages(people: int) -> list[dict]:
    """``people`` pages as the job draws them (sized texts, QR PNGs), from made-up certificates."""
    import random

    from documents import FAMILY, GIVEN

    from eventreg.adapters import certificates as drawn
    from eventreg.domain.registration import certificates
    from eventreg.web import certificates as documents

    rng = random.Random(8)
    start = datetime(2026, 12, 7, 5, 0, tzinfo=timezone.utc)
    pages = []
    for _ in range(people):
        code = certificates.formatted(certificates.new_code())
        values = {"holder_name": f"{rng.choice(FAMILY)[0]} {rng.choice(GIVEN)[0]}", "language": "ja",
                  "event_title": TITLE, "organizer": ORGANIZER, "session_title": "第1回", "venue": "千葉市文化センター",
                  "online": False, "timezone": "Asia/Tokyo", "starts_at": start,
                  "ends_at": start.replace(hour=8), "issued_at": start.replace(hour=9)}
        pages.append(drawn._page(documents.page_data(values, code, f"https://events.example.org/verify/{code}")))
    return pages


def floors(people: int) -> tuple[float, float, float]:
    """(typst laying out ``people`` ready pages as one document, s; one certificate PDF, ms; a bare
    compile of its ready page, ms): medians."""
    from eventreg.adapters import certificates as drawn
    from eventreg.adapters import typst_pdf
    from eventreg.web import certificates as documents

    pages = ready_pages(people)
    words = documents.words("ja")
    data = {"lang": "ja", "words": words, "sample": False, "pages": pages}
    typst_pdf.render(drawn.TEMPLATE, {**data, "pages": pages[:1]})
    times = []
    for _ in range(3):
        typst_pdf.forget()
        started = time.perf_counter()
        typst_pdf.render(drawn.TEMPLATE, data, tags=False)
        times.append(time.perf_counter() - started)
    typst_pdf.forget()
    one, bare = [], []
    for page in pages[:20]:
        plain = {key: value for key, value in page.items() if key not in ("qr", "name_size", "title_size")}
        started = time.perf_counter()
        drawn.render_certificate(plain, words, "ja")
        one.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        typst_pdf.render(drawn.TEMPLATE, {**data, "pages": [page]})
        bare.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), statistics.median(one), statistics.median(bare)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--db", default="sqlite", help="sqlite, or postgresql+psycopg://user@host/db")
    parser.add_argument("--job-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job_child:
        print(json.dumps(job_child(args.job_child[0], int(args.job_child[1]))))
        return

    from in_process import database

    from eventreg import create_app

    n = args.people
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    print(f"\njob: {n} certificates issued and drawn as one PDF, a fresh database and worker process each run")
    runs = []
    for _ in range(args.runs):
        url, drop = database(args.db)
        try:
            runs.append(child(["--job-child", url, str(setup_event(url, n))], __file__))
        finally:
            drop()
        r = runs[-1]
        print(f"  wall {r['wall']:5.2f} s  cpu {r['cpu']:5.2f} s  PSS at rest {r['rest_pss']:4.0f} MB  "
              f"peak {r['peak_pss']:4.0f} MB  {r['pages']} pages  {r['bytes'] / 1e6:4.1f} MB PDF  "
              f"(load {os.getloadavg()[0]:.2f})")
    app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        measured = [floors(n) for _ in range(args.runs)]
    floor = statistics.median(m[0] for m in measured)
    one, bare = statistics.median(m[1] for m in measured), statistics.median(m[2] for m in measured)
    print(f"\nfloor: typst laying out the {n} pages as one document from ready data: {floor:.2f} s")
    print(f"one certificate PDF {one:.1f} ms (floor: a bare compile of the ready page {bare:.1f} ms)")
    print(f"load average {os.getloadavg()[0]:.2f} at end\n")

    emit_job(f"certificates job, {n:,} certificates issued and drawn", runs, floor,
             f"typst compile of the same {n:,} pages from ready data")


if __name__ == "__main__":
    main()
