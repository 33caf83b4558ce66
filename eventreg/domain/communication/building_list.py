"""The building's visitor list (入館者リスト): who the venue lets in, per session, sent once.

One list per session. At the event's send rule (``Event.security_send_rule``, a domain.timing.rules
text; none: the registration deadline) the scheduled task (domain.timing.periodic) freezes the list:
``send_full`` writes a ``SecurityListSend`` row (seq = last + 1) holding every confirmed person's
values, and queues one email to ``Event.security_email`` whose attachment names that row. The
worker renders the file (XLSX, CSV with BOM or CP932 CSV) from the frozen values at delivery and
keeps it (``StoredFile``): the file is what was sent, whatever changes afterwards.

After a list was sent, each tick compares the session's people with the last send
(``changed_sessions``, then ``send_difference`` in a transaction of its own): a late addition or
cancellation gives one "diff" row and one email naming exactly who was added and who removed,
with the whole updated list attached. Nothing changed: nothing sent.

A person is compared by the values the venue sees (the columns of the last send, plus name,
furigana and organization), not by registration id: someone who cancels and registers again
with the same details is no change, a corrected name is one (the old row is removed, the new one
added), and a person moved to another session leaves this session's list.

Exactly once: the task is marked done by a conditional UPDATE in the transaction of its effect,
and ``(session_id, seq)`` is unique, so of several workers (or a worker and a "send now") that
try to send the same list, one insert wins; the others find a conflict and send nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from eventreg.domain.backoffice import audit
from eventreg.domain.communication import outbox
from eventreg.domain.communication.building_list_sheet import (
    IDENTITY,
    columns_of,
    current_people,
    frozen_columns,
    key_columns,
    key_value,
    language_of,
    ordered,
    person_values,
    session_label,
    sheet,
)
from eventreg.domain.errors import DomainError
from eventreg.domain.timing import schedule
from eventreg.extensions import db
from eventreg.models import (
    Event,
    EventSession,
    MailKind,
    OutboxMessage,
    OutboxStatus,
    Registration,
    SecurityFormat,
    SecurityListSend,
    Status,
    StoredFile,
    TaskKind,
)

EXTENSIONS = {SecurityFormat.xlsx: "xlsx", SecurityFormat.csv: "csv", SecurityFormat.csv_cp932: "csv"}

FULL, DIFF = "full", "diff"
SCHEDULE, MANUAL, CHANGE = "schedule", "manual", "change"


def last_sent(session_id: int) -> SecurityListSend | None:
    """The latest list sent for the session (full or difference), or None."""
    return db.session.scalar(
        select(SecurityListSend).where(SecurityListSend.session_id == session_id)
        .order_by(SecurityListSend.seq.desc()).limit(1)
    )


def sends(session_id: int) -> list[SecurityListSend]:
    """Every list sent for the session, first to last."""
    return list(db.session.scalars(
        select(SecurityListSend).where(SecurityListSend.session_id == session_id).order_by(SecurityListSend.seq)
    ))


def person_key(values: dict[str, str], columns: list[str]) -> tuple[str, ...]:
    return tuple(key_value(c, values.get(c, "")) for c in key_columns(columns))


def difference(before: SecurityListSend, people: dict[str, dict[str, str]]) -> tuple[list[str], list[str]]:
    """(added ids of ``people``, removed ids of ``before.people``): rows compared by the values of
    ``before``'s columns, as a multiset (two people with the same details count twice)."""
    def keyed(mapping):
        return [(person_key(values, before.columns), rid) for rid, values in ordered(mapping)]

    old, new = keyed(before.people or {}), keyed(people)
    unmatched_new = Counter(key for key, _ in new)
    unmatched_new.subtract(Counter(key for key, _ in old))
    unmatched_old = Counter(key for key, _ in old)
    unmatched_old.subtract(Counter(key for key, _ in new))
    added, removed = [], []
    for key, rid in new:
        if unmatched_new[key] > 0:
            unmatched_new[key] -= 1
            added.append(rid)
    for key, rid in old:
        if unmatched_old[key] > 0:
            unmatched_old[key] -= 1
            removed.append(rid)
    return added, removed


def on_sent_list(registration: Registration) -> bool | None:
    """Whether the building has this person on the last list it was sent for their session (the
    desk marks those it has not); None when no list was sent for the session yet."""
    last = last_sent(registration.session_id)
    if last is None:
        return None
    return registration.status == Status.confirmed and _listed(registration, last, _keys_of(last))


def not_on_sent_lists(registrations: list[Registration]) -> set[int]:
    """The ids of the confirmed ``registrations`` that the last list sent for their session does
    not have (the desk's marker), in one query for any number of people; a session with no list
    sent yet marks nobody."""
    confirmed = [r for r in registrations if r.status == Status.confirmed]
    if not confirmed:
        return set()
    latest = (select(SecurityListSend.session_id, func.max(SecurityListSend.seq).label("seq"))
              .where(SecurityListSend.session_id.in_({r.session_id for r in confirmed}))
              .group_by(SecurityListSend.session_id).subquery())
    sends = {send.session_id: (send, _keys_of(send), _label_of(send)) for send in db.session.scalars(
        select(SecurityListSend).join(latest, (SecurityListSend.session_id == latest.c.session_id)
                                      & (SecurityListSend.seq == latest.c.seq)))}
    return {r.id for r in confirmed if r.session_id in sends and not _listed(r, *sends[r.session_id])}


