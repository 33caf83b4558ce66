"""Making the embedded SQLite default safe under concurrent requests.

SQLite allows one writer at a time. A transaction that reads first and writes later (every
registration does) fails at once with "database is locked" if another writer committed in
between, so write transactions must take the write lock up front (BEGIN IMMEDIATE) and queue
on the busy timeout. Reads stay deferred, so pages keep rendering while someone registers (WAL).

Callers that will write say so with ``writing()``; the web layer does it for every POST, the
worker for each delivery round. PostgreSQL ignores all of this.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event

write_intent: ContextVar[bool] = ContextVar("eventreg_sqlite_write_intent", default=False)


@contextmanager
def writing():
    token = write_intent.set(True)
    try:
        yield
    finally:
        write_intent.reset(token)


def tune(engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we send BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")
