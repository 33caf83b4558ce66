"""How long queuing an organizer's message to 2,000 recipients takes (target: under 2 s).

    .venv/bin/python bench/messages.py [--recipients 2000] [--db sqlite|postgresql] [--repeat 5]

Creates an event with --recipients confirmed people (one Core INSERT) in a fresh database built
by the migrations, then, --repeat times, saves a draft to "confirmed, not yet arrived" and times
``domain.communication.attendee_messages.queue`` + commit: the conditional UPDATE, the recipient query, the batched
INSERT … ON CONFLICT DO NOTHING of one outbox row each, and the recipient count. Prints the median
and the maximum. ``--db postgresql`` creates (and drops) a temporary database on
postgresql+psycopg://postgres@127.0.0.1:5432 (or give a server URL).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timezone

from in_process import migrated_app
from result import emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()


    from eventreg.domain.backoffice import event_import
    from eventreg.domain.backoffice.roster import ListFilter
    from eventreg.domain.communication import attendee_messages
    from eventreg.extensions import db
    from eventreg.sqlite import writing
    from tests.factories import bulk_confirmed, event_spec_dict

    with migrated_app(args.db) as app:
        with app.app_context():
            event = event_import.replace_event(event_spec_dict(slug="bench-messages", capacity=args.recipients + 10))
            db.session.commit()
            bulk_confirmed(event.sessions[0], args.recipients)
            times = []
            for _ in range(args.repeat):
                now = datetime.now(timezone.utc)
                message = attendee_messages.save_draft(event, subject="【ご案内】{name}様", body="{name} 様\n{pass_link}",
                                              flt=ListFilter(status="not_arrived"), actor=None, now=now)
                message_id = message.id
                db.session.commit()
                started = time.perf_counter()
                with writing():
                    made = attendee_messages.queue(message_id, now)
                    db.session.commit()
                times.append(time.perf_counter() - started)
                assert made == args.recipients, made
            print(f"{db.engine.dialect.name}: queue a message to {args.recipients} recipients, {args.repeat} runs: "
                  f"median {statistics.median(times):.3f} s, max {max(times):.3f} s")
            emit(f"queue a message to {args.recipients} recipients ({db.engine.dialect.name})",
                 statistics.median(times), "s", floor=None, floor_what="", target="< 2 s",
                 met=statistics.median(times) < 2, runs=args.repeat)
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
