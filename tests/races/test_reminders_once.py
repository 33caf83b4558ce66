"""Three workers tick at the same moment: each person gets each reminder once.

Each worker is a thread calling ``eventreg.worker.tick`` as the worker loop does (its own app
context, session and connection; SQLite's write intent only inside tick). Two guards keep it once:

- the task's conditional "done" UPDATE (``periodic._mark_done``), in the same transaction as the
  reminder's outbox rows: only the worker whose UPDATE found the task pending queues anything;
- the outbox's unique idempotency key ``reminder:<task>:<registration>`` with ``ON CONFLICT DO
  NOTHING``: a second queueing of the same reminder adds no row.

The tests below take each away in turn. On PostgreSQL, without the conditional UPDATE the effect
runs in several workers (the keys still hold it to one row each), and without both, people get
the reminder several times. On SQLite the write lock serialises the ticks, so nothing breaks.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from eventreg.domain.communication import reminders
from eventreg.domain.timing import periodic
from eventreg.extensions import db
from eventreg.models import MailKind, OutboxMessage, ScheduledTask, TaskKind
from eventreg.worker import tick

from .. import factories
from .test_periodic_once import tick_together

PEOPLE = 12


@pytest.fixture
def due(make_event):
    """A session with PEOPLE confirmed people, two waiting and one cancelled; its reminder due a
    minute ago. Returns (confirmed registration ids, now)."""
    from eventreg.domain.registration import signup

    event = make_event(capacity=PEOPLE)
    confirmed = [factories.register_person(event).id for _ in range(PEOPLE)]
    factories.register_person(event), factories.register_person(event)  # the waiting list
    signup.cancel(factories.register_person(event), now=datetime.now(timezone.utc))
    task = db.session.scalar(select(ScheduledTask).where(ScheduledTask.kind == TaskKind.reminder))
    now = task.due_at + timedelta(minutes=1)
    db.session.commit()  # end the read: the workers need the (SQLite) write lock
    return confirmed, now


@pytest.fixture
def effects(monkeypatch):
    """How many times the reminder's effect ran (counted before the database sees it)."""
    calls: Counter = Counter()
    lock = threading.Lock()
    real = reminders.queue

    def counting(task, session, now):
        with lock:
            calls[task.id] += 1
        return real(task, session, now)

    monkeypatch.setattr(reminders, "queue", counting)
    return calls


def per_person() -> Counter:
    db.session.expire_all()
    return Counter(db.session.scalars(select(OutboxMessage.registration_id)
                                      .where(OutboxMessage.kind == MailKind.reminder)).all())


def naive_mark_done(task_id, now, outcome):
    """Reads done_at, checks it in Python, writes unconditionally."""
    done_at = db.session.scalar(select(ScheduledTask.done_at).where(ScheduledTask.id == task_id))
    if done_at is not None:
        return False
    time.sleep(0.2)  # widen the window between the check and the write
    db.session.execute(update(ScheduledTask).where(ScheduledTask.id == task_id).values(done_at=now, outcome=outcome))
    return True


def without_keys(monkeypatch):
    """Every queueing gets keys of its own, as if the outbox had no idempotency key."""
    monkeypatch.setattr(reminders, "key", lambda task_id, registration_id:
                        f"reminder:{task_id}:{registration_id}:{uuid.uuid4().hex}")


def test_three_workers_remind_each_confirmed_person_once(app, due, effects):
    confirmed, now = due
    results = tick_together(app, now)

    assert sum(result["done"] for result in results) == 1
    assert not any(result["error"] for result in results)
    assert per_person() == Counter({registration_id: 1 for registration_id in confirmed})
    assert list(effects.values()) == [1]
    task = db.session.scalar(select(ScheduledTask).where(ScheduledTask.kind == TaskKind.reminder))
    assert (task.done_at, task.outcome) == (now, "done")
    db.session.commit()
    assert tick(app, now=now + timedelta(hours=1))["done"] == 0  # a restart, the next tick: nothing
    assert per_person() == Counter({registration_id: 1 for registration_id in confirmed})


def test_without_the_conditional_update_the_keys_still_hold_it_to_one_each(app, database_url, due, effects,
                                                                           monkeypatch):
    monkeypatch.setattr(periodic, "_mark_done", naive_mark_done)
    confirmed, now = due
    tick_together(app, now)
    if database_url.startswith("postgresql"):
        assert max(effects.values()) > 1, effects  # several workers queued the reminder ...
    else:
        assert list(effects.values()) == [1]  # SQLite: BEGIN IMMEDIATE serialised the ticks
    assert per_person() == Counter({registration_id: 1 for registration_id in confirmed})  # ... once each


def test_without_the_keys_the_conditional_update_holds_it_to_one_each(app, due, effects, monkeypatch):
    without_keys(monkeypatch)
    confirmed, now = due
    tick_together(app, now)
    assert list(effects.values()) == [1]
    assert per_person() == Counter({registration_id: 1 for registration_id in confirmed})


def test_without_both_guards_people_get_the_reminder_several_times(app, database_url, due, effects, monkeypatch):
    monkeypatch.setattr(periodic, "_mark_done", naive_mark_done)
    without_keys(monkeypatch)
    confirmed, now = due
    tick_together(app, now)
    counts = per_person()
    assert set(counts) == set(confirmed)
    if database_url.startswith("postgresql"):
        assert max(counts.values()) > 1, counts  # the guards are what kept it once
    else:
        assert set(counts.values()) == {1}  # SQLite: the write lock is the guard
