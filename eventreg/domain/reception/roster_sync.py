"""The event's roster on an offline desk (GET /api/v1/events/<id>/roster): every registration of
the event as the device keeps it, all of them or only those changed since the device's cursor,
with what the desk needs beside them (the open conflicts and tasks, when to wipe the device).

A delta is ``Registration.changed_us > cursor - OVERLAP_US``. ``changed_us`` is written by
SQLAlchemy with the app server's clock when the statement runs, but the row becomes visible only
when its transaction commits, a moment later: a transaction that wrote at t and committed after
a desk read at t + ε would be missed if the next delta started at the read. Deltas therefore
reach OVERLAP_US back before the cursor. Other ways were weighed: the largest ``changed_us`` seen
as cursor (re-sends the last burst's rows on every poll for ever once the desk goes quiet, and is
just as blind to a late commit); PostgreSQL's transaction ids / snapshots (exact, but not on
SQLite, and a schema of their own). The overlap costs a few re-sent rows per poll while people
arrive (the device stores rows by id, so a row sent twice is harmless) and covers the app's
writers of registrations, which commit within milliseconds of writing (requests) or within
seconds (a bulk action, an import), plus a small clock difference between app servers. A row
inserted by a later commit than that would still be caught: the device compares its count with
``total`` and asks for everything when they differ, as it does when a registration is deleted.

A delta cannot express everything: the "not on the building's list" marker of a person depends on
the list sent to the venue, so when a list was sent since the cursor every marker may have
changed and the answer is ``full``; so is it without a cursor, with one the server cannot read, or
one of another event.

The cursor is ``"<event id>.<µs of the read>.<lists sent>.<last list id>"``: not a secret (it
only says what the device has), never trusted beyond deciding delta or full.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select

from eventreg.domain.backoffice import hybrid_rules
from eventreg.domain.reception import desk_followups, desk_search
from eventreg.extensions import db
from eventreg.models import CheckinConflict, DeskTask, Event, Registration, SecurityListSend

# How far a delta reaches back before its cursor (µs): see the module's docstring.
OVERLAP_US = 10_000_000
# A device's copy of the roster is wiped this long after the event's last session ends.
KEEP_AFTER_EVENT = timedelta(hours=6)


@dataclass(frozen=True)
class Cursor:
    event_id: int
    at_us: int  # the server's clock (µs, as Registration.changed_us) when the rows were read
    lists: int  # building lists sent for the event at that read
    last_list: int  # the id of the latest of them (0: none)

    def __str__(self) -> str:
        return f"{self.event_id}.{self.at_us}.{self.lists}.{self.last_list}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        parts = (text or "").split(".")
        if len(parts) != 4 or not all(p.isascii() and p.isdigit() and len(p) <= 20 for p in parts):
            return None
        return cls(*map(int, parts))


@dataclass
class Roster:
    event: Event
    full: bool
    cursor: Cursor
    total: int  # registrations of the event now (the device resyncs when its count differs)
    rows: list[Registration]  # in 五十音 order (sort_key, id); cancelled ones included
    unlisted: set[int]  # ids of ``rows`` the building has no pass for (desk_search.not_on_security_list)
    conflicts: list[CheckinConflict]
    tasks: list[DeskTask]  # not done yet
    ends_at: datetime | None  # the end of the event's last session
    wipe_after: datetime | None


def _lists_sent(event_id: int) -> tuple[int, int]:
    count, last = db.session.execute(
        select(func.count(SecurityListSend.id), func.max(SecurityListSend.id))
        .where(SecurityListSend.event_id == event_id)).one()
    return count, last or 0


def needs_full(cursor: Cursor | None, now: Cursor) -> bool:
    """Whether a device holding ``cursor`` must take everything, ``now`` being the cursor of this
    read: no cursor, another event's, one from the future (a server clock set back, or a made-up
    cursor; app servers a little apart are within the overlap), or a building list sent since
    (every "not on the list" marker may have changed)."""
    return (cursor is None or cursor.event_id != now.event_id or cursor.at_us > now.at_us + OVERLAP_US
            or (cursor.lists, cursor.last_list) != (now.lists, now.last_list))


def roster(event: Event, since: str | None, *, now_us: int) -> Roster:
    """The rows of ``event`` for a desk: every one (``full``), or those changed since ``since``.
    ``now_us`` is the server's clock in the unit of Registration.changed_us. A few queries for
    any number of people: the lists sent, the rows, their sessions, their markers, the count,
    the conflicts, the tasks."""
    lists, last_list = _lists_sent(event.id)
    now = Cursor(event.id, now_us, lists, last_list)
    cursor = Cursor.parse(since)
    full = needs_full(cursor, now)
    sessions = list(event.sessions)  # loaded once: each row's session comes from the identity map
    # On-site people only: a person moved online leaves the next delta, so the device's count
    # differs from ``total`` and it fetches the whole roster again (web/api/desk_roster.py).
    where = [Registration.event_id == event.id, hybrid_rules.at_the_venue()]
    if not full:
        where.append(Registration.changed_us > cursor.at_us - OVERLAP_US)
    rows = list(db.session.scalars(select(Registration).where(*where)
                                   .order_by(Registration.sort_key, Registration.id)))
    total = len(rows) if full else db.session.scalar(
        select(func.count(Registration.id)).where(Registration.event_id == event.id, hybrid_rules.at_the_venue()))
    ends_at = max((s.ends_at for s in sessions), default=None)
    return Roster(
        event=event, full=full, cursor=now, total=total, rows=rows,
        unlisted=desk_search.not_on_security_list(rows),
        conflicts=desk_followups.conflicts(event.id), tasks=desk_followups.open_tasks(event.id),
        ends_at=ends_at, wipe_after=ends_at + KEEP_AFTER_EVENT if ends_at else None,
    )


def store_key(session_secret: str, event_id: int) -> str:
    """The key a desk page encrypts its copy of this event's roster with (base64url, 32 bytes):
    HKDF-SHA256 of the staff session's secret, so only that signed-in browser can derive it, a new
    sign-in gives a new key (what an earlier session left on the device cannot be read with it),
    and another event's copy has another key."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"eventreg desk store",
               info=f"eventreg desk roster v1 event {event_id}".encode()).derive(session_secret.encode())
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()
