"""A private PostgreSQL server with few connections, for the pool tests (initdb about 1 s).

The shared server on 5432 is left alone: its max_connections is not ours to lower.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager

from ..smtp import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise AssertionError(f"PostgreSQL's {name} is needed (Debian: postgresql)")
    return found[-1]


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextmanager
def small_postgresql(max_connections: int):
    """Yields the admin URL (postgresql+psycopg://postgres@127.0.0.1:<port>/postgres) of a new
    server that allows ``max_connections`` connections, none reserved for superusers."""
    folder = tempfile.mkdtemp(prefix="eventreg-small-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = os.path.join(folder, "data"), free_port()
    started = False
    try:
        subprocess.run(_as_postgres([_bin("initdb"), "-D", data, "--auth=trust", "-U", "postgres", "--no-sync",
                                     "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
        options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c max_connections={max_connections} -c superuser_reserved_connections=0")
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", data, "-o", options, "-l", os.path.join(folder, "log"),
                                     "-w", "start"]), check=True, capture_output=True)
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", data, "-m", "immediate", "stop"]),
                           capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
