"""The worker: delivers the outbox, runs the periodic tick, and does background jobs.

An edge like cli.py: it reads the clock and commits. Transactions are kept short and never
span rendering or SMTP; the ones that write take SQLite's write lock up front (sqlite.writing).

- ``deliver_due``: claims due messages, renders and sends them, records the outcome;
- ``tick``: at least once a minute (TICK_SECONDS), the scheduled tasks that are due
  (domain.periodic), each in its own transaction, each done once however many workers run;
- ``run_job``: claims one background job (domain.jobs), e.g. a badge sheet, does it while
  reporting progress (which renews its lease) and stores the result.

Delivery is at least once: a message is marked sent after the SMTP server accepted it, so a
crash between the two (or a lost claim after a lease longer than any send) can repeat it;
the Message-ID stays the same on every attempt. Run one or several workers; the conditional
claim in domain.outbox keeps two workers from sending the same message at the same time.
"""

from __future__ import annotations

import logging
import os
import signal
import smtplib
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from . import clock
from .adapters import mail
from .sqlite import writing
from .domain import jobs, outbox, passes, periodic
from .extensions import db
from .models import Event, Job, JobKind, OutboxMessage

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def deliver_due(
    app: Flask,
    *,
    worker_id: str,
    now: datetime | None = None,
    batch: int = 20,
    stop: threading.Event | None = None,
) -> int:
    """Delivers up to ``batch`` due messages; returns how many the SMTP server accepted.

    Runs in its own app context (and so its own database session); the caller must not hold
    an open write transaction on SQLite. Stops between messages once ``stop`` is set, or once
    half the lease has gone by (a slow SMTP server must not let another worker re-claim a
    message this one is about to send); messages it claimed but did not try go back to the
    queue when their lease runs out.
    """
    lease = float(app.config["OUTBOX_LEASE_SECONDS"])
    with app.app_context():
        now = now or clock.utcnow()
        with writing():
            ids = outbox.claim(worker_id, now, lease_seconds=lease, limit=batch)
            db.session.commit()
        give_up_at = time.monotonic() + lease / 2
        sent = 0
        for message_id in ids:
            if (stop is not None and stop.is_set()) or time.monotonic() > give_up_at:
                break
            sent += _deliver_one(app, message_id, worker_id, now)
        return sent


def _deliver_one(app: Flask, message_id: int, worker_id: str, now: datetime) -> bool:
    row = db.session.get(OutboxMessage, message_id)
    if row is None:  # its registration was deleted meanwhile
        db.session.rollback()
        return False
    kind, left = row.kind.value, row.message_id
    described = f"outbox #{message_id} ({kind}, registration #{row.registration_id}, attempt {row.attempts})"
    ctx = passes.pass_context(row.registration, app.config["BASE_URL"])
    db.session.rollback()  # end the read before the slow part; touch no ORM object after this
    try:
        mail.send(mail.build_message(ctx, kind, left))
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("%s not delivered: %s: %s", described, type(exc).__name__, exc)
        _failed(app, message_id, worker_id, now, f"{type(exc).__name__}: {exc}")
        return False
    except Exception as exc:  # a template or PDF bug: retried with back-off, then failed
        log.exception("%s could not be built", described)
        _failed(app, message_id, worker_id, now, f"{type(exc).__name__}: {exc}")
        return False
    with writing():
        if outbox.mark_sent(message_id, worker_id, now):
            log.info("%s sent", described)
        else:
            log.warning("%s sent, but its claim had passed to another worker", described)
        db.session.commit()
    return True


def _failed(app: Flask, message_id: int, worker_id: str, now: datetime, error: str) -> None:
    with writing():
        outbox.mark_failed(message_id, worker_id, now, error, max_attempts=app.config["OUTBOX_MAX_ATTEMPTS"])
        db.session.commit()


def tick(app: Flask, *, now: datetime | None = None, batch: int = 200) -> Counter:
    """Does the scheduled tasks due at ``now``; returns how many ended with each outcome.

    Nothing due costs one indexed query and no write lock. Each task is its own transaction
    (domain.periodic.do_task marks it done in the transaction of its effect); one that fails
    is logged and stays due for the next tick.
    """
    outcomes: Counter = Counter()
    with app.app_context():
        now = now or clock.utcnow()
        while True:
            ids = periodic.due_work(now, limit=batch)
            db.session.rollback()
            for task_id in ids:
                try:
                    with writing():
                        outcome = periodic.do_task(task_id, now)
                        db.session.commit()
                except Exception:  # a bug or a database error in one task must not stop the others
                    db.session.rollback()
                    log.exception("scheduled task #%d failed; it stays due", task_id)
                    outcomes["error"] += 1
                    continue
                if outcome:
                    outcomes[outcome] += 1
                    log.info("scheduled task #%d: %s", task_id, outcome)
            if len(ids) < batch or outcomes["error"]:
                return outcomes


