"""Several workers polling the outbox at the same moment send every message exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventreg import clock
from eventreg.domain.communication import outbox
from eventreg.domain.registration.signup import register
from eventreg.extensions import db
from eventreg.models import MailKind, OutboxMessage, OutboxStatus
from eventreg.sqlite import writing
from eventreg.worker import deliver_due

from ..factories import applicant
from .edge import interleaved

MESSAGES = 40
WORKERS = 4


def test_concurrent_workers_deliver_each_message_once(app, make_event, smtp_server):
    event = make_event(capacity=MESSAGES)
    now = clock.utcnow()
    for _ in range(MESSAGES):
        register(event.sessions[0], applicant(), now=now)
    db.session.commit()
    expected = {f"<{left}@eventreg.localhost>" for left in db.session.scalars(select(OutboxMessage.message_id))}
    db.session.commit()  # end the read: workers need the (SQLite) write lock
    assert len(expected) == MESSAGES

    barrier = threading.Barrier(WORKERS)
    sent_by: dict[str, int] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                total = 0
                # Small batches, so the workers keep meeting at the claim.
                while (sent := deliver_due(app, worker_id=name, batch=3)) > 0:
                    total += sent
                sent_by[name] = total
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"worker-{i}",)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    received = Counter(smtp_server.message_ids())
    assert set(received) == expected
    assert max(received.values()) == 1  # nothing sent twice
    assert sum(sent_by.values()) == MESSAGES
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert all(row.status == OutboxStatus.sent and row.attempts == 1 for row in rows)
    assert Counter(row.claimed_by for row in rows) == Counter(
        {name: count for name, count in sent_by.items() if count}
    )


# --- A worker that dies: its mail waits one lease (a minute), and only real tries count -----

LEASE = 60  # OUTBOX_LEASE_SECONDS in the test config


def _queue(event, count: int):
    now = clock.utcnow()
    for _ in range(count):
        register(event.sessions[0], applicant(), now=now)
    db.session.commit()
    return now


def _rows():
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    db.session.commit()
    return rows


def _deliver_all(app, worker: str, now) -> int:
    total = 0
    while (sent := deliver_due(app, worker_id=worker, now=now)) > 0:
        total += sent
    return total


def test_a_dead_workers_batch_is_delivered_within_a_minute(app, make_event, smtp_server):
    assert app.config["OUTBOX_LEASE_SECONDS"] == LEASE
    now = _queue(make_event(), 20)
    with writing():
        claimed = outbox.claim("dead-worker", now, lease_seconds=LEASE, limit=20)
        db.session.commit()
    assert len(claimed) == 20  # ... and then the worker dies without trying any

    assert _deliver_all(app, "live-worker", now + timedelta(seconds=LEASE - 1)) == 0  # still its lease
    assert _deliver_all(app, "live-worker", now + timedelta(seconds=LEASE + 1)) == 20
    rows = _rows()
    assert all(r.status == OutboxStatus.sent and r.claimed_by == "live-worker" for r in rows)
    assert [r.attempts for r in rows] == [1] * 20  # the claims that were never tried did not count
    assert len(set(smtp_server.message_ids())) == 20


def test_a_worker_that_dies_mid_send_leaves_its_message_for_a_minute(app, make_event, smtp_server):
    now = _queue(make_event(), 1)
    with writing():
        [message_id] = outbox.claim("dead-worker", now, lease_seconds=LEASE)
        assert outbox.start_attempt(message_id, "dead-worker", now + timedelta(seconds=30), lease_seconds=LEASE)
        db.session.commit()  # the attempt is counted (the SMTP server may have the message), then it dies

    assert _deliver_all(app, "live-worker", now + timedelta(seconds=30 + LEASE - 1)) == 0
    assert _deliver_all(app, "live-worker", now + timedelta(seconds=30 + LEASE + 1)) == 1
    [row] = _rows()
    assert row.status == OutboxStatus.sent and row.attempts == 2


def test_a_stopped_worker_gives_its_claims_back_at_once(app, make_event, smtp_server):
    now = _queue(make_event(), 3)
    stop = threading.Event()
    stop.set()  # SIGTERM arrives right after the claim
    assert deliver_due(app, worker_id="stopping", now=now, stop=stop) == 0
    assert all(r.claimed_until is None and r.attempts == 0 for r in _rows())
    assert _deliver_all(app, "other", now) == 3  # no wait for the lease
    assert [r.attempts for r in _rows()] == [1, 1, 1]


def test_a_lost_claim_is_not_sent(app, make_event, smtp_server):
    now = _queue(make_event(), 1)
    with writing():
        [message_id] = outbox.claim("slow", now, lease_seconds=LEASE)
        db.session.commit()
    later = now + timedelta(seconds=LEASE + 1)
    with writing():
        assert outbox.claim("fast", later, lease_seconds=LEASE) == [message_id]
        assert not outbox.start_attempt(message_id, "slow", later, lease_seconds=LEASE)  # no longer its claim
        assert outbox.start_attempt(message_id, "fast", later, lease_seconds=LEASE)
        db.session.commit()


def test_a_failure_reported_after_the_claim_was_lost_records_nothing(app, make_event, monkeypatch, dialect):
    """A slow worker's send failed; while it records that (read, then write), its lease has run
    out and another worker takes the message over and tries it. On PostgreSQL the two interleave:
    the slow worker's UPDATE, conditional on its claim and the attempt it counted, changes
    nothing, so the other's claim stands (an unconditional write cleared it, and a third worker
    could send the message again meanwhile). SQLite's write lock serialises the two."""
    now = _queue(make_event(), 1)
    with writing():
        [message_id] = outbox.claim("slow", now, lease_seconds=LEASE)
        assert outbox.start_attempt(message_id, "slow", now, lease_seconds=LEASE)
        db.session.commit()
    later = now + timedelta(seconds=LEASE + 1)

    def in_own_context(work):
        def run():
            with app.app_context(), writing():
                done = work()
                db.session.commit()
                return done
        return run

    def fail():
        return outbox.mark_failed(message_id, "slow", later, "timed out", max_attempts=5)

    def take_over():
        return outbox.claim("fast", later, lease_seconds=LEASE) == [message_id] and \
            outbox.start_attempt(message_id, "fast", later, lease_seconds=LEASE)

    recorded, taken = interleaved(monkeypatch, outbox, "backoff", in_own_context(fail), in_own_context(take_over))
    [row] = _rows()
    if dialect == "postgresql":  # the take-over came in between: the late failure is not recorded
        assert (row.claimed_by, row.attempts, row.last_error) == ("fast", 2, None)
        assert row.claimed_until == later + timedelta(seconds=LEASE)
        assert (recorded, taken) == (False, True)
    else:  # the failure was recorded first, so the message waits for its retry: nobody takes it
        assert (recorded, taken) == (True, False)
        assert (row.claimed_by, row.attempts, row.last_error, row.claimed_until) == ("slow", 1, "timed out", None)


