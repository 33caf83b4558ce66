"""Statistics of an event and across events: plain numbers, aggregated in SQL (GROUP BY).

Definitions (docs/statistics.md says the same in words):
- sign-up: a registration made before the day (walk-ins are counted apart); counted on the local
  day (the event's time zone) of ``created_at``; a cancellation on the day of ``cancelled_at``.
- per session, per sector, per event: the counters of domain.insight.counts (confirmed, held,
  waitlisted, cancelled, checked in, not arrived, walk-ins, no-shows), the same numbers the desk
  and the attendee list show.
- no-show rate = no-shows / (no-shows + registered arrivals), over ended sessions (Counts.no_show_rate).
- repeat attendee: checked in here, and the same email checked in at an earlier event in
  ``scope`` (an event whose first session started before this one's); an anonymised row (no
  email left) counts by its stored ``repeat_attendee`` flag.
- arrivals: ``checked_in_at`` of confirmed registrations in clock-aligned bins of ``BIN_MINUTES``.
- choice answers: per single- or multiple-choice question, how many of the people still registered
  (counts' ``active``: confirmed, held, waiting) chose each choice, and how many gave no answer.

Times are grouped in SQL into UTC buckets of 15 minutes (every time zone's offset is a multiple
of 15 minutes), and the buckets are put on local days here: exact in every zone, on both databases.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, case, cast, distinct, func, select
from sqlalchemy.sql import ColumnElement

from eventreg.domain.access import accounts
from eventreg.domain.access.permissions import Capability
from eventreg.domain.insight import counts
from eventreg.domain.insight.counts import Counts
from eventreg.extensions import db
from eventreg.models import Event, EventSession, QuestionKind, Registration, Scan, Sector, Status

BIN_MINUTES = 5
_QUARTER = 900
SECTORS = [s.value for s in Sector]
# Lead time of a cancellation before its session starts: (key, at least this many hours).
CANCEL_LEADS = [("week", 24 * 7), ("days", 48), ("day_before", 24), ("last_day", 0), ("after_start", None)]


def epoch(column) -> ColumnElement:
    """Seconds since 1970 of a UTCDateTime column, as an integer, on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", column)), Integer)
    return cast(func.strftime("%s", column), Integer)


def _bucket(column, seconds: int) -> ColumnElement:
    return epoch(column) // seconds  # integer division on both databases; epochs are positive


def _at(bucket: int, seconds: int) -> datetime:
    return datetime.fromtimestamp(int(bucket) * seconds, timezone.utc)


@dataclass
class SessionRow:
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    doors_at: datetime
    closes_at: datetime
    capacity: int
    ended: bool
    counts: Counts = field(default_factory=Counts)


@dataclass
class EventStats:
    event_id: int
    timezone: str
    sessions: list[SessionRow]
    days: list[dict]  # {"day", "signups", "cancellations", "total", "net"}
    sectors: list[dict]  # {"sector", "counts"}
    arrivals: dict[int, list[dict]]  # session id -> [{"at", "count", "total"}]
    cancellations: list[dict]  # {"lead", "count", "after_deadline"}
    repeat: dict  # {"attendees", "repeat", "anonymised_repeat"}
    scans: dict[str, int]  # scan result -> count
    totals: Counts = field(default_factory=Counts)
    choices: list[dict] = field(default_factory=list)  # {"id", "label", "counts": [(choice, n)], "unanswered"}
    modes: dict[str, Counts] = field(default_factory=dict)  # "onsite" / "online" -> counts (counts.per_mode)

    @property
    def capacity(self) -> int:
        return sum(s.capacity for s in self.sessions)


def visible_event_ids(who) -> list[int]:
    """The events ``who`` may read the numbers of (Capability.view), no others."""
    ids = who.event_ids if isinstance(who, accounts.Principal) else [m.event_id for m in who.memberships]
    return sorted(i for i in ids if accounts.can(who, i, Capability.view))


def event_stats(event: Event, *, now: datetime, scope: list[int] | None = None) -> EventStats:
    """Everything the statistics page shows for ``event``; ``scope``: the event ids whose earlier
    attendance counts for repeat attendees (the events the reader may view)."""
    zone = ZoneInfo(event.timezone)
    sessions = [SessionRow(s.id, s.title, s.starts_at, s.ends_at, s.doors_at, s.closes_at, s.capacity,
                           s.ends_at <= now) for s in event.sessions]
    per_session = counts.per_session(event.id, now=now)
    for s in sessions:
        s.counts = per_session.get(s.id, Counts())
    return EventStats(
        event.id, event.timezone, sessions, _days(event.id, zone), _sectors(event.id, now),
        _arrivals(event.id), _cancellations(event.id), _repeat(event, scope or [event.id]),
        _scans(event.id), counts.summed(s.counts for s in sessions), _choices(event),
        counts.per_mode([event.id], now=now).get(event.id, {}))


