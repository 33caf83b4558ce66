"""A 2,000-recipient message queued twice at once makes 2,000 rows; a message delivered by a real
worker process that is killed with SIGKILL several times reaches every recipient and nobody else.

- Two threads queue the same message at the same moment (two clicks, or two workers' ticks), each
  in its own app context and transaction as the web edge and the worker do: one queues 2,000
  outbox rows, the other nothing. Then each guard is taken away in turn (as test_guards_matter.py
  does): without the conditional UPDATE both callers "queue" it (on PostgreSQL; SQLite's write
  lock serialises them), and the idempotency key's ON CONFLICT is what still keeps it at 2,000;
  without both, every recipient is queued twice.
- ``flask --app wsgi worker`` runs as a separate process against the test database and delivers
  a 300-recipient message to an aiosmtpd server (2,000 took a minute and proved no more: what
  matters is that kills land mid-batch, which the test checks); it is killed with SIGKILL three
  times mid-delivery and started again. With a 2-second lease (EVENTREG_OUTBOX_LEASE_SECONDS) a
  dead worker's claims return quickly. In the end every address received the message; a
  duplicate is allowed only for a message whose send had started when the worker died (the
  at-least-once case of docs/how-it-works.md: at most one batch per kill), always with the same Message-ID; the
  cancelled, the checked-in and the people of the other session received nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, insert, select, update

from eventreg.domain.backoffice.roster import ListFilter
from eventreg.domain.communication import attendee_messages, outbox
from eventreg.extensions import db
from eventreg.models import AttendeeMessage, OutboxMessage, OutboxStatus, Registration, Status
from eventreg.sqlite import writing

from .. import factories, processes
from ..smtp import SMTPRecorder

RECIPIENTS = 2000
DELIVERED = 300  # recipients of the message the killed workers deliver
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
KILLS = 3
BATCH = 5  # deliver_due's default batch: what one killed worker can have in flight


def big_event(extra: bool = False, people: int = RECIPIENTS):
    """An event whose first session has ``people`` confirmed people (and, with ``extra``, a few
    who must not get the message: cancelled, checked in, and a second session's)."""
    start = factories.in_days(14)
    event = factories.make_event(sessions=[
        {"title": "第1回", "date": start.date().isoformat(), "start": "14:00", "end": "16:00", "capacity": people + 10},
        {"title": "第2回", "date": start.date().isoformat(), "start": "17:00", "end": "18:00", "capacity": 10},
    ])
    factories.bulk_confirmed(event.sessions[0], people)
    excluded = []
    if extra:
        now = datetime.now(timezone.utc)
        excluded = [factories.register_person(event, 0, email=f"cancelled{i}@example.org") for i in range(2)]
        for person in excluded:
            db.session.execute(update(Registration).where(Registration.id == person.id)
                               .values(status=Status.cancelled, cancelled_at=now))
        arrived = factories.register_person(event, 0, email="arrived@example.org")
        db.session.execute(update(Registration).where(Registration.id == arrived.id).values(checked_in_at=now))
        excluded += [arrived, factories.register_person(event, 1, email="second@example.org")]
        db.session.commit()
    flt = ListFilter(session_id=event.sessions[0].id, status="not_arrived")
    message = attendee_messages.save_draft(event, subject="【ご案内】{name}様", body="{name} 様\n明日お待ちしています。\n{pass_link}",
                                  flt=flt, actor=None, now=datetime.now(timezone.utc))
    db.session.commit()
    found = event, message.id, [p.email for p in excluded]
    db.session.commit()  # end the read those attributes began: the threads and the worker write
    return found


def queue_together(app, message_id: int, callers: int = 2) -> list:
    barrier = threading.Barrier(callers)
    results, errors = [], []

    def call():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                with writing():
                    results.append(attendee_messages.queue(message_id, datetime.now(timezone.utc)))
                    db.session.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def rows_of(message_id: int) -> int:
    db.session.commit()  # a fresh snapshot (SQLite WAL keeps the old one inside a transaction)
    count = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.attendee_message_id == message_id))
    db.session.commit()
    return count


def test_queuing_twice_at_once_makes_2000_rows(app, ctx):
    _event, message_id, _ = big_event()
    results = queue_together(app, message_id)
    assert sorted(results, key=str) == sorted([RECIPIENTS, None], key=str)
    assert rows_of(message_id) == RECIPIENTS
    db.session.commit()
    message = db.session.get(AttendeeMessage, message_id)
    assert message.recipient_count == RECIPIENTS


def naive_claim(message_id, now, *, due_only):
    """Reads the status, checks it in Python, writes unconditionally (a newcomer's version)."""
    status = db.session.scalar(select(AttendeeMessage.status).where(AttendeeMessage.id == message_id))
    time.sleep(0.2)
    if status not in ("draft", "scheduled"):
        return False
    db.session.execute(update(AttendeeMessage).where(AttendeeMessage.id == message_id)
                       .values(status="queued", queued_at=now))
    return True


