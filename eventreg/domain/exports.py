"""What an export holds: its column sets, which registrations, and their cells as text.

The domain gives codes and plain text; the caller names the columns and maps codes to labels
(``labels``: "column.<key>" -> header text, "sector.<code>" / "status.<code>" -> label,
"yes" / "no"). A missing label falls back to the code, so nothing is ever blank by accident.

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

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from ..models import Event, QuestionKind, Registration, Sector, Status
from .checkin import KANA_ROWS

MULTI_JOIN = " / "

PERSONAL_SETS = ("attendees", "arrivals", "reception")
SETS = PERSONAL_SETS + ("summary",)

# Every fixed column a set or a security list may name, in the attendee export's order.
FIXED = (
    "id", "status", "session", "family_name", "given_name", "family_kana", "given_kana",
    "name", "kana", "email", "phone", "organization", "department", "sector", "walk_in",
    "created_at", "cancelled_at", "checked_in_at", "checked_in_desk", "kana_row",
)
SET_COLUMNS = {
    "attendees": ("id", "status", "session", "family_name", "given_name", "family_kana", "given_kana",
                  "email", "phone", "organization", "department", "sector", "walk_in",
                  "created_at", "cancelled_at", "checked_in_at", "checked_in_desk"),
    "arrivals": ("sector", "name", "kana", "organization", "department", "session", "walk_in",
                 "checked_in_at"),
    "reception": ("kana_row", "kana", "name", "organization", "session"),
}
SUMMARY_COLUMNS = ("session", "sector", "confirmed", "waitlisted", "cancelled", "checked_in", "walk_in")
SECTOR_ORDER = [s.value for s in Sector]


@dataclass(frozen=True)
class Column:
    key: str  # a FIXED key, or "q<id>" for a question
    question_id: int | None = None
    title: str = ""  # a question's own label (fixed columns are named by the caller's labels)


def columns(event: Event, which: str | Iterable[str]) -> list[Column]:
    """The columns of the set ``which`` (a SETS name) or of a list of keys (unknown keys are left
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


def selection(event: Event, which: str, base: Select | None = None) -> Select:
    """The registrations of an export, as a Select of Registration: ``base`` (the attendee list's
    filter, already sorted) or else all of the event's, by furigana; "arrivals" keeps only who
    checked in, by sector then furigana; "reception" only confirmed people, by furigana."""
    query = base if base is not None else select(Registration).where(Registration.event_id == event.id)
    kana_order = (Registration.family_kana, Registration.given_kana, Registration.id)
    if base is None:
        query = query.order_by(*kana_order)
    if which == "arrivals":
        query = query.where(Registration.checked_in_at.is_not(None)).order_by(None).order_by(
            Registration.sector, *kana_order)
    elif which == "reception":
        query = query.where(Registration.status == Status.confirmed).order_by(None).order_by(*kana_order)
    return query


def kana_row(kana: str) -> str:
    """The 五十音 row heading of a furigana: "あ行" … "わ行", "他" for anything else."""
    first = (kana or "")[:1]
    if "\u3041" <= first <= "\u3096":  # hiragana → katakana
        first = chr(ord(first) + 0x60)
    for row, letters in KANA_ROWS.items():
        if first and first in letters:
            return _ROW_HEADINGS[row]
    return "他"


_ROW_HEADINGS = {"a": "あ行", "ka": "か行", "sa": "さ行", "ta": "た行", "na": "な行", "ha": "は行",
                 "ma": "ま行", "ya": "や行", "ra": "ら行", "wa": "わ行"}


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


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


def rows(event: Event, registrations: Iterable[Registration], cols: list[Column],
         labels: Mapping[str, str] | None = None) -> tuple[list[str], list[list[str]]]:
    """(header, one list of str per registration) for ``cols``; ``registrations`` may be a
    streamed result (each is read once). Sessions and questions come from ``event``, not from
    each registration, so no row causes a query."""
    labels = labels or {}
    zone = ZoneInfo(event.timezone)
    session_titles = {s.id: s.title or f"#{s.id}" for s in event.sessions}
    kinds = {q.id: q.kind for q in event.questions}
    yes, no = labels.get("yes", "yes"), labels.get("no", "")

    def cell(reg: Registration, c: Column) -> str:
        key = c.key
        if c.question_id is not None:
            return _answer((reg.answers or {}).get(str(c.question_id)), kinds[c.question_id], labels)
        if key == "id":
            return str(reg.id)
        if key == "status":
            return labels.get(f"status.{reg.status.value}", reg.status.value)
        if key == "session":
            return session_titles.get(reg.session_id, "")
        if key == "name":
            return f"{reg.family_name} {reg.given_name}"
        if key == "kana":
            return f"{reg.family_kana} {reg.given_kana}"
        if key == "sector":
            return labels.get(f"sector.{reg.sector.value}", reg.sector.value)
        if key == "walk_in":
            return yes if reg.walk_in else no
        if key in ("created_at", "cancelled_at", "checked_in_at"):
            return _local(getattr(reg, key), zone)
        if key == "kana_row":
            return kana_row(reg.family_kana)
        value = getattr(reg, key)
        return "" if value is None else str(value)

    body = [[cell(reg, c) for c in cols] for reg in registrations]
    return header(cols, labels), body


def summary_rows(event: Event, registrations: Iterable[Registration],
                 labels: Mapping[str, str] | None = None) -> tuple[list[str], list[list[str]]]:
    """Counts by session and sector, no names: confirmed, waiting, cancelled, checked in,
    walk-ins; a total row per session and one for the event."""
    labels = labels or {}
    counts: Counter = Counter()
    for reg in registrations:
        for key in _summary_keys(reg):
            counts[(reg.session_id, reg.sector.value, key)] += 1
    measures = SUMMARY_COLUMNS[2:]
    body = []
    sessions = [(s.id, s.title or f"#{s.id}") for s in event.sessions]
    total_label = labels.get("total", "total")
    for session_id, title in sessions:
        for sector in SECTOR_ORDER:
            values = [counts[(session_id, sector, m)] for m in measures]
            if any(values):
                body.append([title, labels.get(f"sector.{sector}", sector), *map(str, values)])
        body.append([title, total_label, *(str(sum(counts[(session_id, s, m)] for s in SECTOR_ORDER))
                                           for m in measures)])
    if len(sessions) > 1:
        body.append([total_label, "", *(str(sum(counts[(i, s, m)] for i, _ in sessions for s in SECTOR_ORDER))
                                        for m in measures)])
    return header([Column(k) for k in SUMMARY_COLUMNS], labels), body


def _summary_keys(reg: Registration) -> list[str]:
    keys = [reg.status.value]
    if reg.checked_in_at is not None and reg.status != Status.cancelled:
        keys.append("checked_in")
    if reg.walk_in:
        keys.append("walk_in")
    return keys