def _choices(event: Event) -> list[dict]:
    """Answers to the choice questions (hidden ones too: their answers stay), tallied here from the
    JSON column (one read of it; JSON functions differ between the two databases)."""
    asked = [q for q in event.questions if q.kind in (QuestionKind.single, QuestionKind.multiple)]
    if not asked:
        return []
    tally = {q.id: Counter() for q in asked}
    unanswered = Counter()
    rows = db.session.scalars(select(Registration.answers).where(
        Registration.event_id == event.id, Registration.status != Status.cancelled))
    for answers in rows:
        for q in asked:
            value = (answers or {}).get(str(q.id))
            chosen = value if isinstance(value, list) else [value] if value else []
            tally[q.id].update(c for c in chosen if c in q.choices)
            unanswered[q.id] += not chosen
    return [{"id": q.id, "label": q.label, "counts": [(c, tally[q.id][c]) for c in q.choices], "unanswered": unanswered[q.id]}
            for q in asked]


def _days(event_id: int, zone: ZoneInfo) -> list[dict]:
    per_day: dict[date, Counter] = defaultdict(Counter)
    for column, key in ((Registration.created_at, "signups"), (Registration.cancelled_at, "cancellations")):
        bucket = _bucket(column, _QUARTER)
        where = [Registration.event_id == event_id, Registration.walk_in.is_(False), column.is_not(None)]
        for value, n in db.session.execute(select(bucket, func.count()).where(*where).group_by(bucket)):
            per_day[_at(value, _QUARTER).astimezone(zone).date()][key] += n
    if not per_day:
        return []
    first, last = min(per_day), max(per_day)
    out, total, net = [], 0, 0
    day = first
    while day <= last:
        c = per_day.get(day, Counter())
        total += c["signups"]
        net += c["signups"] - c["cancellations"]
        out.append({"day": day, "signups": c["signups"], "cancellations": c["cancellations"],
                    "total": total, "net": net})
        day += timedelta(days=1)
    return out


def _sectors(event_id: int, now: datetime) -> list[dict]:
    rows = {sector.value if isinstance(sector, Sector) else sector: c for sector, c in
            counts.grouped(Registration.sector, where=[Registration.event_id == event_id], now=now).items()}
    return [{"sector": sector, "counts": rows.get(sector, Counts())} for sector in SECTORS]


def _arrivals(event_id: int) -> dict[int, list[dict]]:
    seconds = BIN_MINUTES * 60
    bucket = _bucket(Registration.checked_in_at, seconds)
    result: dict[int, list[dict]] = defaultdict(list)
    query = (select(Registration.session_id, bucket, func.count())
             .where(Registration.event_id == event_id, counts.CHECKED_IN)
             .group_by(Registration.session_id, bucket).order_by(Registration.session_id, bucket))
    for session_id, value, n in db.session.execute(query):
        bins = result[session_id]
        bins.append({"at": _at(value, seconds), "count": n, "total": (bins[-1]["total"] if bins else 0) + n})
    return dict(result)


def _cancellations(event_id: int) -> list[dict]:
    lead = epoch(EventSession.starts_at) - epoch(Registration.cancelled_at)
    whens = [(lead >= hours * 3600, key) for key, hours in CANCEL_LEADS if hours is not None]
    bucket = case(*whens, else_="after_start")
    late = Registration.cancelled_at >= EventSession.closes_at
    query = (select(bucket, func.count(), func.count().filter(late))
             .select_from(Registration).join(EventSession, EventSession.id == Registration.session_id)
             .where(Registration.event_id == event_id, Registration.status == Status.cancelled,
                    Registration.cancelled_at.is_not(None))
             .group_by(bucket))
    found = {key: (n, after) for key, n, after in db.session.execute(query)}
    return [{"lead": key, "count": found.get(key, (0, 0))[0], "after_deadline": found.get(key, (0, 0))[1]}
            for key, _ in CANCEL_LEADS]


def _first_starts(event_ids) -> dict[int, datetime]:
    return dict(db.session.execute(select(EventSession.event_id, func.min(EventSession.starts_at))
                                   .where(EventSession.event_id.in_(event_ids)).group_by(EventSession.event_id)).all())


def _repeat(event: Event, scope: list[int]) -> dict:
    """Attendees of ``event``, those who had attended an earlier event of ``scope`` (by email),
    and those of them known only by the anonymised rows' flag."""
    return _repeat_of(event.id, _first_starts(set(scope) | {event.id}))


