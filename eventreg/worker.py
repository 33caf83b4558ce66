"""The outbox worker: claims due messages, renders and sends them, records the outcome.

An edge like cli.py: it reads the clock and commits. Transactions are kept short and never
span rendering or SMTP; the ones that write take SQLite's write lock up front (sqlite.writing).

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
from datetime import datetime

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from . import clock
from .adapters import mail
from .sqlite import writing
from .domain import outbox, passes
from .extensions import db
from .models import OutboxMessage
from .web.links import registration_links

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
    ctx = passes.pass_context(row.registration, registration_links(row.registration))
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


def run(app: Flask, *, once: bool = False) -> None:
    """Polls the outbox every OUTBOX_POLL_SECONDS until SIGTERM or Ctrl-C.

    With ``once``, delivers what is due now (batch after batch) and returns.
    """
    if not logging.getLogger().handlers:  # a bare `flask worker`: log to stderr
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not log.isEnabledFor(logging.INFO):
        log.setLevel(logging.INFO)
    worker_id = worker_name()
    poll = float(app.config["OUTBOX_POLL_SECONDS"])
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("outbox worker %s started (poll every %.1f s)", worker_id, poll)
    total = 0
    try:
        while not stop.is_set():
            try:
                sent = deliver_due(app, worker_id=worker_id, stop=stop)
            except SQLAlchemyError:
                log.exception("database error; retrying in %.1f s", poll)
                sent = 0
            total += sent
            if sent:  # more may be due: look again at once
                log.info("sent %d message(s), %d since start", sent, total)
                continue
            if once:
                break
            stop.wait(poll)
    except KeyboardInterrupt:
        log.info("interrupted")
    finally:
        signal.signal(signal.SIGTERM, previous)
    log.info("outbox worker %s stopped; %d message(s) sent", worker_id, total)
