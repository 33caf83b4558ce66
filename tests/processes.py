"""Processes that tests start (workers, servers): they never outlive the test run.

``spawn`` starts a command in its own process group, and the kernel kills it (SIGKILL) when the
pytest process dies, however it dies (Ctrl-C, SIGTERM, SIGKILL): Linux's PR_SET_PDEATHSIG, set in
the child before it runs the command. ``stop`` ends the whole group (a gunicorn master and its
workers), politely first; tests/conftest.py stops whatever a test or a module left running.

PR_SET_PDEATHSIG fires when the *thread* that started the child ends, so call ``spawn`` from the
test's own thread (as every test here does), not from a short-lived helper thread. A program that
daemonizes itself (``pg_ctl start``) escapes both: run it in the foreground under ``spawn``.
Popen's ``user=`` works (the death signal is set after the change of user, which would clear it).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_libc = ctypes.CDLL(None, use_errno=True)
running: list[subprocess.Popen] = []  # started and not yet stopped, oldest first


def _die_with(parent: int):
    def in_child() -> None:  # runs in the child between fork and exec: no locks, no logging
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return in_child


def spawn(argv: list[str], **popen_kwargs) -> subprocess.Popen:
    """``subprocess.Popen(argv, **popen_kwargs)`` in a new process group that dies with pytest."""
    process = subprocess.Popen(argv, preexec_fn=_die_with(os.getpid()), start_new_session=True, **popen_kwargs)
    running.append(process)
    return process


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)  # the group id is the child's pid (start_new_session)
    except ProcessLookupError:
        pass  # the whole group is gone already


def stop(*stopping: subprocess.Popen, timeout: float = 15, first: int = signal.SIGTERM) -> None:
    """Ends the processes and their groups together: ``first`` (SIGTERM), then SIGKILL to whatever
    still runs after ``timeout`` seconds. Closes the pipes the test opened to them."""
    for process in stopping:
        _signal_group(process, first)
    for process in stopping:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)
        _signal_group(process, signal.SIGKILL)  # children that outlived their parent (rare)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        if process in running:
            running.remove(process)


def stop_started_since(count: int) -> None:
    """Stops the processes started after the first ``count`` (what one test left running)."""
    if len(running) > count:
        stop(*running[count:], timeout=5)
