"""Messages to attendees: an organizer's subject and body, sent to the people of a list filter.

**Placeholders, never template code.** Subject and body are plain text. ``{name}`` and the
other names of ``PLACEHOLDERS`` (or their Japanese aliases, ``{氏名}`` …) are replaced, in one
pass, by that recipient's values; nothing else is interpreted. Text that looks like Jinja
(``{{ … }}``, ``{% … %}``, ``{# … #}``) is printed as written, and a value that itself contains
braces is never looked at again. ``problems(text)`` finds what would block saving: an unknown
placeholder (``{会社名}``) or a brace that opens or closes nothing.

**Recipients** are the attendee list's filter (domain.backoffice.roster.ListFilter, stored on the message
as its query arguments), minus registrations without an email address and people who stopped the
event's organizer messages (domain.communication.opt_outs). The filter's own status rule already
leaves out the cancelled unless it asks for them.

**Queuing is idempotent.** ``queue`` first moves the message to ``queued`` with a conditional
UPDATE (``… WHERE status IN ('draft', 'scheduled')``): of two clicks or two workers, one wins and
the other does nothing. The winner inserts one outbox row per recipient, in batches of the
outbox's ``insert_once`` (``INSERT … ON CONFLICT (idempotency_key) DO NOTHING``) with the key
``message:<message id>:<registration id>``, so even a second run could add no row; then it
records how many rows it made. The worker renders each row at delivery (eventreg.worker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from eventreg.domain.backoffice import audit, roster
from eventreg.domain.communication import opt_outs, outbox
from eventreg.domain.errors import DomainError
from eventreg.extensions import db
from eventreg.models import AttendeeMessage, Event, MailKind, MessageStatus, OutboxMessage, OutboxStatus, Registration

# The fixed list, in the order the compose page shows it.
PLACEHOLDERS = ("name", "furigana", "event", "session", "date", "venue", "pass_link", "cancel_link")
ALIASES = {
    "氏名": "name", "名前": "name", "フリガナ": "furigana", "ふりがな": "furigana", "イベント名": "event",
    "回": "session", "日時": "date", "会場": "venue", "入場証URL": "pass_link", "キャンセルURL": "cancel_link",
}
MAX_SUBJECT = 200
MAX_BODY = 20_000
BATCH = 500  # outbox rows per INSERT

# One token at a time, left to right: template-looking text (kept as written), a placeholder,
# or a lone brace (a problem).
_TOKEN = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{[^{}\n]*\}|[{}]", re.DOTALL)


@dataclass(frozen=True)
class Problem:
    code: str  # "unknown_placeholder" | "unbalanced_brace"
    token: str  # what was written, e.g. "{会社名}" or "{"
    line: int  # 1-based line of the text


class MessageProblems(DomainError):
    """The subject or body cannot be sent as it is; ``problems`` says why, per field."""

    def __init__(self, problems: dict[str, list[Problem]]):
        super().__init__("message_problems", "; ".join(f"{k}: {p.token}" for k, v in problems.items() for p in v))
        self.problems = problems


def canonical(name: str) -> str | None:
    """The placeholder a name inside braces stands for ("氏名" -> "name"), or None."""
    name = name.strip()
    return name if name in PLACEHOLDERS else ALIASES.get(name)


def problems(text: str) -> list[Problem]:
    found = []
    for match in _TOKEN.finditer(text or ""):
        token = match.group(0)
        if token[:2] in ("{{", "{%", "{#"):
            continue
        line = text.count("\n", 0, match.start()) + 1
        if token in ("{", "}"):
            found.append(Problem("unbalanced_brace", token, line))
        elif canonical(token[1:-1]) is None:
            found.append(Problem("unknown_placeholder", token, line))
    return found


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with each placeholder replaced by ``values[name]`` (a str), in one pass; all other
    text, template-looking text and anything not understood included, stays exactly as written."""
    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token[:2] in ("{{", "{%", "{#") or len(token) == 1:
            return token
        name = canonical(token[1:-1])
        return str(values.get(name, token)) if name else token

    return _TOKEN.sub(replace, text or "")


def check(subject: str, body: str) -> tuple[str, str]:
    """The subject (one line, trimmed) and body, or MessageProblems (empty, too long, placeholders)."""
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    found: dict[str, list[Problem]] = {}
    for field, value, limit in (("subject", subject, MAX_SUBJECT), ("body", body, MAX_BODY)):
        if not value.strip():
            found[field] = [Problem("required", "", 0)]
        elif len(value) > limit:
            found[field] = [Problem("too_long", str(limit), 0)]
        elif listed := problems(value):
            found[field] = listed
    if found:
        raise MessageProblems(found)
    return subject, body


# --- recipients ---------------------------------------------------------------------------


def _with_address(event: Event, flt: roster.ListFilter, now: datetime):
    return roster.matching(event, flt, now=now).where(Registration.email.is_not(None), Registration.email != "")


def _recipients(event: Event, flt: roster.ListFilter, now: datetime):
    return _with_address(event, flt, now).where(opt_outs.receives_messages(event.id))


