"""A fresh PostgreSQL database per run, for the suite, the multi-server test and the benchmarks."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable

PG_ADMIN_URL = os.environ.get("EVENTREG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fresh_database(admin_url: str = PG_ADMIN_URL, prefix: str = "eventreg_test") -> tuple[str, Callable[[], None]]:
    """Creates an empty database next to ``admin_url``'s; returns its URL and a function that drops it."""
    import psycopg

    admin = admin_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return re.sub(r"/[^/]*$", f"/{name}", admin_url), drop