def _repeat_of(event_id: int, starts: dict[int, datetime]) -> dict:
    """As _repeat, with the first session start of every event in scope given. A non-correlated
    IN (the earlier events' attendees' emails): both databases build it once (no email index)."""
    first = starts.get(event_id)
    earlier = [i for i, at in starts.items() if first is not None and at < first and i != event_id]
    attendees = db.session.scalar(select(func.count()).where(Registration.event_id == event_id, counts.CHECKED_IN))
    repeat = 0
    if earlier and attendees:
        before = select(Registration.email).where(Registration.event_id.in_(earlier), counts.CHECKED_IN,
                                                  Registration.email.is_not(None))
        repeat = db.session.scalar(select(func.count(distinct(Registration.email))).where(
            Registration.event_id == event_id, counts.CHECKED_IN, Registration.email.in_(before)))
    anonymised = db.session.scalar(select(func.count()).where(
        Registration.event_id == event_id, counts.CHECKED_IN, Registration.anonymised_at.is_not(None),
        Registration.repeat_attendee.is_(True)))
    return {"attendees": attendees, "repeat": repeat + anonymised, "anonymised_repeat": anonymised}


def _scans(event_id: int) -> dict[str, int]:
    return {result.value if hasattr(result, "value") else result: n for result, n in db.session.execute(
        select(Scan.result, func.count()).where(Scan.event_id == event_id).group_by(Scan.result))}


# --- across events ("shared measurement") ------------------------------------------------------

@dataclass
class CrossStats:
    events: list[dict]  # per event: id, title, starts_at, timezone, counts, returning
    sectors: dict[int, dict[str, int]]  # event id -> sector -> attended
    returners: list[dict]  # {"sector", "people"}: people attending 2+ of the events, by latest sector
    frequency: list[dict]  # {"events": n, "people"}: people by the number of events they attended


def cross_stats(event_ids: list[int], *, now: datetime) -> CrossStats:
    """The chosen events side by side, oldest first (the caller has checked the reader may view each)."""
    if not event_ids:
        return CrossStats([], {}, [], [])
    events = {e.id: e for e in db.session.scalars(select(Event).where(Event.id.in_(event_ids)))}
    starts = _first_starts(events)
    order = sorted(events, key=lambda i: (starts.get(i) or datetime.max.replace(tzinfo=timezone.utc), i))
    per_event = counts.grouped(Registration.event_id, where=[Registration.event_id.in_(order)], now=now)
    sectors: dict[int, dict[str, int]] = {i: dict.fromkeys(SECTORS, 0) for i in order}
    for event_id, sector, n in db.session.execute(
            select(Registration.event_id, Registration.sector, func.count())
            .where(Registration.event_id.in_(order), counts.CHECKED_IN)
            .group_by(Registration.event_id, Registration.sector)):
        sectors[event_id][sector.value if isinstance(sector, Sector) else sector] = n
    returning = _returning(order, starts)
    modes = counts.per_mode(order, now=now)
    rows = []
    for i in order:
        rows.append({"id": i, "title": events[i].title, "starts_at": starts.get(i), "timezone": events[i].timezone,
                     "counts": per_event.get(i, Counts()), "returning": returning.get(i, 0),
                     "modes": modes.get(i, {})})
    returners, frequency = _people(order)
    return CrossStats(rows, sectors, returners, frequency)


def _returning(order: list[int], starts: dict[int, datetime]) -> dict[int, int]:
    """Per event: attendees who had attended an earlier one of ``order`` (email), plus anonymised
    attendees flagged as repeat attendees."""
    return {i: _repeat_of(i, starts)["repeat"] for i in order}


def _people(order: list[int]) -> tuple[list[dict], list[dict]]:
    """People (by email) who attended 2+ of the events, by the sector they gave last; and how many
    people attended 1, 2, 3 … of them."""
    attended = (select(Registration.email.label("email"), Registration.sector.label("sector"),
                       Registration.event_id.label("event_id"),
                       func.row_number().over(partition_by=Registration.email,
                                              order_by=(Registration.created_at.desc(), Registration.id.desc())).label("n"))
                .where(Registration.event_id.in_(order), counts.CHECKED_IN, Registration.email.is_not(None))
                .subquery())
    per_person = (select(attended.c.email, func.count(distinct(attended.c.event_id)).label("events"),
                         func.max(case((attended.c.n == 1, attended.c.sector))).label("sector"))
                  .group_by(attended.c.email).subquery())
    frequency = db.session.execute(select(per_person.c.events, func.count()).group_by(per_person.c.events)
                                   .order_by(per_person.c.events)).all()
    by_sector = dict(db.session.execute(select(per_person.c.sector, func.count()).where(per_person.c.events >= 2)
                                        .group_by(per_person.c.sector)).all())
    returners = [{"sector": s, "people": by_sector.get(s, 0)} for s in SECTORS]
    return returners, [{"events": n, "people": people} for n, people in frequency]