def _keys_of(send: SecurityListSend) -> set[tuple[str, ...]]:
    return {person_key(values, send.columns) for values in (send.people or {}).values()}


def _label_of(send: SecurityListSend) -> tuple[Event, str]:
    """The event and the session's label of a send's people, worked out once per session (a page
    of the desk's search, or a roster of thousands, has few sessions)."""
    session = db.session.get(EventSession, send.session_id)
    return session.event, session_label(session.event, session)


def _listed(registration: Registration, send: SecurityListSend, keys: set[tuple[str, ...]],
            label: tuple[Event, str] | None = None) -> bool:
    event, text = label or _label_of(send)
    mine = person_key(person_values(registration, event, text, frozen_columns(send.columns)), send.columns)
    return mine in keys


def _recipient(event: Event) -> str:
    address = (event.security_email or "").strip()
    if not address:
        raise DomainError("no_security_contact")
    return address


def filename(event: Event, session: EventSession, seq: int, fmt: SecurityFormat) -> str:
    day = session.starts_at.astimezone(ZoneInfo(event.timezone)).strftime("%Y%m%d")
    return f"security-list-{event.slug}-{day}-{seq}.{EXTENSIONS[SecurityFormat(fmt)]}"


def _mail_context(event: Event, session: EventSession, row: SecurityListSend,
                  before: SecurityListSend | None) -> dict:
    """The template values of a list email (plain JSON; ``*_at`` as ISO text)."""
    def person(values):
        return {c: values.get(c, "") for c in IDENTITY}

    old = (before.people or {}) if before else {}
    return {
        "event_id": event.id, "session_id": session.id, "send_id": row.id, "seq": row.seq,
        "list_kind": row.kind, "event_title": event.title, "session_title": session.title or "",
        "session_starts_at": session.starts_at.isoformat(), "session_ends_at": session.ends_at.isoformat(),
        "session_doors_at": (session.doors_at or session.starts_at).isoformat(), "timezone": event.timezone,
        "venue_name": event.venue_name, "count": row.count, "format": SecurityFormat(event.security_format).value,
        "organizer": event.organizer, "contact_name": event.contact_name,
        "contact_email": event.contact_email, "contact_phone": event.contact_phone,
        "previous_seq": before.seq if before else None,
        "previous_at": before.created_at.isoformat() if before else None,
        "added": [person(row.people[rid]) for rid in row.added],
        "removed": [person(old[rid]) for rid in row.removed],
    }


