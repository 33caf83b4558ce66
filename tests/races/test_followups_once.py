"""Three workers tick at the same moment after a session: each confirmed no-show gets the note once.

Each worker is a thread calling ``eventreg.worker.tick`` as the worker loop does (its own app
context, session and connection). Two guards keep it once, as for reminders:

- the followup task's conditional "done" UPDATE (``periodic._mark_done``), in the same
  transaction as the loop's outbox rows: only the worker whose UPDATE found the task pending queues;
- the outbox's unique key ``followup:<part>:<registration>`` with ``ON CONFLICT DO NOTHING``.

The tests break each in turn and then both: on PostgreSQL, without both, people get the note
several times, which is what the guards prevent. On SQLite the write lock serialises the ticks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from eventreg.domain.communication import followups
from eventreg.domain.reception import checkin
from eventreg.domain.registration import signup
from eventreg.domain.timing import periodic
from eventreg.extensions import db
from eventreg.models import MailKind, OutboxMessage, ScheduledTask, TaskKind
from eventreg.worker import tick

from .. import factories, processes
from .test_periodic_once import tick_together
from .test_reminders_once import naive_mark_done

PEOPLE = 12
CAME = 5
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def due(make_event):
    """A session with PEOPLE confirmed (CAME of them checked in), two waiting, one cancelled; the
    no-show part on and the loop due a minute ago. Returns (no-show ids, now)."""
    now = datetime.now(timezone.utc)
    event = make_event(capacity=PEOPLE)
    confirmed = [factories.register_person(event) for _ in range(PEOPLE)]
    factories.register_person(event), factories.register_person(event)  # the waiting list
    signup.cancel(factories.register_person(event), now=now)
    for registration in confirmed[:CAME]:
        checkin.check_in(registration, session_id=None, desk="受付1", now=now)
    followups.update(event, rule="end+30m", parts={"noshow": True}, noshow_text="資料です", materials_url="",
                     actor=None, now=now)
    db.session.commit()
    task = db.session.scalar(select(ScheduledTask).where(ScheduledTask.kind == TaskKind.followup))
    moment, noshows = task.due_at + timedelta(minutes=1), [r.id for r in confirmed[CAME:]]
    db.session.commit()  # end the read: the workers need the (SQLite) write lock, and a fresh snapshot
    return noshows, moment


@pytest.fixture
def effects(monkeypatch):
    """How many times the loop's effect ran."""
    calls: Counter = Counter()
    lock = threading.Lock()
    real = followups.queue

    def counting(event, session, now):
        with lock:
            calls[session.id] += 1
        return real(event, session, now)

    monkeypatch.setattr(followups, "queue", counting)
    return calls


def per_person() -> Counter:
    db.session.expire_all()
    return Counter(db.session.scalars(select(OutboxMessage.registration_id)
                                      .where(OutboxMessage.kind == MailKind.followup_noshow)).all())


def without_keys(monkeypatch):
    """Every queueing gets keys of its own, as if the outbox had no idempotency key."""
    monkeypatch.setattr(followups, "key", lambda part, registration_id:
                        f"followup:{part}:{registration_id}:{uuid.uuid4().hex}")


def test_three_workers_send_each_noshow_the_note_once(app, due, effects):
    noshows, now = due
    results = tick_together(app, now)  # the reminder and the deadline summary are due too
    assert not any(result["error"] for result in results)
    db.session.expire_all()
    task = db.session.scalar(select(ScheduledTask).where(ScheduledTask.kind == TaskKind.followup))
    assert (task.done_at, task.outcome) == (now, "done")
    assert per_person() == Counter({registration_id: 1 for registration_id in noshows})
    assert list(effects.values()) == [1]
    db.session.commit()
    assert tick(app, now=now + timedelta(hours=1))["done"] == 0  # a restart, the next tick: nothing
    assert per_person() == Counter({registration_id: 1 for registration_id in noshows})


