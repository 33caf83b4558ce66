"""Importing attendees from a spreadsheet: each row checked as the public form checks a sign-up,
then, for the rows that pass, one registration added by staff (registration_edits.add_by_hand:
the seat through the capacity's conditional UPDATE, the confirmation mail only when asked, one
audit entry) or, for a person already registered, merged into their registration when asked
(registration_edits.edit: empty fields filled, one audit entry).

``plan`` reads only: what each row would become (create, duplicate, merge, error, skipped) and
why, for the preview. ``run`` plans again from the database as it is now and writes; a row that
fails at the write (the last seat went meanwhile) is rolled back to its savepoint and listed.
Rows are numbered as the spreadsheet shows them: the header is row 1.

Decisions (docs/import.md): a row needs what the public form needs (email included: a
registration without an address gets no pass; re-importing a file therefore finds every
person again by email and creates nothing). A person is a duplicate when the event holds an
active registration with that email in any session, or an earlier row of the file has it.
Rows beyond a session's free seats are refused unless the organizer allows going above the
capacity (then the capacity grows with each seat, logged as on the add-by-hand page).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from eventreg.domain.backoffice import registration_edits
from eventreg.domain.backoffice.attendee_import_layouts import IGNORE, TARGETS, key
from eventreg.domain.errors import DomainError
from eventreg.domain.people import fields, names, text
from eventreg.domain.people.field_words import SECTOR_NAMES
from eventreg.domain.people.fields import PERSON, Covers
from eventreg.domain.registration.signup import Applicant
from eventreg.extensions import db
from eventreg.models import Event, QuestionKind, Registration, Sector, Status

YES = {"y", "yes", "true", "1", "on", "はい", "○", "◯", "✓", "✔", "x", "済", "参加", "有", "あり"}
CANCELLED = ("キャンセル", "cancel", "取消", "取り消し")
WAITING = ("補欠", "キャンセル待ち", "waitlist", "waiting")
_MULTIPLE_SEPARATORS = (",", "、", ";", "；", "\n", "/")


@dataclass(frozen=True)
class Options:
    mapping: list[str]  # one target per column (attendee_import_layouts.TARGETS, "q:<id>" or "")
    session_id: int  # the session of rows whose own session column is empty or not mapped
    sector: str = ""  # the sector of rows without one ("" : such rows are refused, as on the form)
    merge: bool = False  # a person already registered: fill their empty fields (else: refused)
    over_capacity: bool = False  # beyond the free seats: raise the capacity (else: refused)
    send_mail: bool = False  # the confirmation mail of a sign-up, to each person created


@dataclass
class Problem:
    """Why a row is not imported: ``field`` (a target or "q:<id>") and a code; codes of
    domain.errors come from the form's own checks, the others are the import's."""

    field: str
    code: str
    detail: str = ""


@dataclass
class Row:
    number: int  # as the spreadsheet shows it (the header is row 1)
    action: str  # create, merge, duplicate, error, skipped
    person: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)
    session_id: int | None = None
    problems: list[Problem] = field(default_factory=list)
    existing_id: int | None = None  # the registration a duplicate or merge is about
    same_as_row: int | None = None  # a duplicate within the file: its first row
    fills: dict = field(default_factory=dict)  # merge: the empty fields it fills
    above_capacity: bool = False
    registration_id: int | None = None  # after run: the registration created or merged into


@dataclass
class Plan:
    rows: list[Row]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


class BadOptions(DomainError):
    """The mapping names a field that does not exist, twice the same field, or another event's
    session: the page's form was not ours."""

    def __init__(self):
        super().__init__("invalid_request")


def check_options(event: Event, width: int, options: Options) -> None:
    questions = {f"q:{q.id}" for q in event.questions}
    chosen = [t for t in options.mapping if t != IGNORE]
    if (len(options.mapping) != width or any(t not in TARGETS and t not in questions for t in chosen)
            or len(chosen) != len(set(chosen)) or options.session_id not in {s.id for s in event.sessions}
            or (options.sector and options.sector not in {s.value for s in Sector})):
        raise BadOptions()


