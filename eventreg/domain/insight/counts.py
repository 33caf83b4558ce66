"""How many: the one definition of the counters shown at the desk, at the top of the attendee
list, on the check-in log, in the statistics (one event and across events) and by the API.

Every registration is in exactly one of five groups (docs/statistics.md says the same in words):

- ``held``: a seat held until the person confirms their email;
- ``waitlisted``: on the waiting list;
- ``cancelled``;
- ``checked_in``: confirmed and checked in now (``checked_in_at`` set), walk-ins included;
- ``not_arrived``: confirmed and not checked in now.

and the other counters are made of those:

- ``confirmed`` = checked_in + not_arrived (walk-ins included: they hold a seat like anyone);
- ``walk_ins``: the checked-in people who registered at the desk (a part of checked_in);
- ``registered_arrivals`` = checked_in - walk_ins: who registered beforehand and came;
- ``no_shows``: not_arrived in a session that has ended at ``now`` (a part of not_arrived);
- ``active`` = confirmed + held + waitlisted (everyone still registered);
- ``seated`` = confirmed + held (the people who hold a seat: SEATED).

A walk-in whose check-in was undone is a confirmed registration that still holds its seat and
can be checked in again: it counts as not arrived (and as a no-show once its session has ended),
not as a walk-in, since nobody arrived. A walk-in entered by mistake is cancelled by staff,
which frees the seat and takes it out of every count but ``cancelled``.

One query (GROUP BY what the caller groups by) gives all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.sql import ColumnElement

from eventreg.extensions import db
from eventreg.models import EventSession, Registration, Status

# The counters, in the order pages show them. COUNT_WORDS (eventreg/web/count_words.py) has the
# words of each; a test checks that every name here has them.
NAMES = ("confirmed", "checked_in", "not_arrived", "walk_ins", "registered_arrivals", "no_shows",
         "held", "waitlisted", "cancelled", "active")


@dataclass(frozen=True)
class Counts:
    held: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    checked_in: int = 0
    not_arrived: int = 0
    walk_ins: int = 0
    no_shows: int = 0

    @property
    def confirmed(self) -> int:
        return self.checked_in + self.not_arrived

    @property
    def registered_arrivals(self) -> int:
        return self.checked_in - self.walk_ins

    @property
    def active(self) -> int:
        return self.confirmed + self.held + self.waitlisted

    @property
    def seated(self) -> int:
        return self.confirmed + self.held

    # Registered arrivals in the sessions that have ended: the no-show rate's other part.
    registered_arrivals_ended: int = 0

    @property
    def no_show_rate(self) -> float | None:
        """No-shows among the people expected in ended sessions (walk-ins cannot fail to come)."""
        expected = self.no_shows + self.registered_arrivals_ended
        return self.no_shows / expected if expected else None

    def __getitem__(self, name: str) -> int:
        """A counter by its name in NAMES (pages and tables list the names they show)."""
        if name not in NAMES:
            raise KeyError(name)
        return getattr(self, name)

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in NAMES}


# "Checked in": confirmed and checked in now. The statistics' arrivals, repeat attendees and
# attendees by sector select with it.
CHECKED_IN = and_(Registration.status == Status.confirmed, Registration.checked_in_at.is_not(None))


def _counters(now: datetime) -> list[ColumnElement]:
    """The stored counters of Counts, in its field order, as aggregates over Registration joined
    with its EventSession."""
    status, arrived = Registration.status, Registration.checked_in_at.is_not(None)
    confirmed = status == Status.confirmed
    ended = EventSession.ends_at <= now
    walk_in = Registration.walk_in.is_(True)
    return [
        func.count().filter(status == Status.held),
        func.count().filter(status == Status.waitlisted),
        func.count().filter(status == Status.cancelled),
        func.count().filter(confirmed, arrived),
        func.count().filter(confirmed, ~arrived),
        func.count().filter(confirmed, arrived, walk_in),
        func.count().filter(confirmed, ~arrived, ended),
        func.count().filter(and_(confirmed, arrived, ~walk_in, ended)),
    ]


def grouped(*group: ColumnElement, where: list[ColumnElement], now: datetime) -> dict:
    """Counts per value of ``group`` (one column: the value; several: a tuple) of the
    registrations that ``where`` selects, in one query. Groups without registrations are absent."""
    query = (select(*group, *_counters(now))
             .select_from(Registration).join(EventSession, EventSession.id == Registration.session_id)
             .where(*where).group_by(*group))
    out = {}
    for row in db.session.execute(query):
        key = row[0] if len(group) == 1 else tuple(row[:len(group)])
        out[key] = Counts(*row[len(group):])
    return out


def of_event(event_id: int, *, now: datetime, session_id: int | None = None) -> Counts:
    """The event's counts (or one session's): the desk, the check-in log, the API."""
    where = [Registration.event_id == event_id]
    if session_id is not None:
        where.append(Registration.session_id == session_id)
    return summed(grouped(Registration.session_id, where=where, now=now).values())


def per_event(event_ids, *, now: datetime) -> dict[int, Counts]:
    """Counts of each of ``event_ids`` that has registrations (the staff home's cards)."""
    return grouped(Registration.event_id, where=[Registration.event_id.in_(list(event_ids))], now=now)


def per_session(event_id: int, *, now: datetime) -> dict[int, Counts]:
    """Counts of each session of the event that has registrations."""
    return grouped(Registration.session_id, where=[Registration.event_id == event_id], now=now)


def per_mode(event_ids, *, now: datetime) -> dict[int, dict[str, Counts]]:
    """Event id -> attendance mode ("onsite", "online") -> counts: on-site and online attendance
    apart (a hybrid date is two sessions; "came" is checked_in in both modes: an online
    registrant's first join is their check-in)."""
    out: dict[int, dict[str, Counts]] = {}
    for (event_id, mode), found in grouped(Registration.event_id, EventSession.attendance_mode,
                                           where=[Registration.event_id.in_(list(event_ids))], now=now).items():
        out.setdefault(event_id, {})[getattr(mode, "value", mode)] = found
    return out


def summed(parts) -> Counts:
    return sum(parts, Counts())