def test_three_worker_processes_send_each_noshow_the_note_once(app, database_url, due, tmp_path):
    """Three real processes (``flask tick``, what the worker loop runs each minute), started together
    with the development clock fixed a minute after the loop is due."""
    noshows, now = due
    environment = dict(os.environ, EVENTREG_ENV="development", EVENTREG_INSTANCE_PATH=str(tmp_path),
                       EVENTREG_SQLALCHEMY_DATABASE_URI=database_url, EVENTREG_CLOCK=now.isoformat(),
                       EVENTREG_MAIL_PORT="1")
    started = [processes.spawn([sys.executable, "-m", "flask", "--app", "wsgi", "tick"], cwd=ROOT, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    try:
        outputs = [process.communicate(timeout=120)[0] for process in started]
    finally:
        processes.stop(*started)
    assert [process.returncode for process in started] == [0, 0, 0], outputs
    assert per_person() == Counter({registration_id: 1 for registration_id in noshows})
    db.session.expire_all()
    task = db.session.scalar(select(ScheduledTask).where(ScheduledTask.kind == TaskKind.followup))
    assert (task.done_at, task.outcome) == (now, "done")


def test_without_the_conditional_update_the_keys_still_hold_it_to_one_each(app, database_url, due, effects,
                                                                           monkeypatch):
    monkeypatch.setattr(periodic, "_mark_done", naive_mark_done)
    noshows, now = due
    tick_together(app, now)
    if database_url.startswith("postgresql"):
        assert max(effects.values()) > 1, effects  # several workers ran the loop ...
    else:
        assert list(effects.values()) == [1]  # SQLite: BEGIN IMMEDIATE serialised the ticks
    assert per_person() == Counter({registration_id: 1 for registration_id in noshows})  # ... once each


def test_without_the_keys_the_conditional_update_holds_it_to_one_each(app, due, effects, monkeypatch):
    without_keys(monkeypatch)
    noshows, now = due
    tick_together(app, now)
    assert list(effects.values()) == [1]
    assert per_person() == Counter({registration_id: 1 for registration_id in noshows})


def test_without_both_guards_people_get_the_note_several_times(app, database_url, due, effects, monkeypatch):
    monkeypatch.setattr(periodic, "_mark_done", naive_mark_done)
    without_keys(monkeypatch)
    noshows, now = due
    tick_together(app, now)
    counts = per_person()
    assert set(counts) == set(noshows)
    if database_url.startswith("postgresql"):
        assert max(counts.values()) > 1, counts  # the guards are what kept it once
    else:
        assert set(counts.values()) == {1}  # SQLite: the write lock is the guard


def test_three_workers_send_all_three_parts_once_each(app, make_event):
    """Survey invitation and certificate to each who came, the note to each who did not: once each,
    one certificate each."""
    from eventreg.domain.insight import surveys
    from eventreg.models import Certificate

    now = datetime.now(timezone.utc)
    event = make_event(capacity=PEOPLE)
    confirmed = [factories.register_person(event) for _ in range(PEOPLE)]
    for registration in confirmed[:CAME]:
        checkin.check_in(registration, session_id=None, desk="受付1", now=now)
    surveys.create_survey(event, with_defaults=True, title="アンケート", actor=None, now=now)
    followups.update(event, rule="end+30m", parts={"survey": True, "noshow": True, "certificate": True},
                     noshow_text="", materials_url="", actor=None, now=now)
    came, noshows = [r.id for r in confirmed[:CAME]], [r.id for r in confirmed[CAME:]]
    moment = event.sessions[0].ends_at + timedelta(minutes=31)
    db.session.commit()
    tick_together(app, moment)
    db.session.expire_all()
    sent = Counter(db.session.execute(select(OutboxMessage.registration_id, OutboxMessage.kind)
                                      .where(OutboxMessage.kind.in_(list(followups.KINDS.values())))).all())
    expected = Counter({(i, MailKind.followup_survey): 1 for i in came})
    expected.update({(i, MailKind.followup_certificate): 1 for i in came})
    expected.update({(i, MailKind.followup_noshow): 1 for i in noshows})
    assert sent == expected
    assert sorted(db.session.scalars(select(Certificate.registration_id))) == came