def recipient_count(event: Event, flt: roster.ListFilter, *, now: datetime) -> int:
    query = _recipients(event, flt, now).order_by(None).with_only_columns(func.count(Registration.id))
    return db.session.scalar(query) or 0


def stopped_count(event: Event, flt: roster.ListFilter, *, now: datetime) -> int:
    """How many the filter selects who stopped organizer messages (left out of recipient_count)."""
    query = (_with_address(event, flt, now).where(~opt_outs.receives_messages(event.id)).order_by(None)
             .with_only_columns(func.count(Registration.id)))
    return db.session.scalar(query) or 0


def recipient_ids(event: Event, flt: roster.ListFilter, *, now: datetime) -> list[int]:
    query = _recipients(event, flt, now).order_by(None).with_only_columns(Registration.id).order_by(Registration.id)
    return list(db.session.scalars(query))


def sample_recipient(event: Event, flt: roster.ListFilter, *, now: datetime,
                     registration_id: int | None = None) -> Registration | None:
    """The recipient a preview shows: ``registration_id`` if that one is a recipient, else the
    first in the list's order."""
    query = _recipients(event, flt, now)
    if registration_id is not None:
        chosen = db.session.scalar(query.where(Registration.id == registration_id))
        if chosen is not None:
            return chosen
    return db.session.scalars(query.limit(1)).first()


def first_recipients(event: Event, flt: roster.ListFilter, *, now: datetime, limit: int = 20) -> list[Registration]:
    """The first recipients in the list's order (the preview's choice of whom to show)."""
    return list(db.session.scalars(_recipients(event, flt, now).limit(limit)))


def filter_of(message: AttendeeMessage) -> roster.ListFilter:
    return roster.ListFilter.from_args(message.filter or {})


# --- the message's life: draft -> scheduled -> queued (or cancelled) -----------------------


def save_draft(event: Event, *, subject: str, body: str, flt: roster.ListFilter, actor, now: datetime,
               message: AttendeeMessage | None = None) -> AttendeeMessage:
    """Creates a draft, or changes one: only a draft, by a conditional UPDATE (DomainError
    message_not_draft otherwise). MessageProblems if the text cannot be sent."""
    subject, body = check(subject, body)
    if message is None:
        message = AttendeeMessage(event_id=event.id, status=MessageStatus.draft, created_by=getattr(actor, "id", None),
                                  created_at=now, subject=subject, body=body, filter=flt.but(sort="kana").as_args())
        db.session.add(message)
        db.session.flush()
        audit.record(event.id, "message_drafted", actor=actor, now=now, note="message",
                     params={"message": message.id, "subject": subject})
        return message
    if not _rewrite(message.id, subject=subject, body=body, filter=flt.but(sort="kana").as_args()):
        db.session.refresh(message)
        raise DomainError("message_not_draft")  # queued, scheduled or cancelled meanwhile
    db.session.refresh(message)
    audit.record(event.id, "message_edited", actor=actor, now=now, note="message",
                 params={"message": message.id, "subject": subject})
    return message


