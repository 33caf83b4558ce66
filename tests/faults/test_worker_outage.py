"""A `flask worker` whose database goes away waits with back-off and says so once, not per attempt.

The worker used to look again at once as soon as a tick was overdue, logging a traceback each
time: thousands of attempts and lines, a core of CPU. Here the database really goes away for the
worker process (outages.py): on PostgreSQL a gate cuts every connection and closes each new one,
counting the attempts, then lets them through again; on SQLite the database's volume is missing
until it is mounted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .. import processes
from .outages import SwitchedDatabase

ROOT = Path(__file__).resolve().parents[2]
OUTAGE_SECONDS = 3.0
POLL, CAP = 0.2, 1.0  # attempts at 0, 0.2, 0.6, 1.4, 2.4, 3.4 s: about six in the outage


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _start_worker(database_url: str, folder: Path) -> tuple[subprocess.Popen, Path]:
    log = folder / "worker.log"
    env = {**os.environ, "EVENTREG_ENV": "development", "EVENTREG_SQLALCHEMY_DATABASE_URI": database_url,
           "EVENTREG_INSTANCE_PATH": str(folder / "instance"), "EVENTREG_MAIL_PORT": "1",
           "EVENTREG_OUTBOX_POLL_SECONDS": str(POLL), "EVENTREG_WORKER_BACKOFF_MAX_SECONDS": str(CAP),
           "EVENTREG_TICK_SECONDS": "0.5"}  # a tick falls due during the outage (the old spin)
    with log.open("wb") as out:
        process = processes.spawn([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    return process, log


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)



def _lines(log: Path, text: str) -> int:
    return log.read_text(errors="replace").count(text)


def test_worker_backs_off_while_the_database_is_unreachable(app, tmp_path):
    database = SwitchedDatabase(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    process, log = _start_worker(database.url, tmp_path)
    try:
        _wait_for(lambda: _lines(log, "started") >= 1, 30, "the worker to start")
        if database.up:  # PostgreSQL: a few good rounds, then the connections die
            _wait_for(lambda: database.gate.forwarded >= 1, 10, "the worker to reach the database")
            time.sleep(POLL * 3)
            database.cut()
        cpu_before = _cpu_seconds(process.pid)
        time.sleep(OUTAGE_SECONDS)
        cpu = _cpu_seconds(process.pid) - cpu_before
        assert cpu < 0.5, f"the worker used {cpu:.2f} CPU-seconds in a {OUTAGE_SECONDS:.0f} s outage"
        if database.gate is not None:  # about six attempts with the back-off; it was thousands
            assert 3 <= database.gate.refused <= 10, database.gate.refused
        database.restore()
        _wait_for(lambda: _lines(log, "database working again") >= 1, CAP * 4, "the worker to recover")
        assert process.poll() is None, log.read_text()
    finally:
        processes.stop(process, timeout=10)
        database.close()
    # One line when the outage starts, one when it ends, and no traceback.
    written = log.read_text(errors="replace")
    assert _lines(log, "database failing") == 1, written[-3000:]
    assert _lines(log, "database working again") == 1, written[-3000:]
    assert "Traceback" not in written and len(written.splitlines()) < 10, written[-3000:]