def _insert(session: EventSession, *, kind: str, trigger: str, actor, now: datetime,
            people: dict, columns: list[str], before: SecurityListSend | None,
            added=(), removed=()) -> SecurityListSend | None:
    """Writes the send (seq = last + 1) and queues its email; None when another send took that
    seq first (the unique (session_id, seq): the caller's other work stands)."""
    event = session.event
    row = SecurityListSend(
        event_id=event.id, session_id=session.id, seq=(before.seq + 1) if before else 1, kind=kind,
        trigger=trigger, created_at=now, recipient=_recipient(event), columns=columns, people=people,
        added=list(added), removed=list(removed), count=len(people),
        sent_by=getattr(actor, "id", None), outbox_key="",
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return None
    row.outbox_key = f"security_list:{row.id}"
    outbox.enqueue(
        None, MailKind.security_list if kind == FULL else MailKind.security_list_diff, now,
        to_address=row.recipient, to_name="", language=language_of(event),
        context=_mail_context(event, session, row, before),
        attachments=[{"kind": "security_list", "send_id": row.id, "format": SecurityFormat(event.security_format).value}],
        idempotency_key=row.outbox_key,
    )
    db.session.flush()
    return row


def send_full(session: EventSession, *, trigger: str, actor=None, now: datetime) -> SecurityListSend | None:
    """Freezes the session's whole list and queues it to the venue (flushes; no commit).

    ``trigger`` is "schedule" (the task) or "manual" (send now). DomainError
    ``no_security_contact`` without an address; None when a concurrent send took the seq."""
    event = session.event
    _recipient(event)
    columns = columns_of(event)
    return _insert(session, kind=FULL, trigger=trigger, actor=actor, now=now,
                   people=current_people(session, columns), columns=columns, before=last_sent(session.id))


def send_difference(session: EventSession, *, now: datetime) -> SecurityListSend | None:
    """After a list was sent: if people were added or removed since the last send, one "diff"
    send naming them, with the whole updated list attached. None when nothing changed, nothing
    was sent before, the event has no contact any more, or another worker sent it first. A
    changed contact address gets the whole list instead (it never had one)."""
    before = last_sent(session.id)
    event = session.event
    if before is None or not (event.security_email or "").strip():
        return None
    columns = columns_of(event)
    people = current_people(session, list(dict.fromkeys([*columns, *before.columns])))
    added, removed = difference(before, people)
    frozen = {rid: {c: values[c] for c in frozen_columns(columns)} for rid, values in people.items()}
    if before.recipient != _recipient(event):
        return _insert(session, kind=FULL, trigger=CHANGE, actor=None, now=now, people=frozen,
                       columns=columns, before=before)
    if not added and not removed:
        return None
    return _insert(session, kind=DIFF, trigger=CHANGE, actor=None, now=now, people=frozen, columns=columns,
                   before=before, added=added, removed=removed)


def frozen_sheet(send_id: int, fmt: str) -> dict:
    """What the worker needs to render a send's file in ``fmt`` (decided when it was queued), as
    plain values: ``format``, ``filename``, ``header``, ``rows`` (the people frozen in the row, in
    the event's language)."""
    row = db.session.get(SecurityListSend, send_id)
    if row is None:
        raise LookupError(f"security list send #{send_id} is gone")
    event = db.session.get(Event, row.event_id)
    session = db.session.get(EventSession, row.session_id)
    head, body = sheet(row.columns, row.people or {}, language_of(event))
    fmt = SecurityFormat(fmt)
    return {"format": fmt.value, "filename": filename(event, session, row.seq, fmt), "header": head, "rows": body}


def keep_file(send_id: int, name: str, content_type: str, data: bytes, now: datetime) -> bool:
    """Keeps the file of a send as it was delivered (the first delivery only); flushes."""
    row = db.session.get(SecurityListSend, send_id)
    if row is None or row.file_id is not None:
        return False
    stored = StoredFile(event_id=row.event_id, filename=name, content_type=content_type, size=len(data),
                        data=data, created_at=now)
    db.session.add(stored)
    db.session.flush()
    result = db.session.execute(
        update(SecurityListSend).where(SecurityListSend.id == send_id, SecurityListSend.file_id.is_(None))
        .values(file_id=stored.id).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.delete(stored)
    db.session.flush()
    return result.rowcount == 1


def configure(event: Event, *, email: str, columns: list[str], fmt: SecurityFormat, rule: str | None,
              actor, now: datetime) -> None:
    """Saves the event's security-list settings (values already checked: domain.people.text.normalize_email,
    ``check_columns``, domain.timing.rules.parse), writes the audit entry and moves the sessions' tasks
    (a list already sent stays sent; no contact: no pending task). Flushes."""
    before = {"security_email": event.security_email, "security_columns": list(event.security_columns or []),
              "security_format": SecurityFormat(event.security_format).value,
              "security_send_rule": event.security_send_rule}
    event.security_email = email
    event.security_columns = list(columns)
    event.security_format = SecurityFormat(fmt)
    event.security_send_rule = rule or None
    after = {"security_email": email, "security_columns": list(columns), "security_format": event.security_format.value,
             "security_send_rule": event.security_send_rule}
    changed = audit.changes(before, after)
    if changed:
        audit.record(event.id, "security_list_settings", actor=actor, now=now, changed=changed)
    schedule.reschedule(event)


def send_time(event: Event, session: EventSession) -> datetime | None:
    """When the session's list goes (or went) out: the task's time; None without a contact."""
    if not (event.security_email or "").strip():
        return None
    return schedule.due_at(TaskKind.security_list, event, session)


def history(session_id: int) -> list[dict]:
    """Every send of the session with its delivery, first to last: ``send`` (the row),
    ``status`` ("queued", "sent", "failed"), ``sent_at`` (when the worker really delivered it),
    ``error`` (the last failure, if any), ``attempts``."""
    rows = db.session.execute(
        select(SecurityListSend, OutboxMessage)
        .outerjoin(OutboxMessage, OutboxMessage.idempotency_key == SecurityListSend.outbox_key)
        .where(SecurityListSend.session_id == session_id).order_by(SecurityListSend.seq)
    ).all()
    result = []
    for send, message in rows:
        status = "queued"
        if message is not None and message.status == OutboxStatus.sent:
            status = "sent"
        elif message is not None and message.status == OutboxStatus.failed:
            status = "failed"
        result.append({
            "send": send, "status": status, "sent_at": message.sent_at if message else None,
            "error": (message.last_error or "") if message else "", "attempts": message.attempts if message else 0,
        })
    return result


def format_of(send: SecurityListSend) -> str:
    """The file format the send was queued with (the event's setting may have changed since)."""
    attachments = db.session.scalar(select(OutboxMessage.attachments).where(
        OutboxMessage.idempotency_key == send.outbox_key)) or []
    for item in attachments:
        if item.get("kind") == "security_list":
            return item["format"]
    return SecurityFormat(db.session.get(Event, send.event_id).security_format).value
