"""Three workers tick at the same moment: each due task is done once, one email per task.

Each worker is a thread calling ``eventreg.worker.tick`` exactly as the worker loop does: its own
app context (so its own session and connection), and SQLite's write intent (``writing()``) only
inside tick, for each task's transaction. Nothing here takes a lock on the tick's behalf.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from eventreg.domain.communication import outbox
from eventreg.domain.timing import periodic
from eventreg.extensions import db
from eventreg.models import MailKind, OutboxMessage, ScheduledTask
from eventreg.worker import tick

WORKERS = 3
EVENTS = 5


@pytest.fixture
def make_event(make_event):
    """Events without reminder rules: these tests are about the deadline summary (reminders are
    tests/domain/test_reminders.py and tests/races/test_reminders_once.py)."""
    return lambda **overrides: make_event(**{"reminders": [], **overrides})


@pytest.fixture
def due(make_event):
    """EVENTS events whose deadline passed a minute ago; returns (task ids, now)."""
    for _ in range(EVENTS):
        make_event()
    tasks = db.session.scalars(select(ScheduledTask)).all()
    now = max(task.due_at for task in tasks) + timedelta(minutes=1)
    ids = sorted(task.id for task in tasks)
    db.session.commit()  # end the read: the workers need the (SQLite) write lock
    assert len(ids) == EVENTS
    return ids, now


@pytest.fixture
def effects(monkeypatch):
    """How many times each summary was queued (the effect, counted before the database sees it)."""
    calls: Counter = Counter()
    lock = threading.Lock()
    real = outbox.enqueue

    def counting(*args, **kwargs):
        with lock:
            calls[kwargs["idempotency_key"]] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(outbox, "enqueue", counting)
    return calls


def tick_together(app, now=None) -> list[Counter]:
    """WORKERS ticks released together by a barrier (the reminder, security-list and retention
    races use it too); ``now`` None: the clock's time."""
    barrier = threading.Barrier(WORKERS)
    results: list[Counter] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            results.append(tick(app, now=now))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, name=f"worker-{i}") for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return results


def summaries() -> list[OutboxMessage]:
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.deadline_summary)).all()


def test_three_workers_do_each_task_once(app, due, effects):
    ids, now = due
    results = tick_together(app, now)

    assert sum(result["done"] for result in results) == EVENTS  # each task reported done by one worker
    assert not any(result["error"] for result in results)
    tasks = db.session.scalars(select(ScheduledTask).order_by(ScheduledTask.id)).all()
    assert [(t.id, t.done_at, t.outcome) for t in tasks] == [(i, now, "done") for i in ids]
    rows = summaries()
    assert len(rows) == EVENTS
    assert sorted(row.idempotency_key for row in rows) == sorted(
        f"deadline_summary:session:{t.session_id}" for t in tasks)
    assert set(effects.values()) == {1}  # the effect itself ran once per task
    db.session.commit()

    # A restart, or the next tick an hour later: nothing more.
    assert tick(app, now=now + timedelta(hours=1)) == Counter()
    assert len(summaries()) == EVENTS and set(effects.values()) == {1}


def test_the_conditional_update_is_what_keeps_it_once(app, database_url, due, effects, monkeypatch):
    """Replace the guard with a read-check-write and the effect runs more than once on PostgreSQL."""
    def read_check_write(task_id, now, outcome):
        done_at = db.session.scalar(select(ScheduledTask.done_at).where(ScheduledTask.id == task_id))
        if done_at is not None:
            return False
        time.sleep(0.2)  # widen the window between the check and the write
        db.session.execute(update(ScheduledTask).where(ScheduledTask.id == task_id)
                           .values(done_at=now, outcome=outcome))
        return True

    monkeypatch.setattr(periodic, "_mark_done", read_check_write)
    ids, now = due
    tick_together(app, now)

    if database_url.startswith("postgresql"):
        # Every worker read "not done" before any committed: the summary was queued again by a
        # second worker (the outbox's unique idempotency key refused the extra rows, which is
        # a second line of defence, not the guard: a task whose effect is not one keyed row
        # would have been done twice).
        assert max(effects.values()) > 1, effects
    else:
        # SQLite: each task's transaction begins with BEGIN IMMEDIATE (the worker's write
        # intent), so the ticks are serialised and even the naive check sees the first
        # worker's commit. On SQLite the write intent is the guard; the conditional UPDATE is
        # what makes PostgreSQL (and any database without a single writer) safe.
        assert set(effects.values()) == {1}, effects
    assert len(summaries()) == EVENTS  # never two rows for one logical message
