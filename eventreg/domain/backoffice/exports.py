"""What an export holds: its column sets, which registrations, and their cells as text.

The domain gives codes and plain text; the caller names the columns and maps codes to labels
(``labels``: "column.<key>" -> header text, "sector.<code>" / "status.<code>" -> label,
"yes" / "no", and "language", the one sessions are named in: domain.timing.session_name). A
missing label falls back to the code, so nothing is ever blank by accident.

Column sets (``columns(event, which)``):
- "attendees": everything we hold on a person, then one column per question, hidden ones too
  (their answers stay in the data); a multiple-choice answer is its choices joined by " / ";
- "arrivals": who came, by sector (for the funder's report);
- "reception": the desk's list in 五十音 order (the PDF's columns);
- a list of column keys (the building-security list's ``event.security_columns``).
"summary" is not a list of people: ``summary_rows`` counts by session, sector and status, with
no names (what a viewer may download).

Times are written in the event's time zone as "YYYY-MM-DD HH:MM" (data, not prose).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_

from eventreg.domain.backoffice import hybrid_rules, roster
from eventreg.domain.insight import counts
from eventreg.domain.people import gojuon
from eventreg.domain.timing.session_name import session_name
from eventreg.extensions import db
from eventreg.models import Event, QuestionKind, Registration, Sector, Status

MULTI_JOIN = " / "
STREAM_BATCH = 1000  # registrations loaded per round trip

PERSONAL_SETS = ("attendees", "arrivals", "reception")

# Every fixed column a set or a security list may name, in the attendee export's order.
FIXED = (
    "id", "status", "session", "family_name", "given_name", "family_kana", "given_kana",
    "name", "kana", "email", "phone", "organization", "department", "sector", "walk_in",
    "created_at", "cancelled_at", "checked_in_at", "checked_in_desk", "kana_row", "mode",
)
SET_COLUMNS = {
    "attendees": ("id", "status", "session", "mode", "family_name", "given_name", "family_kana", "given_kana",
                  "email", "phone", "organization", "department", "sector", "walk_in",
                  "created_at", "cancelled_at", "checked_in_at", "checked_in_desk"),
    "arrivals": ("sector", "name", "kana", "organization", "department", "session", "mode", "walk_in",
                 "checked_in_at"),
    "reception": ("kana_row", "kana", "name", "organization", "session"),
}
# The summary's counters after session and sector: the attendee list's count cards.
SUMMARY_COUNTS = ("confirmed", "checked_in", "not_arrived", "walk_ins", "no_shows", "held", "waitlisted", "cancelled")
SECTOR_ORDER = [s.value for s in Sector]


@dataclass(frozen=True)
class Column:
    key: str  # a FIXED key, or "q<id>" for a question
    question_id: int | None = None
    title: str = ""  # a question's own label (fixed columns are named by the caller's labels)


def columns(event: Event, which: str | Iterable[str]) -> list[Column]:
    """The columns of the set ``which`` (a SET_COLUMNS name) or of a list of keys (unknown keys are left
    out); "attendees" ends with every question of the event, hidden ones included."""
    if isinstance(which, str):
        if which not in SET_COLUMNS:
            raise ValueError(f"unknown column set {which!r}")
        result = [Column(key) for key in SET_COLUMNS[which]]
        if which == "attendees":
            result += [Column(f"q{q.id}", q.id, q.label) for q in event.questions]
        return result
    by_key = {f"q{q.id}": q for q in event.questions}
    result = []
    for key in which:
        if key in FIXED:
            result.append(Column(key))
        elif key in by_key:
            result.append(Column(key, by_key[key].id, by_key[key].label))
    return result


def selection(event: Event, which: str, flt: roster.ListFilter, *, now: datetime) -> Select:
    """The registrations of an export, as a Select of Registration, following the attendee
    list's filter ``flt``: "attendees" exactly the list (in its order), "arrivals" those of them
    who checked in, "reception" those confirmed, both in 五十音 order ("arrivals" is grouped by
    sector afterwards: ``people``)."""
    if which == "arrivals":
        flt = flt.but(status="checked_in", sort="kana")
    elif which == "reception":  # the desk's paper list: people who come in person
        return roster.matching(event, flt.but(status="confirmed", sort="kana"), now=now).where(
            hybrid_rules.at_the_venue())
    return roster.matching(event, flt, now=now)


# What an export reads of a registration (not its secrets: token, entry id).
_ROW_COLUMNS = [Registration.__table__.c[name] for name in (
    "id", "session_id", "status", "family_name", "given_name", "family_kana", "given_kana", "email",
    "phone", "organization", "department", "sector", "walk_in", "answers", "created_at", "cancelled_at",
    "checked_in_at", "checked_in_desk", "sort_key")]


def people(event: Event, which: str, flt: roster.ListFilter, *, now: datetime) -> Iterable:
    """The registrations of an export as rows (attribute names as on Registration), streamed
    from the database in batches."""
    query = (selection(event, which, flt, now=now).with_only_columns(*_ROW_COLUMNS)
             .execution_options(yield_per=STREAM_BATCH))
    result = db.session.execute(query)
    if which == "arrivals":  # by sector (the form's order), 五十音 within each: a stable sort
        return sorted(result, key=lambda reg: SECTOR_ORDER.index(Sector(reg.sector).value))
    return result


def export(event: Event, which: str | Iterable[str], flt: roster.ListFilter, *, now: datetime,
           labels: Mapping[str, str] | None = None) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the set ``which`` (or of a list of column keys) for the people ``flt``
    selects; "summary" counts them by session, sector and status, cancelled included."""
    if which == "summary":
        return summary_rows(event, flt, now=now, labels=labels)
    group = which if isinstance(which, str) else "attendees"
    return rows(event, people(event, group, flt, now=now), columns(event, which), labels)



