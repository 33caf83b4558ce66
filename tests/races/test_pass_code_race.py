"""The worker keeps a pass's QR code in the transaction that records its mail as sent. When
another process keeps the same pass's code first (a second worker, a badge sheet), the unique key
turns the worker's row away: that must cost only the duplicate row, never the record of a mail
already sent (which would send it again). PostgreSQL only: there the two run side by side; on
SQLite the write lock queues them and the worker sees the other's row."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import select, text

from eventreg import clock
from eventreg.adapters import qr
from eventreg.domain.registration import passes
from eventreg.domain.registration.signup import register
from eventreg.extensions import db
from eventreg.models import OutboxMessage, OutboxStatus, PassQr
from eventreg.worker import deliver_due

from ..factories import applicant

pytestmark = pytest.mark.skipif(
    os.environ.get("EVENTREG_TEST_DB", "sqlite") != "postgresql",
    reason="two writers side by side need PostgreSQL; SQLite queues them",
)


def waiting_for_a_lock() -> bool:
    with db.engine.connect() as probe:
        return bool(probe.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                      "AND datname = current_database()")))


def test_a_code_kept_first_elsewhere_does_not_undo_the_sending(app, make_event, smtp_server):
    person = register(make_event().sessions[0], applicant(), now=clock.utcnow()).registration
    db.session.commit()
    payload = passes.qr_payload(person)
    symbol = qr.symbol(payload)

    # The other process: its row is written but not committed while the worker sends.
    other = db.engine.connect()
    other.execute(PassQr.__table__.insert().values(registration_id=person.id, payload=payload,
                                                   size=symbol.size, path=symbol.path))
    outcome: dict = {}

    def work():
        try:
            with app.app_context():
                outcome["sent"] = deliver_due(app, worker_id="worker")
        except BaseException as exc:  # surfaced below
            outcome["error"] = exc

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 60
    while not waiting_for_a_lock() and worker.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)  # until the worker's insert waits on the other's row
    assert worker.is_alive(), outcome  # it did wait: the two really met
    other.commit()
    other.close()
    worker.join(timeout=60)

    assert "error" not in outcome, outcome["error"]
    assert outcome["sent"] == 1 and len(smtp_server.received) == 1
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.status)) == OutboxStatus.sent  # not sent again later
    assert [row.payload for row in db.session.scalars(select(PassQr))] == [payload]