def test_without_the_conditional_update_the_key_is_what_holds(app, ctx, monkeypatch, dialect):
    monkeypatch.setattr(attendee_messages, "_claim", naive_claim)
    _event, message_id, _ = big_event()
    results = queue_together(app, message_id)
    if dialect == "postgresql":
        assert results.count(None) == 0  # both callers think they queued it …
        assert sorted(results) == [0, RECIPIENTS]  # … and ON CONFLICT DO NOTHING made the second add nothing
    else:
        assert None in results  # SQLite's write lock, taken up front, serialised the two
    assert rows_of(message_id) == RECIPIENTS


def test_without_both_guards_everyone_is_queued_twice(app, ctx, monkeypatch, dialect):
    monkeypatch.setattr(attendee_messages, "_claim", naive_claim)

    def keyless(rows):  # a plain insert, no idempotency key: nothing can conflict
        db.session.execute(insert(OutboxMessage), [{**row, "idempotency_key": None} for row in rows])
        return len(rows)

    monkeypatch.setattr(outbox, "insert_once", keyless)
    _event, message_id, _ = big_event()
    queue_together(app, message_id)
    if dialect == "postgresql":
        assert rows_of(message_id) == 2 * RECIPIENTS  # every recipient would get it twice
    else:
        assert rows_of(message_id) == RECIPIENTS  # not visible: the write lock


# --- a real worker process, killed several times -------------------------------------------


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return processes.spawn([str(BIN / "flask"), "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                               stdout=out, stderr=subprocess.STDOUT)


def claimed_unsent(message_id: int) -> int:
    db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.attendee_message_id == message_id, OutboxMessage.status == OutboxStatus.pending,
        OutboxMessage.claimed_until > datetime.now(timezone.utc)))
    db.session.commit()
    return count


def sent_rows(message_id: int) -> int:
    db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.attendee_message_id == message_id, OutboxMessage.status == OutboxStatus.sent))
    db.session.commit()
    return count


def test_a_worker_killed_mid_send_delivers_every_recipient(app, ctx, database_url, tmp_path):
    event, message_id, excluded = big_event(extra=True, people=DELIVERED)
    assert attendee_messages.queue(message_id, datetime.now(timezone.utc)) == DELIVERED
    db.session.commit()
    expected = {f"bulk{i}.{event.sessions[0].id}@example.org" for i in range(DELIVERED)}
    smtp = SMTPRecorder().start()
    env = {**os.environ, "EVENTREG_ENV": "development", "EVENTREG_SQLALCHEMY_DATABASE_URI": database_url,
           "EVENTREG_MAIL_SERVER": "127.0.0.1", "EVENTREG_MAIL_PORT": str(smtp.port),
           "EVENTREG_OUTBOX_LEASE_SECONDS": "2", "EVENTREG_OUTBOX_POLL_SECONDS": "0.2",
           "EVENTREG_BASE_URL": "http://testserver", "EVENTREG_INSTANCE_PATH": str(tmp_path / "instance")}
    log = tmp_path / "worker.log"
    worker = None
    stranded = 0  # rows a killed worker had claimed and not sent: the lease must bring them back
    started = time.monotonic()
    try:
        for kill in range(1, KILLS + 1):
            worker = start_worker(env, log)
            target = kill * DELIVERED // (KILLS + 1)
            while len(smtp.received) < target:  # killed in the middle of delivering
                assert worker.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() - started < 240, f"too slow: {len(smtp.received)} sent"
                time.sleep(0.05)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            stranded += claimed_unsent(message_id)
        worker = start_worker(env, log)
        while sent_rows(message_id) < DELIVERED:
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() - started < 300, f"too slow: {sent_rows(message_id)} marked sent"
            time.sleep(0.2)
    finally:
        if worker is not None:
            processes.stop(worker)
        smtp.stop()
    received = [m for m in smtp.received if ".message@" in m["Message-ID"]]  # not the confirmations
    by_address = Counter(m["To"].addresses[0].addr_spec for m in received)
    assert set(by_address) == expected  # everyone, and nobody else
    assert not set(excluded) & set(by_address)
    twice = {address: n for address, n in by_address.items() if n > 1}
    assert len(twice) <= KILLS * BATCH, twice  # only what was in flight when a worker died
    for address in twice:  # a repeat is the same message, with the same Message-ID
        assert len({m["Message-ID"] for m in received if m["To"].addresses[0].addr_spec == address}) == 1
    assert all(m["Subject"].startswith("【ご案内】") and "様" in m["Subject"] for m in received)
    assert stranded > 0, "no kill left a claimed batch behind: the lease was never needed"
    print(f"\n{len(received)} emails for {DELIVERED} recipients ({len(twice)} repeated), "
          f"{KILLS} kills, {time.monotonic() - started:.1f} s")
