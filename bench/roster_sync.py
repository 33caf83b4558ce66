"""The offline desk's roster sync (GET /api/v1/events/<id>/roster) of 2,000 registrations.

    .venv/bin/python bench/roster_sync.py [--people 2000] [--repeat 7] [--db URL|sqlite]

A fresh PostgreSQL database (tests/pg.py; --db sqlite for a temporary SQLite file) built by the
migrations gets one event of two sessions and --people confirmed registrations (a third checked
in, names, furigana and organizations of tests/factories), and the venue's building list sent
for both sessions (so every row's "not on the list" marker is really worked out), plus 20 people
who registered after it (marked). Through the app (Flask's test client, a desk's bearer token):

- full: the whole roster, median of --repeat (after one request that builds the fold tables,
  timed on its own as "first request of a process"); bytes as sent (the app does not compress)
  and gzipped (level 6, what a reverse proxy would send);
- delta: the roster is made an hour old (changed_us set back), the desk takes a cursor, 20
  people are checked in through the check-in API, and the delta since the cursor is fetched
  (median of --repeat, the same cursor each time);
- the floor, in the same run: a bare SELECT of the same rows (every column, fetched, no ORM) and
  the same SELECT loaded as ORM objects.
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from datetime import datetime, timezone

from in_process import insert_confirmed, median, migrated_app
from result import emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", default="", help="sqlite, or a PostgreSQL admin URL (default: tests/pg.py's)")
    args = parser.parse_args()

    from sqlalchemy import select, update

    from eventreg.domain.access import api_tokens
    from eventreg.domain.communication import building_list
    from eventreg.extensions import db
    from eventreg.models import Registration
    from tests import factories

    with migrated_app(args.db) as app:
        with app.app_context():
            first = factories.event_spec_dict(capacity=args.people)["sessions"][0]
            event = factories.make_event(sessions=[first, dict(first, doors="17:30", start="18:00", end="20:00")])
            event.security_email = "security@venue.example"
            insert_confirmed(event, args.people, session_id=lambda i: event.sessions[i % 2].id)
            now = datetime.now(timezone.utc)
            for session in event.sessions:
                building_list.send_full(session, trigger="manual", now=now)
            db.session.commit()
            for n in range(20):
                factories.register_person(event, n % 2, email=f"late{n}@example.org")
            user = factories.make_staff("reception", events=[event])
            token = api_tokens.create_api_token(user, "bench", now=now)
            db.session.commit()
            event_id = event.id
            db.session.remove()
        total = args.people + 20
        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/events/{event_id}/roster"
        kind = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
        print(f"{total} registrations ({args.people} + 20 after the building list), {kind}, median of {args.repeat}")

        started = time.perf_counter()
        response = client.get(url, headers=auth)
        cold = time.perf_counter() - started
        body = response.get_json()
        assert response.status_code == 200 and body["full"] and body["total"] == len(body["rows"]) == total
        assert sum(r["not_on_security_list"] for r in body["rows"]) == 20
        full_s, response = median(args.repeat, lambda: client.get(url, headers=auth))
        raw = response.data
        print(f"  full:   {full_s * 1000:7.1f} ms  {len(raw) / 1000:7.1f} kB raw  "
              f"{len(gzip.compress(raw, 6)) / 1000:6.1f} kB gzipped  ({total} rows; first request of a process "
              f"{cold * 1000:.0f} ms: fold tables built)")

        with app.app_context():
            db.session.execute(update(Registration).where(Registration.event_id == event_id)
                               .values(changed_us=Registration.changed_us - 3600 * 1_000_000))
            db.session.commit()
            arriving = list(db.session.scalars(
                select(Registration.id).where(Registration.event_id == event_id, Registration.checked_in_at.is_(None))
                .order_by(Registration.id).limit(20)))
            db.session.remove()
        cursor = client.get(url, headers=auth).get_json()["cursor"]
        for rid in arriving:
            answer = client.post(f"/api/v1/events/{event_id}/registrations/{rid}/checkin", headers=auth,
                                 json={"desk": "受付B"})
            assert answer.get_json()["result"] == "ok", answer.get_json()
        delta_s, response = median(args.repeat, lambda: client.get(url, headers=auth, query_string={"since": cursor}))
        delta = response.get_json()
        assert not delta["full"] and len(delta["rows"]) == 20, (delta["full"], len(delta["rows"]))
        raw = response.data
        print(f"  delta:  {delta_s * 1000:7.1f} ms  {len(raw) / 1000:7.1f} kB raw  "
              f"{len(gzip.compress(raw, 6)) / 1000:6.1f} kB gzipped  (20 check-ins; of which fold tables "
              f"{len(gzip.compress(_json(delta['fold']), 6)) / 1000:.1f} kB gzipped)")

        with app.app_context():
            table = Registration.__table__
            bare = select(table).where(table.c.event_id == event_id)
            orm = select(Registration).where(Registration.event_id == event_id)

            def fetch(statement, scalars=False):
                def run():
                    rows = (db.session.scalars if scalars else db.session.execute)(statement).all()
                    db.session.expunge_all()
                    db.session.rollback()
                    return rows
                return run

            bare_s, rows = median(args.repeat, fetch(bare))
            orm_s, _ = median(args.repeat, fetch(orm, scalars=True))
            assert len(rows) == total
        print(f"  floor:  {bare_s * 1000:7.1f} ms  bare SELECT of the same rows (every column, fetched);"
              f" {orm_s * 1000:.1f} ms as ORM objects")
        print(f"  full / bare SELECT: {full_s / bare_s:.1f}x;  delta / bare SELECT: {delta_s / bare_s:.2f}x")
        floor_what = f"bare SELECT of the same {total} rows, every column"
        for what, seconds in ((f"full roster, {total} rows", full_s), ("delta after 20 check-ins", delta_s)):
            emit(f"roster sync: {what} ({kind.split('+')[0]})", seconds * 1000, "ms", floor=bare_s * 1000,
                 floor_what=floor_what, target="none", met=True, runs=args.repeat)
        print(f"load average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")


def _json(value) -> bytes:
    import json

    return json.dumps(value).encode()


if __name__ == "__main__":
    main()
