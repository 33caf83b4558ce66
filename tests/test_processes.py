"""A worker started by a test dies with the test run, however the run ends (tests/processes.py).

The test runs a small pytest of its own whose test starts a real `flask worker` and then waits;
it kills that pytest with SIGKILL (no handler, no teardown: the hardest way to end) and checks
that the worker is gone. The kernel's death signal fires however the parent ends, so Ctrl-C and
SIGTERM need no case of their own (each was checked by hand; a run of three costs 17 s).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from . import processes

ROOT = Path(__file__).resolve().parents[1]

INNER_TEST = '''
import os, subprocess, sys, time
from tests import processes

def test_starts_a_worker_and_waits(tmp_path):
    log = open(os.environ["WORKER_LOG"], "ab")
    worker = processes.spawn([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=os.environ["ROOT"],
                             stdout=log, stderr=subprocess.STDOUT)
    with open(os.environ["WORKER_PID"], "w") as out:
        out.write(str(worker.pid))
    time.sleep(300)  # ended from outside long before
'''


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for init to reap it has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_worker_dies_with_a_killed_test_run(database_url, app, tmp_path):
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TEST))
    log, pid_file = tmp_path / "worker.log", tmp_path / "worker.pid"
    env = dict(os.environ, ROOT=str(ROOT), PYTHONPATH=str(ROOT), WORKER_LOG=str(log), WORKER_PID=str(pid_file),
               EVENTREG_ENV="development", EVENTREG_SQLALCHEMY_DATABASE_URI=database_url, EVENTREG_MAIL_PORT="1",
               EVENTREG_INSTANCE_PATH=str(tmp_path / "instance"))
    inner = processes.spawn([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull,
                             "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: pid_file.exists() and pid_file.read_text(), 60, "the inner test started no worker")
    worker = int(pid_file.read_text())
    wait_for(lambda: "started" in log.read_text(), 60, f"the worker did not start:\n{log.read_text()[-2000:]}")

    os.kill(inner.pid, signal.SIGKILL)  # the pytest process only, not its group
    inner.wait(timeout=30)
    wait_for(lambda: not running(worker), 15, "the worker outlived its pytest")
