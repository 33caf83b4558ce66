"""A private PostgreSQL server with few connections, for the pool tests (initdb about 1 s).

The shared server on 5432 is left alone: its max_connections is not ours to lower.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager

from .. import processes
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
    server = None
    try:
        subprocess.run(_as_postgres([_bin("initdb"), "-D", data, "--auth=trust", "-U", "postgres", "--no-sync",
                                     "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
        # In the foreground under tests/processes (not pg_ctl, which detaches it): it dies with the run.
        with open(os.path.join(folder, "log"), "ab") as log:
            server = processes.spawn(
                [_bin("postgres"), "-D", data, "-p", str(port), "-k", folder, "-c", "listen_addresses=127.0.0.1",
                 "-c", "fsync=off", "-c", f"max_connections={max_connections}",
                 "-c", "superuser_reserved_connections=0"],
                stdout=log, stderr=subprocess.STDOUT, user="postgres" if os.geteuid() == 0 else None)
        _wait_until_ready(server, port, folder)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if server is not None:
            processes.stop(server, first=signal.SIGQUIT)  # immediate shutdown: nothing here is kept
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_ready(server, port: int, folder: str, seconds: float = 30) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            with open(os.path.join(folder, "log"), errors="replace") as file:
                log = file.read()[-2000:]
            assert server.poll() is None, f"PostgreSQL did not start:\n{log}"
            assert time.monotonic() < deadline, f"PostgreSQL did not start in {seconds} s:\n{log}"
            time.sleep(0.1)
