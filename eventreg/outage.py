"""How a polling loop waits out a dependency that is down: exponential back-off with a cap, and
one log line when the outage starts and one when it ends, not a traceback per attempt.

While the database was down (or its disk full) the worker looked again at once and logged
every failure: about 10,000 tracebacks (80 MB) and 23 CPU-seconds in 35 s.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import DBAPIError


def first_line(exc: BaseException) -> str:
    """The exception's class and the first line of its text: a driver's message, without the
    SQL (and so without values) that SQLAlchemy appends."""
    reason = getattr(exc, "orig", None) or exc
    lines = str(reason).strip().splitlines()
    return f"{type(reason).__name__}: {lines[0] if lines else ''}".rstrip(": ")


# Tables or columns the code expects are missing: `flask --app wsgi db upgrade` was not run on this
# database (a new server), or not since the code was upgraded. PostgreSQL's undefined_table and
# undefined_column, SQLite's words for the same.
SCHEMA_SQLSTATES = ("42P01", "42703")
SQLITE_SCHEMA_WORDS = ("no such table", "no such column")
UPGRADE_COMMAND = "flask --app wsgi db upgrade"


def schema_behind(exc: BaseException) -> bool:
    """Whether ``exc`` says the database lacks a table or column of the code's schema."""
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return False
    if getattr(exc.orig, "sqlstate", None) in SCHEMA_SQLSTATES:  # psycopg
        return True
    return type(exc.orig).__module__.startswith("sqlite3") and any(
        words in str(exc.orig).lower() for words in SQLITE_SCHEMA_WORDS)


class Outage:
    """Tracks one dependency: ``failed(exc)`` returns how long to wait before the next attempt
    (``first``, then doubling up to ``cap`` seconds); ``succeeded()`` ends the outage."""

    def __init__(self, what: str, log: logging.Logger, *, first: float, cap: float):
        self.what, self.log = what, log
        self.first, self.cap = max(first, 0.05), max(cap, first)
        self.failures = 0
        self.since: float | None = None

    def failed(self, exc: BaseException) -> float:
        if not self.failures:
            self.since = time.monotonic()
            hint = f"; the database lacks eventreg's tables: run `{UPGRADE_COMMAND}`" if schema_behind(exc) else ""
            self.log.error("%s failing (%s%s); trying again with back-off, at most every %.0f s",
                           self.what, first_line(exc), hint, self.cap)
        delay = min(self.first * 2 ** min(self.failures, 30), self.cap)
        self.failures += 1
        return delay

    def succeeded(self) -> None:
        if self.failures:
            self.log.warning("%s working again after %.1f s (%d failed attempt(s))",
                             self.what, time.monotonic() - self.since, self.failures)
        self.failures, self.since = 0, None