def test_claims_skip_rows_another_worker_has_locked(app, make_event, smtp_server, database_url):
    """PostgreSQL: FOR UPDATE SKIP LOCKED; a claim neither waits for nor takes a locked row."""
    if not database_url.startswith("postgresql"):
        # The feature under test exists only on PostgreSQL; on SQLite claims are serialised by the
        # write lock, which the four-worker race above proves on both databases.
        pytest.skip("SQLite has no row locks: its write lock serialises claims (see the race above)")
    now = _queue(make_event(), 4)
    ids = [r.id for r in _rows()]
    with db.engine.connect() as other:
        other.execute(select(OutboxMessage.id).where(OutboxMessage.id.in_(ids[:2])).with_for_update())
        result: list = []
        thread = threading.Thread(target=lambda: result.append(_claim_in_thread(app, now)))
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the claim waited for a locked row"
        other.rollback()
    assert result == [ids[2:]]


def _claim_in_thread(app, now):
    with app.app_context():
        ids = outbox.claim("skipper", now, lease_seconds=LEASE, limit=10)
        db.session.commit()
        return ids


def test_the_same_idempotency_key_at_once_makes_one_row(app, make_event):
    event_id = make_event().id
    db.session.commit()
    barrier = threading.Barrier(WORKERS)
    created: list[bool] = []
    errors: list[BaseException] = []

    def ask(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                with writing():
                    created.append(outbox.enqueue(
                        None, MailKind.deadline_summary, clock.utcnow(), to_address="office@example.org",
                        context={"event_id": event_id, "n": n}, idempotency_key=f"deadline_summary:event:{event_id}",
                    ))
                    db.session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(created) == [False] * (WORKERS - 1) + [True]
    assert len(_rows()) == 1
