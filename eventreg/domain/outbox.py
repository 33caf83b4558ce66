"""The email outbox: enqueue in the caller's transaction, claim with a conditional update.

A message is delivered by the worker that owns its claim. Claims expire after a lease, so a
crashed worker's messages are retried; the lease is far longer than the SMTP timeout, so a live
worker never loses its claim mid-send.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update

from ..extensions import db
from ..models import MailKind, OutboxMessage, OutboxStatus


_INSERT = insert(OutboxMessage.__table__)  # Core, built once: it runs on every registration


def enqueue(registration_id: int | None, kind: MailKind, now: datetime, *, to_address: str | None = None,
            to_name: str = "", language: str | None = None, context: dict | None = None,
            attachments: list | None = None, idempotency_key: str | None = None,
            not_before: datetime | None = None) -> None:
    """Queues one email in the caller's transaction (to the registration, or to ``to_address``)."""
    db.session.execute(_INSERT, {
        "registration_id": registration_id,
        "kind": kind,
        "to_address": to_address,
        "to_name": to_name,
        "language": language,
        "context": context or {},
        "attachments": attachments or [],
        "idempotency_key": idempotency_key,
        "message_id": f"{uuid.uuid4().hex}.{kind.value}",  # fixed now, so every retry carries it
        "status": OutboxStatus.pending,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": max(now, not_before) if not_before else now,
    })


def _due(now: datetime):
    return (
        OutboxMessage.status == OutboxStatus.pending,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim(worker: str, now: datetime, *, lease_seconds: float, limit: int = 20) -> list[int]:
    """Claims up to ``limit`` due messages for ``worker``; returns their ids."""
    candidates = db.session.scalars(
        select(OutboxMessage.id).where(*_due(now)).order_by(OutboxMessage.id).limit(limit)
    ).all()
    claimed = []
    until = now + timedelta(seconds=lease_seconds)
    for message_id in candidates:
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, *_due(now))
            .values(claimed_by=worker, claimed_until=until, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(message_id)
    return claimed


def mark_sent(message_id: int, worker: str, now: datetime) -> bool:
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker,
               OutboxMessage.status == OutboxStatus.pending)
        .values(status=OutboxStatus.sent, sent_at=now, claimed_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s ... capped at one hour."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 3600))


def mark_failed(message_id: int, worker: str, now: datetime, error: str, *, max_attempts: int) -> None:
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.claimed_by != worker or message.status != OutboxStatus.pending:
        return
    message.last_error = error[:2000]
    message.claimed_until = None
    if message.attempts >= max_attempts:
        message.status = OutboxStatus.failed
    else:
        message.next_attempt_at = now + backoff(message.attempts)
