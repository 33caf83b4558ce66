"""Finding, each tick, the sessions whose visitor list changed since it was sent.

Thousands of people per tick: plain rows, no ORM objects. A session is a candidate when anything
of it changed since its last send (with ``SETTLE`` of slack for several hosts' clocks and a
transaction that read before the send and committed after it), plus 1/``ROTATION`` of the other
live lists compared in full; a candidate changed when the fingerprint of its people's values
differs from that of the last send.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import func, or_, select

from eventreg.domain.communication.building_list import person_key
from eventreg.domain.communication.building_list_sheet import key_columns, language_of, session_label
from eventreg.domain.people import field_words
from eventreg.extensions import db
from eventreg.models import AuditEntry, Event, EventSession, Registration, SecurityListSend, Status

# What the tick reads of each person: plain rows, no ORM objects (thousands per tick).
_PERSON = (Registration.session_id, Registration.family_name, Registration.given_name, Registration.family_kana,
           Registration.given_kana, Registration.organization, Registration.department, Registration.email,
           Registration.phone, Registration.sector)


def _fingerprint(keys) -> str:
    return hashlib.sha256(repr(sorted(keys)).encode()).hexdigest()


@lru_cache(maxsize=4096)
def _sent_fingerprint(send_id: int, created_at: datetime, count: int, columns: tuple[str, ...]) -> str | None:
    """The fingerprint of a send's people. A send changes only when a person's data is deleted on
    request (domain.privacy.retention, which also changes its count), so this is a pure function of
    the row (kept per process, so each list's people are read once, not every tick); it decides
    nothing by itself: the tick compares it with the people read now."""
    people = db.session.scalar(select(SecurityListSend.people).where(SecurityListSend.id == send_id))
    if people is None:
        return None
    return _fingerprint(person_key(values, list(columns)) for values in people.values())


def _getters(wanted: list[str], event: Event, session_text: str):
    """Per column, person row -> value: ``person_values`` without building a dict per person (the
    tick reads every person of every live list)."""
    language = language_of(event)
    table = {
        "name": lambda p: f"{p.family_name} {p.given_name}", "kana": lambda p: f"{p.family_kana} {p.given_kana}",
        "organization": lambda p: p.organization or "", "department": lambda p: p.department or "",
        "session": lambda p: session_text, "email": lambda p: p.email or "", "phone": lambda p: p.phone or "",
        "sector": lambda p: field_words.sector_name(p.sector, language),
    }
    return [table[c] for c in wanted]


# Which slice of the other live lists this process compares in full on its next tick.
_round = itertools.count()

# How far before a send a change still makes its session a candidate (clocks of several hosts,
# a transaction that read before the send and committed after it).
SETTLE = timedelta(minutes=10)


# Each tick also compares 1/ROTATION of the other live lists in full, so a change that left no
# timestamp (none is known today) is found within ROTATION ticks.
ROTATION = 20


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
    of the values the venue has (``person_key``)."""
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
        getters = _getters(key_columns(columns), event, session_label(event, session))
        now_keys = (tuple(get(p) for get in getters) for p in mine)
        if _fingerprint(now_keys) != _sent_fingerprint(send_id, created_at, count, tuple(columns)):
            changed.append(session.id)
    return sorted(changed)
