"""The building-security list (入館者リスト): who the venue lets in, per session, sent once.

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

import hashlib
import itertools
from collections import Counter
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from eventreg.domain.backoffice import audit
from eventreg.domain.communication import outbox
from eventreg.domain.errors import DomainError
from eventreg.domain.people import gojuon
from eventreg.domain.timing import schedule
from eventreg.extensions import db
from eventreg.models import (
    DEFAULT_SECURITY_COLUMNS,
    AuditEntry,
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

# Every column the venue may get, in the order the settings page offers them.
COLUMNS = ("name", "kana", "organization", "department", "session", "email", "phone", "sector")
# Always frozen with a send, whatever the columns: a difference email names people by them.
IDENTITY = ("name", "kana", "organization")

LABELS = {
    "ja": {"name": "氏名", "kana": "フリガナ", "organization": "会社名・団体名", "department": "部署・役職",
           "session": "回", "email": "メールアドレス", "phone": "電話番号", "sector": "所属区分"},
    "en": {"name": "Name", "kana": "Furigana", "organization": "Organization", "department": "Department / title",
           "session": "Session", "email": "Email", "phone": "Phone", "sector": "Sector"},
}
SECTORS = {
    "ja": {"company": "企業", "npo": "NPO・NGO", "government": "行政", "university": "大学・研究機関",
           "individual": "個人", "other": "その他"},
    "en": {"company": "Company", "npo": "NPO / NGO", "government": "Government",
           "university": "University / research", "individual": "Individual", "other": "Other"},
}
EXTENSIONS = {SecurityFormat.xlsx: "xlsx", SecurityFormat.csv: "csv", SecurityFormat.csv_cp932: "csv"}

FULL, DIFF = "full", "diff"
SCHEDULE, MANUAL, CHANGE = "schedule", "manual", "change"


def _lang(event: Event) -> str:
    return event.language if event.language in LABELS else "ja"


def columns_of(event: Event) -> list[str]:
    """The event's columns, known ones only, in its order (the default when none are left)."""
    chosen = [c for c in (event.security_columns or []) if c in COLUMNS]
    return list(dict.fromkeys(chosen)) or list(DEFAULT_SECURITY_COLUMNS)


def check_columns(values: list[str]) -> list[str]:
    """Columns chosen on the settings page: known, without repeats, at least one."""
    chosen = list(dict.fromkeys(v for v in values if v))
    if not chosen or any(c not in COLUMNS for c in chosen):
        raise DomainError("invalid_security_columns")
    return chosen


def labels(language: str) -> dict[str, str]:
    return LABELS.get(language, LABELS["ja"])


def header(columns: list[str], language: str) -> list[str]:
    names = labels(language)
    return [names[c] for c in columns]


def session_label(event: Event, session: EventSession) -> str:
    """The 回 column: the session's title, or its local start when it has none."""
    if session.title:
        return session.title
    return session.starts_at.astimezone(ZoneInfo(event.timezone)).strftime("%Y-%m-%d %H:%M")


def _values(reg, event: Event, session_text: str, wanted: list[str]) -> dict[str, str]:
    """A person's values; ``reg`` is a Registration or a row of ``_PERSON`` columns."""
    every = {
        "name": f"{reg.family_name} {reg.given_name}", "kana": f"{reg.family_kana} {reg.given_kana}",
        "organization": reg.organization or "",
        "department": reg.department or "", "session": session_text, "email": reg.email or "",
        "phone": reg.phone or "", "sector": SECTORS[_lang(event)].get(getattr(reg.sector, "value", reg.sector), ""),
    }
    return {c: every[c] for c in wanted}


def _frozen_columns(columns: list[str]) -> list[str]:
    return list(dict.fromkeys([*columns, *IDENTITY]))


def current_people(session: EventSession, columns: list[str] | None = None) -> dict[str, dict[str, str]]:
    """The confirmed people of ``session`` now, in furigana order: registration id (text) -> the
    values of ``columns`` (default: the event's) plus name, furigana and organization."""
    event = session.event
    wanted = _frozen_columns(columns or columns_of(event))
    text = session_label(event, session)
    regs = db.session.scalars(
        select(Registration)
        .where(Registration.session_id == session.id, Registration.status == Status.confirmed)
        .order_by(Registration.sort_key, Registration.id)
    )
    return {str(reg.id): _values(reg, event, text, wanted) for reg in regs}


def ordered(people: dict[str, dict[str, str]]) -> list[tuple[str, dict[str, str]]]:
    """(id, values) in 五十音 order (domain.people.gojuon), then id: the order of every list and email.
    Sent lists keep display strings only, so the key is made from them."""
    def key(item):
        rid, values = item
        return gojuon.display_sort_key(values.get("kana", ""), values.get("name", "")), int(rid)

    return sorted(people.items(), key=key)


