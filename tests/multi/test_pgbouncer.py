"""The app's engine through PgBouncer in transaction mode: EVENTREG_DATABASE_POOLER=transaction.

Each transaction may run on another server connection. psycopg prepares a statement on its 5th
execution and later refers to it by name, which the next server connection never saw; the pooler
setting turns preparing off. The unconfigured engine is shown to fail, so the setting matters.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from eventreg import create_app
from eventreg.extensions import db


def _moving_between_server_connections(engine, rounds: int = 12) -> set[int]:
    """Runs one statement in ``rounds`` transactions; every other one while a second client holds
    the server connection it used before, so PgBouncer hands it another. The backends it ran on."""
    backends = set()
    with engine.connect() as mover, engine.connect() as holder:
        for n in range(rounds):
            if n % 2:
                holder.execute(text("SELECT 1"))  # holds a server connection until its commit
            backends.add(mover.execute(text("SELECT pg_backend_pid() + :n - :n"), {"n": n}).scalar())
            mover.commit()
            holder.commit()
    return backends


def _app(url: str, **config):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, **config})


def test_the_pooler_setting_keeps_statements_working_across_server_connections(pooled_database):
    app = _app(pooled_database.url, DATABASE_POOLER="transaction")
    with app.app_context():
        try:
            assert len(_moving_between_server_connections(db.engine)) >= 2  # it did move
        finally:
            db.engine.dispose()


def test_without_the_setting_the_same_statements_fail(pooled_database):
    app = _app(pooled_database.url)
    with app.app_context():
        try:
            with pytest.raises(ProgrammingError, match="prepared statement"):
                _moving_between_server_connections(db.engine)
        finally:
            db.engine.dispose()


def test_an_unknown_pooler_is_refused():
    from eventreg.config import UnsafeConfiguration

    with pytest.raises(UnsafeConfiguration, match="DATABASE_POOLER"):
        _app("sqlite://", DATABASE_POOLER="statement")