def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def _session_names(event: Event, labels: Mapping[str, str]) -> dict[int, str]:
    """Session id -> its name in the labels' language (``labels["language"]``, else the event's)."""
    language = labels.get("language") or event.language
    return {s.id: session_name(s, event.timezone, language) for s in event.sessions}


def header(cols: list[Column], labels: Mapping[str, str] | None = None) -> list[str]:
    labels = labels or {}
    return [c.title if c.question_id is not None else labels.get(f"column.{c.key}", c.key) for c in cols]


def _answer(value, kind: QuestionKind, labels: Mapping[str, str]) -> str:
    if value is None or value == "":
        return ""
    if kind == QuestionKind.checkbox or isinstance(value, bool):
        return labels.get("yes", "yes") if value else labels.get("no", "")
    if isinstance(value, (list, tuple)):
        return MULTI_JOIN.join(str(v) for v in value)
    return str(value)


def rows(event: Event, registrations: Iterable, cols: list[Column],
         labels: Mapping[str, str] | None = None) -> tuple[list[str], list[list[str]]]:
    """(header, one list of str per registration) for ``cols``. ``registrations`` are
    Registration objects or rows with the same attribute names (``people`` streams rows of the
    table's columns: a tenth of the cost of ORM objects), read once. Sessions and questions come
    from ``event``, so no row causes a query; each column's cell function is chosen once."""
    labels = labels or {}
    getters = [_cell_function(event, c, labels) for c in cols]
    body = [[get(reg) for get in getters] for reg in registrations]
    return header(cols, labels), body


