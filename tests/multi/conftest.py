"""One fresh database and one PgBouncer (transaction mode) in front of it for tests/multi."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from ..pg import fresh_database
from ..pgbouncer import PgBouncer


@pytest.fixture(scope="package")
def pooled_database():
    """``direct`` (PostgreSQL itself, for reading outcomes), ``url`` (through PgBouncer, for every
    process under test) and ``bouncer``. Both stop with the run."""
    # Not unfinished: scripts/test runs the PostgreSQL half every time; SQLite is one file for one server.
    if os.environ.get("EVENTREG_TEST_DB", "sqlite") != "postgresql":
        pytest.skip("several app servers need PostgreSQL; SQLite is for one server (see docs/several-servers.md)")
    direct, drop = fresh_database()
    bouncer = PgBouncer(direct)
    try:
        yield SimpleNamespace(direct=direct, url=bouncer.url, bouncer=bouncer)
    finally:
        bouncer.stop()
        drop()
