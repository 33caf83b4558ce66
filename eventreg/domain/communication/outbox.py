"""The email outbox: what to send, to whom, with which attachments, and who is sending it now.

A row is queued in the caller's transaction (``enqueue``) and delivered by a worker:

1. ``claim`` takes a few due rows for one worker for a short lease (OUTBOX_LEASE_SECONDS, a
   minute by default); on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so workers never wait
   for each other. A claim is not an attempt.
2. ``start_attempt``, right before a message is rendered and sent, renews its lease and counts
   the attempt, on condition that the claim is still this worker's. A worker that dies leaves
   its claimed messages (tried or not) to another worker once the lease runs out: about a
   minute. Claimed messages a worker decides not to try go back at once (``release``).
3. ``mark_sent`` / ``mark_failed`` record the outcome; failures are retried with back-off.

The worker bounds a whole SMTP send to half the lease, so a live worker never loses the claim
of a message it is sending.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from eventreg.extensions import db
from eventreg.models import EventSession, MailKind, OutboxMessage, OutboxStatus, Status

LANGUAGES = ("ja", "en")

# What each attendee mail carries, when the caller does not say (attachments=None). Decided
# here, when the message is queued, and recorded on the row: the worker attaches what the row
# says (minus a pass the registration no longer holds, or never gets because its session is
# online: see deliverable_attachments).
PASS_PDF = {"kind": "pass_pdf"}
ICS_REQUEST = {"kind": "ics", "method": "REQUEST"}
ICS_CANCEL = {"kind": "ics", "method": "CANCEL"}
ATTACHMENTS = {
    MailKind.confirmation: (PASS_PDF, ICS_REQUEST),
    MailKind.promoted: (PASS_PDF, ICS_REQUEST),
    MailKind.pass_resent: (PASS_PDF, ICS_REQUEST),
    MailKind.cancelled: (ICS_CANCEL,),
    MailKind.waitlisted: (),
    MailKind.deadline_summary: (),
    MailKind.reminder: (PASS_PDF,),
    MailKind.confirm_email: (),  # no pass until the email is confirmed
    MailKind.hold_expired: (),
    MailKind.message: (),  # an organizer's message (domain.communication.attendee_messages)
    # The post-event loop (domain.communication.followups): the certificate PDF is rendered at delivery.
    MailKind.followup_survey: (),
    MailKind.followup_noshow: (),
    MailKind.followup_certificate: ({"kind": "certificate"},),
}
# Attachments that show a seat: sent only while the registration is confirmed.
_NEEDS_SEAT = ("pass_pdf", "ics:REQUEST")

_INSERT = insert(OutboxMessage.__table__)  # Core, built once: it runs on every registration


@lru_cache(maxsize=2)
def _insert_once(dialect: str):
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, for PostgreSQL and SQLite."""
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        dialect_insert(OutboxMessage.__table__)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.__table__.c.id)  # a row back only when one was inserted
    )


def _check_attachment(item: dict) -> dict:
    kind = item.get("kind") if isinstance(item, dict) else None
    if kind == "pass_pdf" and len(item) == 1:
        return {"kind": "pass_pdf"}
    if kind == "ics" and item.get("method") in ("REQUEST", "CANCEL") and len(item) == 2:
        return {"kind": "ics", "method": item["method"]}
    if kind == "certificate" and len(item) == 1:  # the registration's certificate of attendance
        return {"kind": "certificate"}
    if kind == "file" and isinstance(item.get("file_id"), int) and len(item) == 2:
        return {"kind": "file", "file_id": item["file_id"]}
    # A building-security list, rendered from its frozen SecurityListSend row at delivery.
    if (kind == "security_list" and isinstance(item.get("send_id"), int)
            and item.get("format") in ("xlsx", "csv", "csv_cp932") and len(item) == 3):
        return {"kind": "security_list", "send_id": item["send_id"], "format": item["format"]}
    raise ValueError(f"unknown attachment {item!r}")