class LostClaim(Exception):
    """The job was taken over by another worker (this one's lease had run out)."""


def run_job(app: Flask, *, worker_id: str, now: datetime | None = None) -> int | None:
    """Claims one job and does it; returns its id (None: no job was waiting).

    Progress is recorded after each step in a short transaction of its own, which renews the
    lease; if the job was taken over meanwhile, this worker stops. ``now`` fixes the time of
    every write (tests); by default each write reads the clock.
    """
    lease = float(app.config["JOB_LEASE_SECONDS"])
    stamp: Callable[[], datetime] = (lambda: now) if now else clock.utcnow
    with app.app_context():
        with writing():
            job_id = jobs.claim(worker_id, stamp(), lease_seconds=lease)
            db.session.commit()
        if job_id is None:
            return None
        job = db.session.get(Job, job_id)
        described = f"job #{job_id} ({job.kind.value}, event #{job.event_id}, attempt {job.attempts})"
        log.info("%s started", described)

        def report(done: int, total: int | None = None) -> None:
            with writing():
                owned = jobs.progress(job_id, worker_id, stamp(), done, lease_seconds=lease, total=total)
                db.session.commit()
            if not owned:
                raise LostClaim(job_id)

        try:
            filename, content_type, data = _RUNNERS[job.kind](app, job, report)
            with writing():
                finished = jobs.finish(job_id, worker_id, stamp(), filename=filename,
                                       content_type=content_type, data=data)
                db.session.commit()
            if not finished:
                raise LostClaim(job_id)
        except LostClaim:
            db.session.rollback()
            log.warning("%s was taken over by another worker; stopped", described)
        except Exception:
            db.session.rollback()
            log.exception("%s failed", described)
            with writing():
                jobs.fail(job_id, worker_id, stamp())
                db.session.commit()
        else:
            log.info("%s done: %s, %d bytes", described, filename, len(data))
        return job_id


def _badge_contexts(app: Flask, event_id: int) -> tuple[str, list[dict]]:
    base = app.config["BASE_URL"]
    slug = db.session.get(Event, event_id).slug
    ctxs = [passes.pass_context(r, base) for r in jobs.badge_sheet_people(event_id)]
    return slug, ctxs


def _badge_sheet(app: Flask, job: Job, report: Callable[..., None]) -> tuple[str, str, bytes]:
    """The A4 badge sheet of the job's event, in furigana order; progress counts badges."""
    from .adapters import badges  # WeasyPrint-backed: loaded with the first job

    slug, ctxs = _badge_contexts(app, job.event_id)
    db.session.rollback()  # end the read before the slow part; touch no ORM object after this
    report(0, total=len(ctxs))
    body = badges.render_badge_sheet(ctxs, progress=report)
    return f"badges-{slug}.pdf", "application/pdf", body


_RUNNERS = {JobKind.badge_sheet: _badge_sheet}


def run(app: Flask, *, once: bool = False) -> None:
    """Delivers the outbox every OUTBOX_POLL_SECONDS, runs the tick every TICK_SECONDS and
    does queued jobs, until SIGTERM or Ctrl-C.

    With ``once``, delivers what is due now (batch after batch), ticks once, does the queued
    jobs and returns.
    """
    if not logging.getLogger().handlers:  # a bare `flask worker`: log to stderr
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not log.isEnabledFor(logging.INFO):
        log.setLevel(logging.INFO)
    worker_id = worker_name()
    poll = float(app.config["OUTBOX_POLL_SECONDS"])
    every = float(app.config["TICK_SECONDS"])
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("worker %s started (outbox every %.1f s, tick every %.0f s)", worker_id, poll, every)
    total = 0
    next_tick = time.monotonic()
    try:
        while not stop.is_set():
            sent, job = 0, None
            try:
                sent = deliver_due(app, worker_id=worker_id, stop=stop)
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + every
                    tick(app)
                job = run_job(app, worker_id=worker_id)
            except SQLAlchemyError:
                log.exception("database error; retrying in %.1f s", poll)
            total += sent
            if sent:
                log.info("sent %d message(s), %d since start", sent, total)
            if sent or job is not None:  # more may be due: look again at once
                continue
            if once:
                break
            stop.wait(max(0.0, min(poll, next_tick - time.monotonic())))
    except KeyboardInterrupt:
        log.info("interrupted")
    finally:
        signal.signal(signal.SIGTERM, previous)
    log.info("worker %s stopped; %d message(s) sent", worker_id, total)
