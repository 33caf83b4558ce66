"""What the benches that run the app inside their own process share (attendee_list, exports,
messages, roster_sync, stats, tick): the repository root on the import path, a fresh database built
by the migrations' caller, the app on it, and medians of repeated timings.

Imported by a bench run as ``python bench/<name>.py`` (bench/ is then on the path, so this module
imports as a sibling); importing it puts the repository root on the path for ``eventreg`` and the
test helpers ``tests.factories``, ``tests.pg`` and ``tests.roster_people``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The back-office benches sign in through the form, without a CSRF token.
BACK_OFFICE = {"WTF_CSRF_ENABLED": False, "BASE_URL": "http://127.0.0.1"}


def database(arg: str):
    """``sqlite``: a new SQLite file; ``postgresql`` or empty: a new database on tests/pg.py's
    server; anything else: a new database next to that PostgreSQL URL. Returns (url, drop)."""
    if arg == "sqlite":
        folder = tempfile.mkdtemp(prefix="eventreg-bench-")
        return f"sqlite:///{folder}/bench.db", lambda: None
    from tests.pg import PG_ADMIN_URL, fresh_database

    return fresh_database(PG_ADMIN_URL if arg in ("", "postgresql") else arg, prefix="eventreg_bench")


def bench_app(url: str, **config):
    """The app on ``url`` as the benches use it: development settings, no mail server."""
    from eventreg import create_app

    return create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "MAIL_PORT": 1, **config})


@contextmanager
def migrated_app(db: str, **config):
    """The app (``bench_app``) on a fresh ``database(db)`` built by the migrations; the database is
    dropped at the end, even after an error."""
    from flask_migrate import upgrade

    url, drop = database(db)
    try:
        app = bench_app(url, **config)
        with app.app_context():
            upgrade()
        yield app
    finally:
        drop()


def median(repeat: int, action) -> tuple[float, object]:
    """Median wall time of ``repeat`` calls of ``action``, and what the last one returned."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def signed_in(app, email: str):
    """A test client of ``app`` signed in through the real /login form as ``email``."""
    from tests.factories import PASSWORD

    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def insert_confirmed(event, count: int, **varying) -> None:
    """``count`` confirmed registrations with every column filled, in Core INSERTs of 1,000, a third
    of them checked in; the sessions' seat counts follow. ``varying`` maps a column to a function of
    the person's number that replaces the default (e.g. ``session_id=lambda i: ...``)."""
    from collections import Counter
    from datetime import datetime, timezone

    from sqlalchemy import insert, update

    from eventreg.domain.people import person_keys
    from eventreg.domain.registration.passes import new_entry_id, new_token
    from eventreg.extensions import db
    from eventreg.models import EventSession, Registration, Sector, Status
    from tests.factories import FAMILIES, GIVENS, ORGANIZATIONS

    now = datetime.now(timezone.utc)
    rows = []
    for i in range(count):
        (family, family_kana), (given, given_kana) = FAMILIES[i % 20], GIVENS[i // 20 % 12]
        row = {
            "event_id": event.id, "session_id": event.sessions[0].id, "token": new_token(),
            "entry_id": new_entry_id(), "entry_version": 1, "status": Status.confirmed, "family_name": family,
            "given_name": given, "family_kana": family_kana, "given_kana": given_kana,
            "email": f"p{i}@example.org", "organization": ORGANIZATIONS[i % len(ORGANIZATIONS)],
            "department": "事業推進部", "sector": Sector.npo, "phone": "03-1234-5678", "answers": {},
            "language": "ja", "created_at": now, "confirmed_at": now,
            "checked_in_at": now if i % 3 == 0 else None, "checked_in_desk": "受付A" if i % 3 == 0 else "",
            "walk_in": False,
        }
        rows.append(person_keys.with_keys(row | {column: value(i) for column, value in varying.items()}))
    for start in range(0, count, 1000):
        db.session.execute(insert(Registration), rows[start:start + 1000])
    for session_id, seats in Counter(r["session_id"] for r in rows).items():
        db.session.execute(update(EventSession).where(EventSession.id == session_id).values(seats_taken=seats))
    db.session.commit()