def enqueue(registration_id: int | None, kind: MailKind, now: datetime, *, to_address: str | None = None,
            to_name: str = "", language: str | None = None, context: dict | None = None,
            attachments: list | None = None, idempotency_key: str | None = None,
            not_before: datetime | None = None) -> bool:
    """Queues one email in the caller's transaction; returns whether a row was created.

    Attendee mail names the registration (its address and values are read at delivery);
    mail to anyone else gives ``to_address``/``to_name`` and the template's values in
    ``context`` (plain JSON values; see ``deadline_summary_context`` for that kind).
    ``attachments`` None means the kind's default (``ATTACHMENTS``); items are
    ``{"kind": "pass_pdf"}``, ``{"kind": "ics", "method": "REQUEST"|"CANCEL"}`` and
    ``{"kind": "file", "file_id": <StoredFile id>}``, ``{"kind": "security_list", "send_id":
    <SecurityListSend id>, "format": "xlsx"|"csv"|"csv_cp932"}``. With an ``idempotency_key`` that is
    queued already, nothing is added and False is returned. Nothing is sent before
    ``not_before``. ``language`` None: the event's language.
    """
    kind = MailKind(kind)
    if registration_id is None and not to_address:
        raise ValueError("an outbox message needs a registration or a to_address")
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    if attachments is None:
        attachments = list(ATTACHMENTS[kind]) if registration_id is not None else []
    else:
        attachments = [_check_attachment(item) for item in attachments]
    if registration_id is None and any(item["kind"] not in ("file", "security_list") for item in attachments):
        raise ValueError("a pass or calendar attachment needs a registration")
    values = _row(registration_id, kind, now, to_address=to_address, to_name=to_name, language=language,
                  context=context, attachments=attachments, idempotency_key=idempotency_key,
                  not_before=not_before)
    if idempotency_key is None:  # the hot path (every registration): a plain insert
        db.session.execute(_INSERT, values)
        return True
    return db.session.scalar(_insert_once(db.session.get_bind().dialect.name), values) is not None


def _row(registration_id, kind: MailKind, now: datetime, *, to_address=None, to_name="", language=None,
         context=None, attachments=(), idempotency_key=None, not_before=None) -> dict:
    return {
        "registration_id": registration_id,
        "kind": kind,
        "to_address": to_address,
        "to_name": to_name or "",
        "language": language,
        "context": context or {},
        "attachments": list(attachments),
        "idempotency_key": idempotency_key,
        "message_id": f"{uuid.uuid4().hex}.{kind.value}",  # fixed now, so every retry carries it
        "status": OutboxStatus.pending,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": max(now, not_before) if not_before else now,
    }


def attendee_values(kind: MailKind, now: datetime) -> dict:
    """The values ``enqueue(registration_id, kind, now)`` inserts, less the registration id, for a
    statement that supplies it (domain.registration.signup_statement)."""
    kind = MailKind(kind)
    values = _row(None, kind, now, attachments=ATTACHMENTS[kind])
    del values["registration_id"]
    return values


def attendee_row(registration_id: int, kind: MailKind, now: datetime, *, idempotency_key: str,
                 language: str | None = None, context: dict | None = None) -> dict:
    """The values of one keyed attendee message with the kind's attachments, for ``insert_once``."""
    kind = MailKind(kind)
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    return _row(registration_id, kind, now, language=language, context=context,
                attachments=ATTACHMENTS[kind], idempotency_key=idempotency_key)


def insert_once(rows: list[dict]) -> int:
    """Queues many keyed messages in one statement (``INSERT … ON CONFLICT (idempotency_key) DO
    NOTHING``); returns how many were new. Rows whose key is queued already are skipped."""
    if not rows:
        return 0
    if any(not row.get("idempotency_key") for row in rows):
        raise ValueError("insert_once needs an idempotency key on every row")
    result = db.session.execute(_insert_once(db.session.get_bind().dialect.name), rows)
    return len(result.all())


def deliverable_attachments(attachments: list, registration_status: str | None, *,
                            entry_pass: bool) -> list:
    """The row's attachments that may go out now: a pass or an active calendar entry only
    while the registration holds a seat (it may have been cancelled since it was queued), and
    a pass only if the registration gets one (``entry_pass``: domain.backoffice.hybrid_rules;
    an online registrant joins by link). Both are read at delivery: a registration moved
    between on site and online since the row was queued gets what its session now calls for."""
    def key(item):
        return item["kind"] if item["kind"] != "ics" else f"ics:{item['method']}"
    if not entry_pass:
        attachments = [item for item in attachments if item["kind"] != PASS_PDF["kind"]]
    if registration_status is None or registration_status == Status.confirmed.value:
        return list(attachments)
    return [item for item in attachments if key(item) not in _NEEDS_SEAT]


def language(*candidates: str | None) -> str:
    """The first supported language of ``candidates``, else "ja". Attendee mail: the
    registration's language (the one the person signed up in), then the row's, then the
    event's; other mail: the row's, the event's, the app's default."""
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
    return "ja"