def _cell_function(event: Event, c: Column, labels: Mapping[str, str]) -> Callable[[object], str]:
    zone = ZoneInfo(event.timezone)
    key = c.key
    if c.question_id is not None:
        kind = next(q.kind for q in event.questions if q.id == c.question_id)
        qid = str(c.question_id)
        return lambda reg: _answer((reg.answers or {}).get(qid), kind, labels)
    if key == "status":
        names = {s: labels.get(f"status.{s.value}", s.value) for s in Status}
        return lambda reg: names[Status(reg.status)]
    if key == "sector":
        names = {s: labels.get(f"sector.{s.value}", s.value) for s in Sector}
        return lambda reg: names[Sector(reg.sector)]
    if key == "session":
        titles = _session_names(event, labels)
        return lambda reg: titles.get(reg.session_id, "")
    if key == "mode":  # on site / online: the session's (a hybrid date is two sessions)
        modes = {s.id: labels.get(f"mode.{s.attendance_mode.value}", s.attendance_mode.value) for s in event.sessions}
        return lambda reg: modes.get(reg.session_id, "")
    if key == "name":
        return lambda reg: f"{reg.family_name} {reg.given_name}"
    if key == "kana":
        return lambda reg: f"{reg.family_kana} {reg.given_kana}"
    if key == "walk_in":
        yes, no = labels.get("yes", "yes"), labels.get("no", "")
        return lambda reg: yes if reg.walk_in else no
    if key in ("created_at", "cancelled_at", "checked_in_at"):
        moment = attrgetter(key)
        return lambda reg: _local(moment(reg), zone)
    if key == "kana_row":
        return lambda reg: gojuon.heading(reg.sort_key)
    value = attrgetter(key)
    return lambda reg: "" if (v := value(reg)) is None else str(v)


def summary_rows(event: Event, flt: roster.ListFilter, *, now: datetime,
                 labels: Mapping[str, str] | None = None) -> tuple[list[str], list[list[str]]]:
    """Counts by session and sector of the people ``flt`` selects (the cancelled too, unless the
    filter asks for one status), no names: the counters of domain.insight.counts, the attendee
    list's, headed "count.<name>"; a total row per session and one for the event."""
    labels = labels or {}
    everyone = [flt] if flt.status else [flt, flt.but(status="cancelled")]
    chosen = or_(*(Registration.id.in_(roster.matching(event, f, now=now).with_only_columns(Registration.id)
                                       .order_by(None)) for f in everyone))
    per = counts.grouped(Registration.session_id, Registration.sector, where=[chosen], now=now)
    sessions = list(_session_names(event, labels).items())
    total_label = labels.get("total", "total")

    def cells(c: counts.Counts) -> list[str]:
        return [str(c[name]) for name in SUMMARY_COUNTS]

    body = []
    for session_id, title in sessions:
        for sector in Sector:
            if (session_id, sector) in per:
                body.append([title, labels.get(f"sector.{sector.value}", sector.value), *cells(per[(session_id, sector)])])
        body.append([title, total_label, *cells(counts.summed(c for (i, _), c in per.items() if i == session_id))])
    if len(sessions) > 1:
        body.append([total_label, "", *cells(counts.summed(per.values()))])
    head = header([Column("session"), Column("sector")], labels)
    return head + [labels.get(f"count.{name}", name) for name in SUMMARY_COUNTS], body


def reception_list(event: Event, flt: roster.ListFilter, *, now: datetime) -> dict:
    """The 受付名簿 as plain values for the PDF: the event, its sessions, and the confirmed people
    ``flt`` selects in 五十音 order, grouped under their row headings (あ行 …)."""
    titles = _session_names(event, {})
    groups: list[dict] = []
    count = 0
    for reg in db.session.scalars(selection(event, "reception", flt, now=now)
                                  .execution_options(yield_per=STREAM_BATCH)):
        heading = gojuon.heading(reg.sort_key)
        if not groups or groups[-1]["heading"] != heading:
            groups.append({"heading": heading, "people": []})
        groups[-1]["people"].append({
            "kana": f"{reg.family_kana} {reg.given_kana}", "name": f"{reg.family_name} {reg.given_name}",
            "organization": reg.organization, "department": reg.department,
            "session": titles.get(reg.session_id, ""),
        })
        count += 1
    sessions = [s for s in event.sessions if flt.session_id in (None, s.id)]
    return {
        "title": event.title, "timezone": event.timezone, "language": event.language,
        "venue": event.venue_name,
        "sessions": [{"title": s.title, "doors_at": s.doors_at, "starts_at": s.starts_at,
                      "ends_at": s.ends_at} for s in sessions],
        "several_sessions": len(event.sessions) > 1,
        "groups": groups, "count": count, "made_at": now,
    }
