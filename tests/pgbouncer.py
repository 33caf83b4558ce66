"""A PgBouncer of the test's own in transaction mode, in front of the test's PostgreSQL.

Debian's ``pgbouncer`` (scripts/test installs it) runs in the foreground under
``processes.spawn``, so it dies with the test run however the run ends. Its configuration and
user list live in a temporary folder of their own; it listens on a free loopback port only.
PgBouncer refuses to run as root, so as root it runs as the ``postgres`` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from . import processes
from .smtp import free_port

POOL_SIZE = 8  # server connections per database and user: far fewer than the app's clients


class PgBouncer:
    def __init__(self, database_url: str, *, pool_size: int = POOL_SIZE):
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not os.path.exists(binary):
            raise RuntimeError("pgbouncer is not installed: apt-get install -y pgbouncer (scripts/test does it)")
        url = make_url(database_url)
        self.port = free_port()
        self.url = url.set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        self.folder = Path(tempfile.mkdtemp(prefix="eventreg-pgbouncer-"))
        user = url.username or "postgres"
        (self.folder / "userlist.txt").write_text(f'"{user}" ""\n')
        # Every database name goes to the test's server; the admin console ("pgbouncer") shows pools.
        (self.folder / "pgbouncer.ini").write_text(f"""\
[databases]
* = host={url.host or "127.0.0.1"} port={url.port or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.folder / "userlist.txt"}
admin_users = {user}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
logfile =
pidfile =
""")
        run_as = {}
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.folder, postgres.pw_uid, postgres.pw_gid)
            run_as = {"user": postgres.pw_uid, "group": postgres.pw_gid}
        self.log = self.folder / "pgbouncer.log"
        with open(self.log, "wb") as log:
            self.process = processes.spawn([binary, str(self.folder / "pgbouncer.ini")], stdout=log,
                                           stderr=subprocess.STDOUT, **run_as)
        self._wait_until_listening()

    def _wait_until_listening(self, seconds: float = 15) -> None:
        deadline = time.monotonic() + seconds
        while True:
            assert self.process.poll() is None, f"pgbouncer exited:\n{self.log.read_text(errors='replace')}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, f"pgbouncer did not listen:\n{self.log.read_text(errors='replace')}"
                time.sleep(0.05)

    def admin(self, command: str) -> list[dict]:
        """A ``SHOW …`` of PgBouncer's admin console, as rows of dicts."""
        import psycopg
        from psycopg.rows import dict_row

        url = make_url(self.url)
        # The console speaks only the simple query protocol: a client-side-binding cursor.
        with psycopg.connect(host="127.0.0.1", port=self.port, user=url.username or "postgres",
                             dbname="pgbouncer", autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
            return conn.cursor(row_factory=dict_row).execute(command).fetchall()

    def stop(self) -> None:
        processes.stop(self.process)
        shutil.rmtree(self.folder, ignore_errors=True)