def plan(event: Event, rows: list[list[str]], options: Options, *, covers: Covers = None) -> Plan:
    """What each row would become, read from the database now; writes nothing."""
    check_options(event, len(rows[0]) if rows else len(options.mapping), options)
    existing = _active_by_email(event.id)
    first_row: dict[str, int] = {}
    planned: list[Row] = []
    for number, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # an empty line between people: not a person
        row = _read_row(event, number, cells, options, covers)
        planned.append(row)
        if row.action != "create":
            continue
        email = row.person["email"]
        if email in first_row:
            row.action, row.same_as_row = "duplicate", first_row[email]
        elif email in existing:
            first_row[email] = number
            row.existing_id = existing[email]
            _duplicate(row, options)
        else:
            first_row[email] = number
    _seats(event, planned, options)
    return Plan(planned)


def run(event: Event, rows: list[list[str]], options: Options, *, actor, now: datetime, filename: str,
        covers: Covers = None) -> Plan:
    """Plans, then creates and merges what the plan says, each row in its own savepoint: a row
    refused at the write is listed with its reason and the others go on. Flushes; the caller
    commits."""
    result = plan(event, rows, options, covers=covers)
    sessions = {s.id: s for s in event.sessions}
    params = {"file": filename[:100]}
    for row in result.rows:
        if row.action not in ("create", "merge"):
            continue
        try:
            with db.session.begin_nested():
                if row.action == "create":
                    applicant = Applicant(**row.person, answers=row.answers, language=event.language)
                    reg = registration_edits.add_by_hand(
                        sessions[row.session_id], applicant, actor=actor, now=now, covers=covers,
                        override_capacity=options.over_capacity, send_confirmation=options.send_mail,
                        note="imported_row", params={**params, "row": row.number})
                else:
                    reg = db.session.get(Registration, row.existing_id)
                    registration_edits.edit(reg, row.fills, actor=actor, now=now, covers=covers,
                                            note="merged_from_import", params={**params, "row": row.number})
            row.registration_id = reg.id
        except fields.InvalidFields as exc:  # checked by the plan already: only if the event changed meanwhile
            row.action = "error"
            row.problems.extend(Problem(name.replace("answers.", "q:"), e.code, e.detail or "") for name, e in exc.errors.items())
        except DomainError as exc:  # session_full (the last seat went meanwhile), email_taken (registered meanwhile)
            row.action = "error"
            row.problems.append(Problem("session" if exc.code == "session_full" else "email", exc.code))
    db.session.flush()
    return result


def _active_by_email(event_id: int) -> dict[str, int]:
    r = Registration
    found = db.session.execute(
        select(r.email, r.id, r.session_id).where(r.event_id == event_id, r.status != Status.cancelled,
                                                  r.email.is_not(None)).order_by(r.id))
    return {email: reg_id for email, reg_id, _session in found if email}


def _read_row(event: Event, number: int, cells: list[str], options: Options, covers: Covers) -> Row:
    raw = {target: cell for target, cell in zip(options.mapping, cells, strict=True) if target != IGNORE}
    row = Row(number, "create")
    status = key(raw.get("status", ""))
    for words, code in ((WAITING, "waiting_in_source"), (CANCELLED, "cancelled_in_source")):
        if any(word in status for word in words):
            shown = {"family_name": raw.get("family_name") or raw.get("full_name", ""), "given_name": raw.get("given_name", "")}
            return Row(number, "skipped", person=shown, problems=[Problem("status", code, raw["status"])])
    values = {name: raw.get(name, "") for name in PERSON}
    unsplit: set[str] = set()  # the parts of a whole name that could not be split: said once, as the whole's
    for whole, family, given in (("full_name", "family_name", "given_name"), ("full_kana", "family_kana", "given_kana")):
        if whole in raw:
            parts = _split(raw[whole], kana=whole == "full_kana")
            if parts is None:
                row.problems.append(Problem(whole, "name_not_split"))
                unsplit.update((family, given))
            else:
                values[family] = values[family] or parts[0]
                values[given] = values[given] or parts[1]
    values["sector"] = _sector(raw.get("sector", ""), options.sector, row)
    row.session_id = _session(event, raw.get("session", ""), options.session_id, row)
    try:
        row.person = fields.clean_person(values, covers=covers)
    except fields.InvalidFields as exc:
        row.problems.extend(Problem(name, e.code, e.detail or "") for name, e in exc.errors.items()
                            if name not in unsplit or e.code not in ("required", "kana_required"))
    answers = _answers(event, raw)
    try:
        fields.clean_answers(event.questions, answers, complete=True)
        row.answers = answers
    except fields.InvalidFields as exc:
        row.problems.extend(Problem(f"q:{name.split('.', 1)[1]}", e.code, e.detail or "")
                            for name, e in exc.errors.items())
    if row.problems:
        row.action = "error"
        row.person = {name: values.get(name) for name in PERSON} if not row.person else row.person
    return row


