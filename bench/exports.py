"""Exports of 10,000 registrations end to end, and the reception list PDF of 500 people.

    .venv/bin/python bench/exports.py [--people 10000] [--pdf-people 500] [--repeat 5] [--db URL|sqlite]

A fresh PostgreSQL database (tests/pg.py; --db sqlite for a temporary SQLite file) built by the
migrations gets one event with three questions (text, multiple choice, checkbox) and --people
confirmed registrations with phone numbers, departments and answers: the attendee export has
17 + 3 = 20 columns. Each figure is the median of --repeat downloads through the app (Flask's
test client, signed in as the organizer): the request, the query, the rows, the file's bytes.
CP932 is measured on clean data (its report is not the case to time). The reception list PDF is
rendered as the worker does (domain.backoffice.exports.reception_list, then adapters.pdf), once to warm up
(imports, fonts), then --repeat times for the median: the same list again, which typst partly
memoizes; bench/reception_list.py times a list new to the process, with its floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import datetime, timedelta, timezone

from in_process import insert_confirmed, migrated_app, signed_in
from result import emit

TARGETS_S = {"csv": 0.5, "xlsx": 2.5}  # the attendee export of 10,000 registrations


def fill(event, count: int) -> None:
    """``count`` confirmed registrations with every column filled: phone numbers, departments and
    an answer to each of the event's three questions."""
    from eventreg.models import Sector

    text, multi, tick = (str(q.id) for q in event.questions)
    now = datetime.now(timezone.utc)
    sectors = list(Sector)
    insert_confirmed(
        event, count, department=lambda i: "事業推進部 主任", sector=lambda i: sectors[i % len(sectors)],
        phone=lambda i: f"03-{i % 10000:04d}-{i % 7919:04d}",
        answers=lambda i: {text: "会計の基礎を学びたい。\n二行目", multi: ["会場", "オンライン"], tick: i % 2 == 0},
        created_at=lambda i: now - timedelta(minutes=i))


def median_of(repeat: int, action) -> tuple[float, float, object]:
    """Median wall time and median CPU time of this process (app and client; not PostgreSQL's)."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = action()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), statistics.median(cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--pdf-people", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", default="", help="sqlite, or a PostgreSQL admin URL (default: tests/pg.py's)")
    args = parser.parse_args()

    from flask_babel import force_locale

    from eventreg.domain.backoffice import exports, roster
    from eventreg.web import documents
    from tests import factories

    with migrated_app(args.db, WTF_CSRF_ENABLED=False) as app:
        with app.app_context():
            questions = [{"label": "参加の動機", "kind": "text"},
                         {"label": "参加方法", "kind": "multiple", "choices": ["会場", "オンライン"]},
                         {"label": "懇親会に参加する", "kind": "checkbox"}]
            event = factories.make_event(capacity=args.people + 10, questions=questions)
            small = factories.make_event(capacity=args.pdf_people + 10)
            fill(event, args.people)
            factories.bulk_confirmed(small.sessions[0], args.pdf_people)
            user = factories.make_staff("organizer")
            event_id, small_id, email = event.id, small.id, user.email
        client = signed_in(app, email)
        dialect = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0].split("+")[0]
        print(f"{args.people} registrations, {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, "
              f"median of {args.repeat}")
        for fmt in ("csv", "cp932.csv", "xlsx"):
            path = f"/admin/events/{event_id}/exports/attendees.{fmt}"
            client.get(path)  # warm up
            seconds, cpu, response = median_of(args.repeat, lambda path=path: client.get(path))
            assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"], fmt
            lines = response.data.count(b"\r\n") if fmt != "xlsx" else args.people + 1
            print(f"  attendees.{fmt:<10} {seconds:6.3f} s wall  {cpu:6.3f} s CPU  "
                  f"{len(response.data) / 1e6:5.1f} MB  {lines} rows")
            if fmt in TARGETS_S:
                emit(f"export of {args.people} registrations, {fmt.upper()} ({dialect})", seconds, "s", floor=None,
                     floor_what="", target=f"< {TARGETS_S[fmt]} s", met=seconds < TARGETS_S[fmt], runs=args.repeat)
        with app.app_context():
            from eventreg.extensions import db
            from eventreg.models import Event

            def reception_pdf():
                ctx = exports.reception_list(db.session.get(Event, small_id), roster.ListFilter(),
                                             now=datetime.now(timezone.utc))
                with force_locale("ja"), app.test_request_context():
                    return documents.reception_list_pdf(ctx)

            reception_pdf()  # imports and typst's fonts
            seconds, cpu, body = median_of(args.repeat, reception_pdf)
            print(f"  reception list PDF, {args.pdf_people} people: {seconds:6.3f} s wall  {cpu:6.3f} s CPU  "
                  f"{len(body) / 1e6:4.1f} MB")
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")


if __name__ == "__main__":
    main()