def _rewrite(message_id: int, **values) -> bool:
    """The guard: the text changes only while the message is a draft. A message queued by
    another organizer meanwhile keeps the text it was queued with (the worker renders each
    recipient's email from it at delivery)."""
    return db.session.execute(
        update(AttendeeMessage)
        .where(AttendeeMessage.id == message_id, AttendeeMessage.status == MessageStatus.draft)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def schedule(message: AttendeeMessage, send_at: datetime, *, actor, now: datetime) -> None:
    """The message goes out at ``send_at`` (the tick queues it): a draft only, a time ahead."""
    if send_at <= now:
        raise DomainError("send_at_past")
    done = db.session.execute(
        update(AttendeeMessage)
        .where(AttendeeMessage.id == message.id, AttendeeMessage.status == MessageStatus.draft)
        .values(status=MessageStatus.scheduled, send_at=send_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise DomainError("message_not_draft")
    audit.record(message.event_id, "message_scheduled", actor=actor, now=now,
                 note="message_send_at", params={"message": message.id, "send_at": send_at.isoformat()})
    db.session.refresh(message)


def cancel(message: AttendeeMessage, *, actor, now: datetime) -> None:
    """Takes back a scheduled message (or drops a draft) before it is queued."""
    done = db.session.execute(
        update(AttendeeMessage)
        .where(AttendeeMessage.id == message.id,
               AttendeeMessage.status.in_([MessageStatus.draft, MessageStatus.scheduled]))
        .values(status=MessageStatus.cancelled)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise DomainError("message_not_cancellable")
    audit.record(message.event_id, "message_cancelled", actor=actor, now=now, note="message_number",
                 params={"message": message.id})
    db.session.refresh(message)


def _claim(message_id: int, now: datetime, *, due_only: bool) -> bool:
    """The guard: True for the one caller whose UPDATE moved the message to queued."""
    where = [AttendeeMessage.id == message_id]
    if due_only:  # the tick: a scheduled message whose time has come (not one moved later since)
        where += [AttendeeMessage.status == MessageStatus.scheduled, AttendeeMessage.send_at <= now]
    else:  # by hand: a draft, or a scheduled message sent now after all
        where.append(AttendeeMessage.status.in_([MessageStatus.draft, MessageStatus.scheduled]))
    result = db.session.execute(
        update(AttendeeMessage).where(*where).values(status=MessageStatus.queued, queued_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def outbox_key(message_id: int, registration_id: int) -> str:
    return f"message:{message_id}:{registration_id}"


def queue(message_id: int, now: datetime, *, actor=None, due_only: bool = False) -> int | None:
    """Queues one outbox row per recipient, in the caller's transaction; returns how many, or
    None when the message was queued (or cancelled) already, by another click or worker.
    ``due_only`` (the tick): only a scheduled message whose send_at has come."""
    message = db.session.get(AttendeeMessage, message_id)
    if message is None or not _claim(message_id, now, due_only=due_only):
        return None
    event = db.session.get(Event, message.event_id)
    ids = recipient_ids(event, filter_of(message), now=now)
    made = 0
    for start in range(0, len(ids), BATCH):
        made += outbox.insert_once([
            {**outbox.attendee_row(registration_id, MailKind.message, now,
                                   idempotency_key=outbox_key(message_id, registration_id)),
             "attendee_message_id": message_id}
            for registration_id in ids[start:start + BATCH]])
    db.session.execute(
        update(AttendeeMessage).where(AttendeeMessage.id == message_id,
                                      AttendeeMessage.status == MessageStatus.queued)
        .values(recipient_count=AttendeeMessage.recipient_count + made)
        .execution_options(synchronize_session=False)
    )
    audit.record(message.event_id, "message_queued", actor=actor, now=now, note="message_recipients",
                 params={"message": message_id, "recipients": made})
    db.session.flush()
    db.session.expire(message)
    return made


# --- the tick: scheduled messages whose time has come ---------------------------------------


def due_messages(now: datetime, *, limit: int = 100) -> list[int]:
    """Ids of scheduled messages due at ``now`` (one query on the (status, send_at) index)."""
    return list(db.session.scalars(
        select(AttendeeMessage.id)
        .where(AttendeeMessage.status == MessageStatus.scheduled, AttendeeMessage.send_at <= now)
        .order_by(AttendeeMessage.send_at, AttendeeMessage.id).limit(limit)
    ))


def queue_due(message_id: int, now: datetime) -> bool:
    return queue(message_id, now, due_only=True) is not None


# --- what the pages show ----------------------------------------------------------------------


def event_messages(event_id: int) -> list[AttendeeMessage]:
    return list(db.session.scalars(
        select(AttendeeMessage).where(AttendeeMessage.event_id == event_id)
        .order_by(AttendeeMessage.created_at.desc(), AttendeeMessage.id.desc())
    ))


def delivery_counts(message_ids: list[int]) -> dict[int, dict[str, int]]:
    """``{message id: {"sent": n, "pending": n, "failed": n}}`` from the outbox, in one query."""
    out = {mid: {s.value: 0 for s in OutboxStatus} for mid in message_ids}
    if not message_ids:
        return out
    rows = db.session.execute(
        select(OutboxMessage.attendee_message_id, OutboxMessage.status, func.count())
        .where(OutboxMessage.attendee_message_id.in_(message_ids))
        .group_by(OutboxMessage.attendee_message_id, OutboxMessage.status)
    ).all()
    for mid, status, number in rows:
        out[mid][OutboxStatus(status).value] = number
    return out


@dataclass(frozen=True)
class Progress:
    """How far a message has come, as its list row and its page say it."""

    state: str  # draft | scheduled | cancelled, or for a queued message: sending | sent
    sent: int  # outbox rows the SMTP server accepted
    failed: int  # outbox rows given up on
    total: int  # outbox rows made for it


def progress(message: AttendeeMessage, counts: dict[str, int]) -> Progress:
    """A queued message is ``sending`` while any of its outbox rows waits, ``sent`` once every one
    is done (sent or failed); ``counts`` is its entry of ``delivery_counts``. Queuing the message
    and inserting its rows is one transaction, so a queued message never shows 0/0 on its way."""
    sent, failed, total = counts["sent"], counts["failed"], sum(counts.values())
    state = message.status.value
    if message.status == MessageStatus.queued:
        state = "sending" if counts["pending"] else "sent"
    return Progress(state, sent, failed, total)


def deliveries(message_id: int, *, limit: int, offset: int = 0) -> list[tuple[OutboxMessage, Registration | None]]:
    """The message's outbox rows with their registration, in registration order (a page)."""
    return list(db.session.execute(
        select(OutboxMessage, Registration)
        .outerjoin(Registration, Registration.id == OutboxMessage.registration_id)
        .where(OutboxMessage.attendee_message_id == message_id)
        .order_by(OutboxMessage.registration_id, OutboxMessage.id).limit(limit).offset(offset)
    ).all())


def subjects(message_ids) -> dict[int, str]:
    ids = sorted({mid for mid in message_ids if mid is not None})
    if not ids:
        return {}
    return dict(db.session.execute(
        select(AttendeeMessage.id, AttendeeMessage.subject).where(AttendeeMessage.id.in_(ids))).all())