def _split(value: str, *, kana: bool) -> tuple[str, str] | None:
    """「山田 太郎」 → (山田, 太郎): family name first for Japanese script and furigana, given
    name first for other letters ("Anna Schmidt"); a name without a space cannot be split."""
    parts = text.loose(value).split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return None
    if kana or names.has_japanese(value):
        return parts[0], " ".join(parts[1:])
    return parts[-1], " ".join(parts[:-1])


_SECTOR_WORDS = {key(word): code for table in SECTOR_NAMES.values() for code, word in table.items()}
_SECTOR_WORDS.update({s.value: s.value for s in Sector})


def _sector(value: str, default: str, row: Row) -> str:
    if not value.strip():
        return default
    found = _SECTOR_WORDS.get(key(value))
    if found is None:
        row.problems.append(Problem("sector", "unknown_sector", value.strip()))
        return default
    return found


def _session(event: Event, value: str, default: int, row: Row) -> int:
    if not value.strip():
        return default
    by_title = {key(s.title): s.id for s in event.sessions if s.title}
    found = by_title.get(key(value))
    if found is None:
        row.problems.append(Problem("session", "unknown_session", value.strip()))
        return default
    return found


def _answers(event: Event, raw: dict) -> dict:
    """The mapped questions' cells as the form sends answers (a checkbox ticked by yes-words,
    several choices separated by commas, 、 or new lines)."""
    answers = {}
    for q in event.questions:
        cell = raw.get(f"q:{q.id}")
        if cell is None:
            continue
        cell = cell.strip()
        if q.kind == QuestionKind.checkbox:
            answers[str(q.id)] = key(cell) in YES
        elif q.kind == QuestionKind.multiple:
            for sep in _MULTIPLE_SEPARATORS:
                cell = cell.replace(sep, "\n")
            answers[str(q.id)] = [part.strip() for part in cell.split("\n") if part.strip()]
        else:
            answers[str(q.id)] = cell or (None if q.kind == QuestionKind.single else "")
    return answers


def _duplicate(row: Row, options: Options) -> None:
    """A person the event already holds: refused, or merged (only their empty fields filled)."""
    if not options.merge:
        row.action = "duplicate"
        return
    reg = db.session.get(Registration, row.existing_id)
    fills = {name: value for name, value in row.person.items()
             if value not in (None, "") and getattr(reg, name) in (None, "")}
    stored = reg.answers or {}
    answers = {qid: value for qid, value in row.answers.items()
               if value not in (None, "", [], False) and stored.get(qid) in (None, "", [], False)}
    if answers:
        fills["answers"] = answers
    row.fills = {name: (value.value if isinstance(value, Sector) else value) for name, value in fills.items()}
    row.action = "merge" if fills else "duplicate"


def _seats(event: Event, rows: list[Row], options: Options) -> None:
    """Rows beyond a session's free seats (in file order) are refused, or marked as going
    above the capacity when the organizer allows it. The write decides again (add_by_hand)."""
    free = {s.id: max(s.capacity - s.seats_taken, 0) for s in event.sessions}
    wanted: Counter = Counter()
    for row in rows:
        if row.action != "create":
            continue
        wanted[row.session_id] += 1
        if wanted[row.session_id] > free[row.session_id]:
            if options.over_capacity:
                row.above_capacity = True
            else:
                row.action = "error"
                row.problems.append(Problem("session", "no_seat_left"))
