"""Three workers tick at once on events past their retention: each event is purged once.

The guard is the conditional ``UPDATE event SET purged_at = … WHERE purged_at IS NULL``
(domain.privacy.retention._claim); replaced by a read-check-write, PostgreSQL purges an event twice."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from eventreg.domain.privacy import retention
from eventreg.extensions import db
from eventreg.models import AuditEntry, Event

from .. import factories
from .test_periodic_once import tick_together

EVENTS = 3


@pytest.fixture
def past(make_event):
    events = [make_event(start=factories.in_days(-200), reminders=[]) for _ in range(EVENTS)]
    now = max(retention.purge_at(e) for e in events) + timedelta(minutes=1)
    db.session.commit()
    return [e.id for e in events], now


@pytest.fixture
def purges(monkeypatch):
    calls: Counter = Counter()
    lock = threading.Lock()
    real = retention.anonymise

    def counting(regs, now):
        with lock:
            calls[threading.current_thread().name] += 1
        return real(regs, now)

    monkeypatch.setattr(retention, "anonymise", counting)
    return calls


def _entries() -> int:
    db.session.rollback()  # a fresh read: the workers committed in their own sessions
    return len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "personal_data_purged")).all())


def test_three_workers_purge_each_event_once(app, past, purges):
    ids, now = past
    results = tick_together(app, now)
    assert sum(r["retention"] for r in results) >= EVENTS and not any(r["error"] for r in results)
    assert sum(purges.values()) == EVENTS
    assert _entries() == EVENTS
    assert all(e.purged_at == now for e in db.session.scalars(select(Event).where(Event.id.in_(ids))))


def test_the_conditional_update_is_what_keeps_it_once(app, database_url, past, purges, monkeypatch):
    def read_check_write(event_id, now):
        if db.session.scalar(select(Event.purged_at).where(Event.id == event_id)) is not None:
            return False
        time.sleep(0.2)
        db.session.execute(update(Event).where(Event.id == event_id).values(purged_at=now))
        return True

    monkeypatch.setattr(retention, "_claim", read_check_write)
    ids, now = past
    tick_together(app, now)
    if database_url.startswith("postgresql"):
        assert sum(purges.values()) > EVENTS, purges  # an event purged by several workers
    else:
        assert sum(purges.values()) == EVENTS  # SQLite: BEGIN IMMEDIATE serialises the ticks