def sheet(columns: list[str], people: dict[str, dict[str, str]], language: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a list: what the file holds, as plain strings."""
    return header(columns, language), [[values.get(c, "") for c in columns] for _, values in ordered(people)]


def preview(session: EventSession) -> tuple[list[str], list[list[str]]]:
    """The list as it would go now (header, rows), in the event's columns and language."""
    event = session.event
    columns = columns_of(event)
    return sheet(columns, current_people(session, columns), _lang(event))


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


def _key(values: dict[str, str], columns: list[str]) -> tuple[str, ...]:
    return tuple(values.get(c, "") for c in _frozen_columns(columns))


def difference(before: SecurityListSend, people: dict[str, dict[str, str]]) -> tuple[list[str], list[str]]:
    """(added ids of ``people``, removed ids of ``before.people``): rows compared by the values of
    ``before``'s columns, as a multiset (two people with the same details count twice)."""
    def keyed(mapping):
        return [(_key(values, before.columns), rid) for rid, values in ordered(mapping)]

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
    sends = {send.session_id: (send, _keys_of(send)) for send in db.session.scalars(
        select(SecurityListSend).join(latest, (SecurityListSend.session_id == latest.c.session_id)
                                      & (SecurityListSend.seq == latest.c.seq)))}
    return {r.id for r in confirmed if r.session_id in sends and not _listed(r, *sends[r.session_id])}


def _keys_of(send: SecurityListSend) -> set[tuple[str, ...]]:
    return {_key(values, send.columns) for values in (send.people or {}).values()}


def _listed(registration: Registration, send: SecurityListSend, keys: set[tuple[str, ...]]) -> bool:
    session = db.session.get(EventSession, registration.session_id)
    mine = _key(_values(registration, session.event, session_label(session.event, session),
                        _frozen_columns(send.columns)), send.columns)
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
        to_address=row.recipient, to_name="", language=_lang(event),
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
    frozen = {rid: {c: values[c] for c in _frozen_columns(columns)} for rid, values in people.items()}
    if before.recipient != _recipient(event):
        return _insert(session, kind=FULL, trigger=CHANGE, actor=None, now=now, people=frozen,
                       columns=columns, before=before)
    if not added and not removed:
        return None
    return _insert(session, kind=DIFF, trigger=CHANGE, actor=None, now=now, people=frozen, columns=columns,
                   before=before, added=added, removed=removed)


# What the tick reads of each person: plain rows, no ORM objects (thousands per tick).
_PERSON = (Registration.session_id, Registration.family_name, Registration.given_name, Registration.family_kana,
           Registration.given_kana, Registration.organization, Registration.department, Registration.email,
           Registration.phone, Registration.sector)


def _fingerprint(keys) -> str:
    return hashlib.sha256(repr(sorted(keys)).encode()).hexdigest()


@lru_cache(maxsize=4096)
def _sent_fingerprint(send_id: int, created_at: datetime, count: int, columns: tuple[str, ...]) -> str | None:
    """The fingerprint of a send's people. A send changes only when a person's data is deleted on
    request (domain.privacy.retention, which also changes its count), so this is a pure function of the row (kept per process, so each list's people are read once, not every tick);
    it decides nothing by itself: the tick compares it with the people read now."""
    people = db.session.scalar(select(SecurityListSend.people).where(SecurityListSend.id == send_id))
    if people is None:
        return None
    return _fingerprint(_key(values, list(columns)) for values in people.values())


def _getters(wanted: list[str], event: Event, session_text: str):
    """Per column, person row -> value: ``_values`` without building a dict per person (the
    tick reads every person of every live list)."""
    sectors = SECTORS[_lang(event)]
    table = {
        "name": lambda p: f"{p.family_name} {p.given_name}", "kana": lambda p: f"{p.family_kana} {p.given_kana}",
        "organization": lambda p: p.organization or "", "department": lambda p: p.department or "",
        "session": lambda p: session_text, "email": lambda p: p.email or "", "phone": lambda p: p.phone or "",
        "sector": lambda p: sectors.get(getattr(p.sector, "value", p.sector), ""),
    }
    return [table[c] for c in wanted]


# How far before a send a change still makes its session a candidate (clocks of several hosts,
# a transaction that read before the send and committed after it).
SETTLE = timedelta(minutes=10)
# Each tick also compares 1/ROTATION of the other live lists in full, so a change that left no
# timestamp (none is known today) is found within ROTATION ticks.
ROTATION = 20
_round = itertools.count()


def _candidates(rows, now: datetime) -> set[int]:
    """Sessions of ``rows`` that may have changed since their last send, from three indexed
    aggregate queries: the count of confirmed people (against the send's count), any sign-up,
    confirmation, cancellation or email confirmation in the session since the send (less
    SETTLE), and the latest audit entry of the event (every staff change to a person, a session
    or the event writes one). A session none of these moved for has the people it had then."""
    ids = [row.session_id for row in rows]
    since = min(row.created_at for row in rows) - SETTLE
    counts, recent, audited = {}, {}, {}
    times = (Registration.created_at, Registration.confirmed_at, Registration.cancelled_at,
             Registration.email_confirmed_at)
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        counts.update(db.session.execute(
            select(Registration.session_id, func.count())
            .where(Registration.session_id.in_(chunk), Registration.status == Status.confirmed)
            .group_by(Registration.session_id)).all())
        for r in db.session.execute(
            select(Registration.session_id, *(func.max(t) for t in times))
            .where(Registration.session_id.in_(chunk), or_(*(t > since for t in times)))
            .group_by(Registration.session_id)
        ):
            recent[r[0]] = [t for t in r[1:] if t is not None]
    event_ids = sorted({row.event_id for row in rows})
    for i in range(0, len(event_ids), 900):
        audited.update(db.session.execute(
            select(AuditEntry.event_id, func.max(AuditEntry.at))
            .where(AuditEntry.event_id.in_(event_ids[i:i + 900]), AuditEntry.at > since)
            .group_by(AuditEntry.event_id)).all())
    slot = next(_round) % ROTATION
    found = set()
    for row in rows:
        after = row.created_at - SETTLE
        moved = [*recent.get(row.session_id, []), audited.get(row.event_id)]
        if (counts.get(row.session_id, 0) != _sent_count(row.id, row.created_at)
                or row.recipient != (row.security_email or "").strip()
                or any(t is not None and t > after for t in moved) or row.session_id % ROTATION == slot):
            found.add(row.session_id)
    return found


@lru_cache(maxsize=4096)
def _sent_count(send_id: int, created_at: datetime) -> int:
    """A send's count, kept per process: it sits after the snapshot in the row, so reading it for
    every list each tick would read every snapshot. Only a deletion on request changes it
    (domain.privacy.retention); a stale value makes the session a candidate, never hides a change."""
    return db.session.scalar(select(SecurityListSend.count).where(SecurityListSend.id == send_id)) or 0


def changed_sessions(now: datetime) -> list[int]:
    """Sessions whose last sent list no longer matches their people (or whose contact changed):
    the tick's look. The last send of each session with a list that has not ended is read as
    plain rows; ``_candidates`` narrows them with two aggregate queries to those whose people may
    have changed; only those are compared with their last send, by count, then by a fingerprint
    of the values the venue has (``_key``)."""
    latest = (
        select(SecurityListSend.session_id, func.max(SecurityListSend.seq).label("seq"))
        .group_by(SecurityListSend.session_id).subquery()
    )
    rows = db.session.execute(
        select(SecurityListSend.id, SecurityListSend.session_id, SecurityListSend.created_at,
               SecurityListSend.recipient, EventSession.event_id, Event.security_email)
        .join(latest, (latest.c.session_id == SecurityListSend.session_id) & (latest.c.seq == SecurityListSend.seq))
        .join(EventSession, EventSession.id == SecurityListSend.session_id)
        .join(Event, Event.id == EventSession.event_id)
        .where(EventSession.ends_at > now, Event.security_email != "")
    ).all()
    if not rows:
        return []
    candidates = _candidates(rows, now)
    if not candidates:
        return []
    sends = db.session.execute(
        select(SecurityListSend.id, SecurityListSend.created_at, SecurityListSend.count, SecurityListSend.columns,
               SecurityListSend.recipient, EventSession, Event)
        .join(EventSession, EventSession.id == SecurityListSend.session_id)
        .join(Event, Event.id == EventSession.event_id)
        .where(SecurityListSend.id.in_([row.id for row in rows if row.session_id in candidates]))
    ).all()
    people: dict[int, list] = {}
    for person in db.session.execute(
        select(*_PERSON).where(Registration.session_id.in_([row.EventSession.id for row in sends]),
                               Registration.status == Status.confirmed)
    ):
        people.setdefault(person.session_id, []).append(person)
    changed = []
    for send_id, created_at, count, columns, recipient, session, event in sends:
        mine = people.get(session.id, [])
        if recipient != event.security_email.strip() or len(mine) != count:
            changed.append(session.id)
            continue
        getters = _getters(_frozen_columns(columns), event, session_label(event, session))
        now_keys = (tuple(get(p) for get in getters) for p in mine)
        if _fingerprint(now_keys) != _sent_fingerprint(send_id, created_at, count, tuple(columns)):
            changed.append(session.id)
    return sorted(changed)


def frozen_sheet(send_id: int, fmt: str) -> dict:
    """What the worker needs to render a send's file in ``fmt`` (decided when it was queued), as
    plain values: ``format``, ``filename``, ``header``, ``rows`` (the people frozen in the row, in
    the event's language)."""
    row = db.session.get(SecurityListSend, send_id)
    if row is None:
        raise LookupError(f"security list send #{send_id} is gone")
    event = db.session.get(Event, row.event_id)
    session = db.session.get(EventSession, row.session_id)
    head, body = sheet(row.columns, row.people or {}, _lang(event))
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
