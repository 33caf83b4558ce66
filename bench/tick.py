"""How long the worker's periodic tick takes with 1,000 events in the database.

    .venv/bin/python bench/tick.py [--events 1000] [--db sqlite|URL] [--repeat 20]

Creates --events events (one session each, 14 or 15 days ahead, deadline the day before at
12:00, so one scheduled deadline summary each) in a fresh database built by the migrations, then times:
- idle: one tick when nothing is due (the every-30-seconds case), median and max of --repeat;
- all due: one tick at a moment when every event's deadline has passed (1,000 summaries
  queued, each task in its own transaction), once.
With --security, every event also has a venue contact and --people confirmed people, so the
"all due" tick also sends 1,000 building-security lists; then it times the ticks that follow,
which compare every sent list with its session (nothing changed, then one cancellation: one
difference). The database is a fresh SQLite file, or with --db a PostgreSQL server URL on which
a temporary database is created and dropped.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from in_process import migrated_app
from result import emit


def parts(app, now, repeat: int = 5) -> dict[str, float]:
    """Where a quiet tick's time goes: the due tasks, the security-list look, each sweep's find."""
    from eventreg.domain.timing import periodic
    from eventreg.extensions import db

    steps = {"tasks": lambda: periodic.due_work(now), "security lists": lambda: periodic.changed_security_lists(now)}
    steps.update({sweep.name: (lambda sweep=sweep: sweep.find(now)) for sweep in periodic.SWEEPS})
    found = {}
    with app.app_context():
        for name, step in steps.items():
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                step()
                times.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            found[name] = statistics.median(times)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql, or postgresql+psycopg://user@host/db")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--security", action="store_true", help="venue contacts and building-security lists")
    parser.add_argument("--people", type=int, default=20, help="confirmed people per event, with --security")
    args = parser.parse_args()

    import logging

    from sqlalchemy import func, select

    from eventreg.domain.backoffice import event_import
    from eventreg.domain.registration import signup
    from eventreg.domain.timing import schedule
    from eventreg.extensions import db
    from eventreg.models import OutboxMessage, Registration, ScheduledTask, Status
    from eventreg.worker import tick
    from tests.factories import bulk_confirmed, event_spec_dict, in_days

    logging.getLogger("eventreg.worker").setLevel(logging.WARNING)
    with migrated_app(args.db) as app:
        with app.app_context():
            made = time.perf_counter()
            for i in range(args.events):
                event = event_import.replace_event(event_spec_dict(slug=f"bench-{i}", start=in_days(14 + i % 2)))
                if args.security:
                    event.security_email = "security@venue.example"
                    schedule.reschedule(event)
                    db.session.commit()
                    bulk_confirmed(event.sessions[0], args.people)
                if i % 100 == 99:
                    db.session.commit()
            db.session.commit()
            tasks = db.session.scalar(select(func.count()).select_from(ScheduledTask))
            last_due = db.session.scalar(select(func.max(ScheduledTask.due_at)))
            dialect = db.engine.dialect.name
            print(f"{dialect}: {args.events} events, {tasks} scheduled tasks "
                  f"(made in {time.perf_counter() - made:.1f} s)")
            db.session.remove()

        tick(app)  # warm: first connection, statement caches
        idle = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            outcomes = tick(app)
            idle.append((time.perf_counter() - started) * 1000)
            assert not outcomes, outcomes
        print(f"idle tick (nothing due), {args.repeat} runs: median {statistics.median(idle):.2f} ms, "
              f"max {max(idle):.2f} ms")

        started = time.perf_counter()
        outcomes = tick(app, now=last_due + timedelta(minutes=1))
        seconds = time.perf_counter() - started
        with app.app_context():
            queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        print(f"tick with all {tasks} due: {seconds:.2f} s, outcomes {dict(outcomes)}, {queued} messages queued")
        if args.security:
            after = last_due + timedelta(minutes=2)
            quiet = []
            for _ in range(25):  # more than security_list.ROTATION: every list's fingerprint is read once
                started = time.perf_counter()
                outcomes = tick(app, now=after)
                quiet.append((time.perf_counter() - started) * 1000)
                assert not outcomes, outcomes
            print(f"tick with {args.events} lists sent, nothing changed, 25 runs: median {statistics.median(quiet):.0f} ms, "
                  f"max {max(quiet):.0f} ms (first {quiet[0]:.0f} ms), last 5 median {statistics.median(quiet[-5:]):.0f} ms")
            emit(f"tick, {args.events} events with sent security lists, nothing changed ({dialect})",
                 statistics.median(quiet), "ms", floor=None, floor_what="", target="< 1000 ms",
                 met=statistics.median(quiet) < 1000, runs=len(quiet))
            print("  its parts (median ms): " + ", ".join(f"{k} {v:.1f}" for k, v in parts(app, after).items()))
            with app.app_context():
                reg = db.session.scalar(select(Registration).where(Registration.status == Status.confirmed).limit(1))
                signup.cancel(reg, now=after)
                db.session.commit()
            started = time.perf_counter()
            outcomes = tick(app, now=after + timedelta(seconds=30))
            print(f"tick after one cancellation: {(time.perf_counter() - started) * 1000:.0f} ms, outcomes {dict(outcomes)}")


if __name__ == "__main__":
    main()
