"""Several workers polling the outbox at the same moment send every message exactly once."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import select

from eventreg import clock
from eventreg.domain.registration import register
from eventreg.extensions import db
from eventreg.models import OutboxMessage, OutboxStatus
from eventreg.worker import deliver_due

from ..factories import applicant

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