def deadline_summary_context(session: EventSession, *, confirmed: int, waitlisted: int,
                             deadline_at: datetime | None = None, event_url: str = "") -> dict:
    """The ``context`` of a deadline_summary message (all plain JSON values).

    Keys: ``event_id``, ``session_id``; ``event_title``, ``session_title`` ("" when the
    session has none); ``session_starts_at``, ``session_ends_at``, ``session_doors_at`` and
    ``deadline_at`` (ISO 8601 with offset; the worker turns ``*_at`` strings into datetimes,
    the template formats them in ``timezone``); ``timezone`` (IANA name); ``confirmed``,
    ``waitlisted``, ``capacity`` (ints, at the deadline); ``organizer``, ``contact_name``,
    ``contact_email``, ``contact_phone`` (the event contact); ``event_url`` (a link from the
    edge, optional). A ``session_when`` string, if given instead of the ``session_*_at``
    values, is printed as it is.
    """
    event = session.event

    def iso(value):
        return value.isoformat() if value else None

    return {
        "event_id": event.id, "session_id": session.id,
        "event_title": event.title, "session_title": session.title or "",
        "session_starts_at": iso(session.starts_at), "session_ends_at": iso(session.ends_at),
        "session_doors_at": iso(session.doors_at or session.starts_at),
        "deadline_at": iso(deadline_at), "timezone": event.timezone,
        "confirmed": int(confirmed), "waitlisted": int(waitlisted), "capacity": int(session.capacity),
        "organizer": event.organizer, "contact_name": event.contact_name,
        "contact_email": event.contact_email, "contact_phone": event.contact_phone,
        "event_url": event_url,
    }


def enqueue_deadline_summary(session: EventSession, now: datetime, *, confirmed: int, waitlisted: int,
                             deadline_at: datetime | None = None, event_url: str = "") -> bool:
    """Queues the "registration has closed" message to the event's contact, once per session.

    Returns False when it was queued before or the event has no contact email.
    """
    event = session.event
    if not event.contact_email:
        return False
    return enqueue(
        None, MailKind.deadline_summary, now,
        to_address=event.contact_email, to_name=event.contact_name or event.organizer,
        context=deadline_summary_context(session, confirmed=confirmed, waitlisted=waitlisted,
                                         deadline_at=deadline_at, event_url=event_url),
        idempotency_key=f"deadline_summary:session:{session.id}",
    )


def _due(now: datetime):
    return (
        OutboxMessage.status == OutboxStatus.pending,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim(worker: str, now: datetime, *, lease_seconds: float, limit: int = 5) -> list[int]:
    """Claims up to ``limit`` due messages for ``worker`` until now + lease; returns their ids.

    Two statements in the caller's transaction: ``SELECT id … LIMIT n FOR UPDATE SKIP LOCKED``
    (PostgreSQL; SQLite has no row locks, its write lock, taken by the caller, serialises
    claims), then a conditional UPDATE of exactly those ids, still due. Not one ``UPDATE … WHERE
    id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)``: when a concurrent claim had changed a row
    it met, PostgreSQL re-checked the row by running the sub-select again, which skipped the
    rows locked by then and gave the next n, so one claim took thousands of rows
    (tests/faults/test_claim_limit.py). A list of ids fetched first is a limit no plan can
    re-run. The attempt counter is left alone: see ``start_attempt``.
    """
    due = select(OutboxMessage.id).where(*_due(now)).order_by(OutboxMessage.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = db.session.scalars(due).all()
    if not ids:
        return []
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), *_due(now))
        .values(claimed_by=worker, claimed_until=now + timedelta(seconds=lease_seconds))
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars().all())


def start_attempt(message_id: int, worker: str, now: datetime, *, lease_seconds: float) -> bool:
    """Right before a send: renews the lease and counts the attempt, if the claim is still ours."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker,
               OutboxMessage.status == OutboxStatus.pending, OutboxMessage.claimed_until > now)
        .values(claimed_until=now + timedelta(seconds=lease_seconds), attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release(message_ids: list[int], worker: str) -> None:
    """Gives claimed messages that were not tried back to the queue at once."""
    if message_ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(message_ids), OutboxMessage.claimed_by == worker,
                   OutboxMessage.status == OutboxStatus.pending)
            .values(claimed_until=None)
            .execution_options(synchronize_session=False)
        )


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


def mark_failed(message_id: int, worker: str, now: datetime, error: str, *, max_attempts: int,
                permanent: bool = False) -> bool:
    """Records a failed attempt: retried after ``backoff`` or, once ``max_attempts`` is reached
    or the failure is ``permanent`` (e.g. the server refused the recipient with a 5xx), failed.
    Like ``mark_sent``, only while the claim is still this worker's and on the attempt it counted:
    a worker whose lease ran out (another worker took the message over and tried it again) records
    nothing. True when the outcome was recorded."""
    attempts = db.session.scalar(select(OutboxMessage.attempts).where(
        OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker, OutboxMessage.status == OutboxStatus.pending))
    if attempts is None:
        return False
    given_up = permanent or attempts >= max_attempts
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker,
               OutboxMessage.status == OutboxStatus.pending, OutboxMessage.attempts == attempts)
        .values(last_error=error[:2000], claimed_until=None,
                **({"status": OutboxStatus.failed} if given_up else {"next_attempt_at": now + backoff(attempts)}))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
