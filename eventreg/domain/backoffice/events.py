"""Events, their sessions and questions: created and changed from plain values.

One validation for every way in: the back-office forms (web/admin/events.py) and the YAML/TOML
import (domain/backoffice/event_import.py) both hand plain values (strings, dates, numbers) to
``clean_event`` / ``clean_session`` / ``clean_question``, which return model values or raise
``InvalidValues`` listing each problem as (field, code, params). The web turns the codes into
localized words next to the fields; the CLI prints the English ``detail``.

The changes (``create_event``, ``update_event``, ``add_session``, ``update_session``, ...) take
the actor and ``now``, write an audit entry with what changed, queue email through the outbox,
flush, and never commit. Refusals are DomainErrors with stable codes:

- capacity below the seats taken (``capacity_below_taken``, detail: the number taken) — the
  lowering is one conditional UPDATE (``… WHERE seats_taken <= :new``), so a seat taken at the same
  moment cannot slip under it; raising a capacity promotes waiting people at once;
- a session or event that anyone ever registered for (even cancelled) is not deleted
  (``session_has_registrations``, ``event_has_registrations``); an answered question is hidden,
  not deleted (``question_has_answers``), and keeps its kind and its choices (new ones may be added);
- status moves only draft → published → closed, closed → published, and published → draft while
  nobody registered (``status_change_refused``); publishing needs a session (``no_sessions``).

A session whose times change gets a higher iCalendar ``sequence``, its registration window and
scheduled tasks move with it, and every confirmed or waiting person gets one ``session_changed``
email (idempotent per sequence).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Mapping
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import func, select, update

from eventreg.domain.access import accounts as staff
from eventreg.domain.backoffice import audit
from eventreg.domain.communication import outbox, reminders
from eventreg.domain.errors import DomainError
from eventreg.domain.registration import holds
from eventreg.domain.registration.waitlist import promote_waiting
from eventreg.domain.timing import deadlines, schedule
from eventreg.domain.timing.rules import TimeRule
from eventreg.extensions import db
from eventreg.models import (
    Event,
    EventRole,
    EventSession,
    EventStatus,
    MailKind,
    Question,
    QuestionKind,
    Registration,
    Status,
)

MAX_CAPACITY = 100_000
MAX_CHOICES = 50
LANGUAGES = ("ja", "en")
DEFAULT_TIMEZONE = "Asia/Tokyo"
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
_DAYS = re.compile(r"^(\d{1,3})d(?:@(\d{1,2}):(\d{2}))?$")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")
_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}

# The event's own fields and their longest lengths (single line unless in _MULTILINE).
TEXT_FIELDS = {
    "title": 200, "venue_name": 200, "venue_address": 300, "organizer": 200, "contact_name": 200,
    "contact_phone": 50, "fee_note": 200, "description_md": 20_000, "access_notes": 2_000,
    "privacy_notice": 5_000,
}
_MULTILINE = ("description_md", "access_notes", "privacy_notice")

# English words for the CLI (the web has its own, localized, in web/admin/events.py).
ENGLISH = {
    "required": "is required",
    "hold_minutes_range": "must be a whole number of minutes from {min} to {max}",
    "too_long": "is longer than {max} characters",
    "control_characters": "contains control or invisible characters",
    "invalid_email": "is not an email address",
    "unknown_language": "must be ja or en",
    "unknown_timezone": "is not a known time zone",
    "invalid_slug": "may hold only a-z, 0-9 and hyphens (at most 80)",
    "slug_taken": "is used by another event",
    "invalid_datetime": "is not a date and time (YYYY-MM-DD HH:MM)",
    "invalid_date": "is not a date (YYYY-MM-DD)",
    "invalid_time": "is not a time (HH:MM)",
    "date_out_of_range": "must be between 2000 and 2100",
    "invalid_deadline": "must be empty, Nd@HH:MM (N days before at a time) or a date and time",
    "deadline_hours": "hours before the start cannot be stored for the registration deadline; use Nd@HH:MM or a date and time",
    "not_a_number": "must be a whole number",
    "capacity_negative": "must not be negative",
    "capacity_too_large": "must be at most {max}",
    "doors_after_start": "doors must open at or before the start",
    "end_before_start": "the end must be after the start",
    "unknown_kind": "kind must be text, single, multiple or checkbox",
    "choices_required": "choices are required for single and multiple",
    "too_many_choices": "at most {max} choices",
    "duplicate_choice": "a choice is listed twice: {choice}",
}


@dataclass
class Problem:
    field: str
    code: str
    params: dict = field(default_factory=dict)

    def english(self) -> str:
        return f"{self.field}: {ENGLISH.get(self.code, self.code).format(**self.params)}"


class InvalidValues(DomainError):
    """Values that fail validation; ``problems`` says which field and why (nothing was changed)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("invalid_values", "; ".join(p.english() for p in problems))

    def by_field(self) -> dict[str, Problem]:
        found: dict[str, Problem] = {}
        for problem in self.problems:
            found.setdefault(problem.field, problem)
        return found


class _Checker:
    """Collects problems field by field, so a form shows all of them at once."""

    def __init__(self):
        self.problems: list[Problem] = []

    def bad(self, name: str, code: str, **params) -> None:
        self.problems.append(Problem(name, code, params))

    def done(self) -> None:
        if self.problems:
            raise InvalidValues(self.problems)

    def text(self, name: str, value, *, max_length: int, multiline: bool = False, required: bool = False) -> str:
        value = "" if value is None else str(value)
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        allowed = {"\n", "\t"} if multiline else set()
        if "\ufffd" in value or any(unicodedata.category(ch) in _CONTROL and ch not in allowed for ch in value):
            self.bad(name, "control_characters")
            return ""
        value = value.strip() if multiline else " ".join(value.split())
        if len(value) > max_length:
            self.bad(name, "too_long", max=max_length)
            return ""
        if required and not value:
            self.bad(name, "required")
        return value


@lru_cache(maxsize=1)
def timezones() -> tuple[str, ...]:
    """The IANA zone names a form offers, sorted (Asia/Tokyo is the default)."""
    return tuple(sorted(name for name in available_timezones() if "/" in name and not name.startswith(("Etc/", "SystemV/"))))


def _zone(check: _Checker, value) -> tuple[str, ZoneInfo | None]:
    name = str(value or "").strip() or DEFAULT_TIMEZONE
    if len(name) > 64 or name not in available_timezones():
        check.bad("timezone", "unknown_timezone")
        return name, None
    return name, ZoneInfo(name)


def _parse_date(value) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _parse_time(value) -> time | None:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)  # YAML 1.1 reads an unquoted 14:00 as 840 (base 60)
    match = _HHMM.match(str(value or "").strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def _in_range(d: date) -> bool:
    return 2000 <= d.year <= 2100


def _local_datetime(check: _Checker, name: str, value, tz: ZoneInfo | None) -> datetime | None:
    """A date-time typed in the event's time zone ("2026-03-05T12:00", "2026-03-05 12:00"), or an
    aware one (a datetime, or text with its UTC offset). None for an empty value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text) if len(text) <= 40 else None
        except ValueError:
            moment = None
        if moment is None:
            check.bad(name, "invalid_datetime")
            return None
    if not _in_range(moment.date()):
        check.bad(name, "date_out_of_range")
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        if tz is None:
            return None  # the time zone is wrong already: one message is enough
        moment = moment.replace(tzinfo=tz)
    return moment.replace(second=0, microsecond=0).astimezone(timezone.utc)


def _deadline(check: _Checker, value, tz: ZoneInfo | None) -> dict:
    """The deadline rule's text → the event's three deadline columns."""
    none = {"deadline_at": None, "deadline_days_before": None, "deadline_time": None}
    text = str(value or "").strip().replace(" ", "")
    if not text:
        return none
    if match := _DAYS.match(text):
        days = int(match.group(1))
        hhmm = None
        if match.group(2) is not None:
            parsed = _parse_time(f"{match.group(2)}:{match.group(3)}")
            if parsed is None:
                check.bad("deadline", "invalid_deadline")
                return none
            hhmm = parsed.strftime("%H:%M")
        return {**none, "deadline_days_before": days, "deadline_time": hhmm}
    if re.match(r"^\d{1,4}(?:\.\d{1,2})?h$", text):
        check.bad("deadline", "deadline_hours")
        return none
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        check.bad("deadline", "invalid_deadline")
        return none
    at = _local_datetime(check, "deadline", str(value).strip(), tz)
    return {**none, "deadline_at": at}


def deadline_text(event: Event) -> str:
    """The event's deadline rule as the form shows it: "1d@12:00", "1d", a local date-time, or ""."""
    if event.deadline_at is not None:
        return event.deadline_at.astimezone(ZoneInfo(event.timezone)).strftime("%Y-%m-%dT%H:%M")
    if event.deadline_days_before is not None:
        suffix = f"@{event.deadline_time}" if event.deadline_time else ""
        return f"{event.deadline_days_before}d{suffix}"
    return ""


def clean_event(values: Mapping[str, Any], *, event: Event | None = None, unique_slug: bool = True) -> dict:
    """The event's own fields, checked: model attribute values. Raises InvalidValues.

    Keys: the TEXT_FIELDS, ``contact_email``, ``language``, ``timezone``, ``waitlist_enabled``,
    ``registration_opens`` (local to the time zone, or aware; empty: open from the start),
    ``deadline`` (rule text: "1d@12:00", "1d" = N days before at the start time, a local date-time,
    or empty: until the session starts) and optionally ``slug`` (a-z, 0-9, hyphens; with
    ``unique_slug``, no other event may have it).
    """
    check = _Checker()
    out: dict[str, Any] = {}
    for name, longest in TEXT_FIELDS.items():
        out[name] = check.text(name, values.get(name), max_length=longest, multiline=name in _MULTILINE,
                               required=name == "title")
    email = check.text("contact_email", values.get("contact_email"), max_length=254)
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        check.bad("contact_email", "invalid_email")
    out["contact_email"] = email
    language = str(values.get("language") or "ja")
    if language not in LANGUAGES:
        check.bad("language", "unknown_language")
    out["language"] = language
    out["timezone"], tz = _zone(check, values.get("timezone"))
    out["waitlist_enabled"] = bool(values.get("waitlist_enabled", True))
    out["confirm_email"] = bool(values.get("confirm_email", False))
    out["hold_minutes"] = _hold_minutes(check, values.get("hold_minutes"))
    out["registration_opens_at"] = _local_datetime(check, "registration_opens", values.get("registration_opens"), tz)
    out.update(_deadline(check, values.get("deadline"), tz))
    if values.get("slug") not in (None, ""):
        out["slug"] = str(values["slug"]).strip()
        if not _SLUG.match(out["slug"]):
            check.bad("slug", "invalid_slug")
        elif unique_slug and db.session.scalar(
                select(Event.id).where(Event.slug == out["slug"], Event.id != (event.id if event else -1))):
            check.bad("slug", "slug_taken")
    check.done()
    return out


def _hold_minutes(check: _Checker, raw) -> int:
    """How long an unconfirmed sign-up holds its seat (domain.registration.holds): 5 … 1440 minutes."""
    if raw is None or str(raw).strip() == "":
        return 60
    try:
        minutes = int(str(raw).strip()) if not isinstance(raw, bool) else None
    except ValueError:
        minutes = None
    if minutes is None or not holds.MIN_MINUTES <= minutes <= holds.MAX_MINUTES:
        check.bad("hold_minutes", "hold_minutes_range", min=holds.MIN_MINUTES, max=holds.MAX_MINUTES)
        return 60
    return minutes


def clean_session(values: Mapping[str, Any], tz_name: str) -> dict:
    """One session's values, checked: ``title``, ``date`` (YYYY-MM-DD), ``doors`` (HH:MM,
    empty: the start), ``start``, ``end``, ``capacity`` (0 … MAX_CAPACITY); times are local to
    ``tz_name``. Returns title, doors_at, starts_at, ends_at (aware UTC) and capacity."""
    check = _Checker()
    tz = ZoneInfo(tz_name)
    title = check.text("title", values.get("title"), max_length=200)
    day = _parse_date(values.get("date"))
    if day is None:
        check.bad("date", "invalid_date")
    elif not _in_range(day):
        check.bad("date", "date_out_of_range")
        day = None
    times = {}
    for name in ("doors", "start", "end"):
        raw = values.get(name)
        if name == "doors" and (raw is None or str(raw).strip() == ""):
            continue
        parsed = _parse_time(raw)
        if parsed is None:
            check.bad(name, "invalid_time" if str(raw or "").strip() else "required")
        times[name] = parsed
    times.setdefault("doors", times.get("start"))
    capacity = values.get("capacity")
    try:
        if isinstance(capacity, bool) or isinstance(capacity, float) or len(str(capacity).strip()) > 12:
            raise ValueError
        capacity = int(str(capacity).strip())
    except (TypeError, ValueError):
        check.bad("capacity", "not_a_number")
        capacity = None
    if capacity is not None and capacity < 0:
        check.bad("capacity", "capacity_negative")
    elif capacity is not None and capacity > MAX_CAPACITY:
        check.bad("capacity", "capacity_too_large", max=MAX_CAPACITY)
    out = {"title": title, "capacity": capacity}
    if day is not None and all(times.get(n) for n in ("doors", "start", "end")):
        at = {name: datetime.combine(day, t, tzinfo=tz).astimezone(timezone.utc) for name, t in times.items()}
        if at["end"] <= at["start"]:
            check.bad("end", "end_before_start")
        if at["doors"] > at["start"]:
            check.bad("doors", "doors_after_start")
        out.update(doors_at=at["doors"], starts_at=at["start"], ends_at=at["end"])
    check.done()
    return out


def _choices(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.splitlines()
    return [" ".join(str(item).split()) for item in value if str(item).strip()]


def clean_question(values: Mapping[str, Any]) -> dict:
    """One question: ``kind`` (text | single | multiple | checkbox), ``label``, ``help``,
    ``choices`` (a list, or text with one choice a line), ``required``."""
    check = _Checker()
    try:
        kind = QuestionKind(str(values.get("kind") or "text"))
    except ValueError:
        check.bad("kind", "unknown_kind")
        kind = QuestionKind.text
    label = check.text("label", values.get("label"), max_length=300, required=True)
    help_text = check.text("help", values.get("help"), max_length=500)
    choices = []
    if kind in (QuestionKind.single, QuestionKind.multiple):
        raw = values.get("choices")
        if not isinstance(raw, (str, list, tuple, type(None))):
            raw = [raw]
        for choice in _choices(raw):
            choices.append(check.text("choices", choice, max_length=200))
        seen = set()
        for choice in choices:
            if choice in seen:
                check.bad("choices", "duplicate_choice", choice=choice)
                break
            seen.add(choice)
        if not choices:
            check.bad("choices", "choices_required")
        elif len(choices) > MAX_CHOICES:
            check.bad("choices", "too_many_choices", max=MAX_CHOICES)
    check.done()
    return {"kind": kind, "label": label, "help": help_text, "choices": choices,
            "required": bool(values.get("required", False))}


# --- building -------------------------------------------------------------------------------

def new_slug(title_hint: str = "event") -> str:
    """A free slug: ``e-`` and 8 random hex digits (titles are often Japanese)."""
    while True:
        slug = f"e-{secrets.token_hex(4)}"
        if not db.session.scalar(select(Event.id).where(Event.slug == slug)):
            return slug


def build(event_values: dict, sessions: list[dict], questions: list[dict], *,
          status: EventStatus = EventStatus.draft, reminder_rules=(reminders.DEFAULT_RULE,),
          now: datetime | None = None) -> Event:
    """A new, unsaved Event from values that ``clean_*`` returned; windows resolved. It gets
    the reminder rules given (by default one: the day before at 10:00, domain.communication.reminders),
    created at ``now`` (None, from a caller that has no time to give: the rules' creation time is
    then unknown and stored as 1970-01-01, ``UNKNOWN_TIME``)."""
    values = dict(event_values)
    slug = values.pop("slug", None) or new_slug()
    event = Event(slug=slug, status=status, pass_key=secrets.token_urlsafe(32), **values)
    for s in sessions:
        event.sessions.append(EventSession(seats_taken=0, sequence=0, **s))
    for position, q in enumerate(questions, 1):
        event.questions.append(Question(position=position, hidden=False, **q))
    for session in event.sessions:
        deadlines.resolve_window(event, session)
    event.reminders.extend(reminders.new_rules(reminder_rules, now or UNKNOWN_TIME))
    return event


UNKNOWN_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if hasattr(value, "value") and not isinstance(value, (str, int, bool)):
        return value.value
    if isinstance(value, (str, int, bool, float, type(None), list, dict)):
        return value
    return str(value)


def _snapshot(obj, names) -> dict:
    return {name: _plain(getattr(obj, name)) for name in names}


_EVENT_FIELDS = (*TEXT_FIELDS, "contact_email", "language", "timezone", "waitlist_enabled", "confirm_email", "hold_minutes",
                 "registration_opens_at", "deadline_at", "deadline_days_before", "deadline_time", "slug")
_SESSION_FIELDS = ("title", "doors_at", "starts_at", "ends_at", "capacity")
_QUESTION_FIELDS = ("kind", "label", "help", "choices", "required", "hidden")


def create_event(values: Mapping[str, Any], *, actor, now: datetime, sessions: list = (),
                 questions: list = ()) -> Event:
    """A new draft from form values (``clean_event``), with sessions and questions from plain
    values; ``actor`` becomes its owner. Flushes."""
    cleaned = clean_event(values)
    tz_name = cleaned["timezone"]
    event = build(cleaned, [clean_session(s, tz_name) for s in sessions], [clean_question(q) for q in questions],
                  now=now)
    return _save_new(event, "event_created", audit.changes({}, _snapshot(event, ("title", "slug"))),
                     actor=actor, now=now)


def _save_new(event: Event, action: str, changed: dict, *, actor, now: datetime) -> Event:
    """Adds a new event: its tasks scheduled, ``actor`` (a staff user) its owner, the entry written."""
    db.session.add(event)
    db.session.flush()
    schedule.reschedule(event)
    if actor is not None and hasattr(actor, "memberships"):
        staff.assign(actor, event, EventRole.owner, now=now)
    audit.record(event.id, action, actor=actor, now=now, changed=changed)
    db.session.flush()
    return event


def _resolve_all(event: Event) -> None:
    for session in event.sessions:
        deadlines.resolve_window(event, session)
    schedule.reschedule(event)


def _keep_wall_clock(event: Event, old: ZoneInfo, new: ZoneInfo) -> None:
    """Before anyone registered, a new time zone keeps the sessions' local times (14:00 stays
    14:00, now in the new zone); afterwards it is refused (``timezone_in_use``)."""
    for session in event.sessions:
        for name in ("doors_at", "starts_at", "ends_at"):
            local = getattr(session, name).astimezone(old).replace(tzinfo=None)
            setattr(session, name, local.replace(tzinfo=new).astimezone(timezone.utc))


def update_event(event: Event, values: Mapping[str, Any], *, actor, now: datetime) -> dict:
    """Changes the event's own fields; windows and scheduled tasks follow a changed rule or
    time zone. Returns the changes ({} when nothing changed). The time zone may change only
    while nobody registered, and then the sessions keep their local times."""
    cleaned = clean_event(values, event=event)
    before = _snapshot(event, _EVENT_FIELDS)
    if cleaned["timezone"] != event.timezone:
        if registration_count(event.id):
            raise DomainError("timezone_in_use")
        _keep_wall_clock(event, ZoneInfo(event.timezone), ZoneInfo(cleaned["timezone"]))
    for name, value in cleaned.items():
        setattr(event, name, value)
    changed = audit.changes(before, _snapshot(event, _EVENT_FIELDS))
    if not changed:
        return {}
    if changed.keys() & {"timezone", "registration_opens_at", "deadline_at", "deadline_days_before", "deadline_time"}:
        _resolve_all(event)
    audit.record(event.id, "event_edited", actor=actor, now=now, changed=changed)
    db.session.flush()
    return changed


# --- status ---------------------------------------------------------------------------------

TRANSITIONS = {
    (EventStatus.draft, EventStatus.published): "event_published",
    (EventStatus.published, EventStatus.closed): "event_closed",
    (EventStatus.closed, EventStatus.published): "event_reopened",
    (EventStatus.published, EventStatus.draft): "event_unpublished",
}


def registration_count(event_id: int, session_id: int | None = None) -> int:
    """Every registration ever made (cancelled ones too)."""
    query = select(func.count()).select_from(Registration).where(Registration.event_id == event_id)
    if session_id is not None:
        query = query.where(Registration.session_id == session_id)
    return db.session.scalar(query) or 0


def set_status(event: Event, target: EventStatus, *, actor, now: datetime) -> None:
    """Moves the event to ``target``; one conditional UPDATE, so two clicks move it once."""
    target = EventStatus(target)
    action = TRANSITIONS.get((event.status, target))
    if action is None:
        raise DomainError("status_change_refused", f"{event.status.value} -> {target.value}")
    if target == EventStatus.published and not event.sessions:
        raise DomainError("no_sessions")
    if target == EventStatus.draft and registration_count(event.id):
        raise DomainError("event_has_registrations", str(registration_count(event.id)))
    before = event.status
    result = db.session.execute(
        update(Event).where(Event.id == event.id, Event.status == before).values(status=target)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise DomainError("status_change_refused", "changed meanwhile")
    db.session.refresh(event)
    audit.record(event.id, action, actor=actor, now=now, changed={"status": [before.value, target.value]})
    db.session.flush()


def delete_event(event: Event, *, actor, now: datetime) -> None:
    """Deletes an event nobody ever registered for (its audit log goes with it)."""
    taken = registration_count(event.id)
    if taken:
        raise DomainError("event_has_registrations", str(taken))
    db.session.delete(event)
    db.session.flush()


# --- sessions -------------------------------------------------------------------------------

def add_session(event: Event, values: Mapping[str, Any], *, actor, now: datetime) -> EventSession:
    cleaned = clean_session(values, event.timezone)
    session = EventSession(seats_taken=0, sequence=0, **cleaned)
    event.sessions.append(session)
    deadlines.resolve_window(event, session)
    db.session.flush()
    schedule.reschedule(event)
    audit.record(event.id, "session_added", actor=actor, now=now,
                 changed=audit.changes({}, {"session_id": session.id, **_snapshot(session, _SESSION_FIELDS)}))
    db.session.flush()
    return session


def _set_capacity(session: EventSession, capacity: int, *, now: datetime) -> None:
    if capacity == session.capacity:
        return
    raising = capacity > session.capacity
    result = db.session.execute(
        update(EventSession).where(EventSession.id == session.id, EventSession.seats_taken <= capacity)
        .values(capacity=capacity).execution_options(synchronize_session=False))
    db.session.refresh(session)
    if result.rowcount != 1:
        raise DomainError("capacity_below_taken", str(session.seats_taken))
    if raising:
        promote_waiting(session.id, now=now)
        db.session.refresh(session)


def update_session(session: EventSession, values: Mapping[str, Any], *, actor, now: datetime,
                   notify: bool = True) -> dict:
    """Changes a session. A changed date or time raises its ``sequence``, moves its window and
    scheduled tasks, and queues one ``session_changed`` email per confirmed or waiting person.
    Returns the changes."""
    event = session.event
    cleaned = clean_session(values, event.timezone)
    before = _snapshot(session, _SESSION_FIELDS)
    _set_capacity(session, cleaned.pop("capacity"), now=now)
    moved = any(getattr(session, name) != cleaned[name] for name in ("doors_at", "starts_at", "ends_at"))
    for name, value in cleaned.items():
        setattr(session, name, value)
    changed = audit.changes(before, _snapshot(session, _SESSION_FIELDS))
    if not changed:
        return {}
    if moved:
        session.sequence += 1
        deadlines.resolve_window(event, session)
        db.session.flush()
        schedule.reschedule(event)
        if notify:
            changed["notified"] = [None, _notify_moved(session, now)]
    audit.record(event.id, "session_edited", actor=actor, now=now, changed={"session_id": [session.id, session.id],
                                                                              **changed})
    db.session.flush()
    return changed


def _notify_moved(session: EventSession, now: datetime) -> int:
    """One email per active registration of the session, with the new pass and calendar entry."""
    ids = db.session.scalars(
        select(Registration.id).where(Registration.session_id == session.id,
                                      Registration.status.in_((Status.confirmed, Status.held, Status.waitlisted)))
        .order_by(Registration.id)).all()
    for registration_id in ids:
        outbox.enqueue(registration_id, MailKind.session_changed, now,
                       attachments=[outbox.PASS_PDF, outbox.ICS_REQUEST],
                       idempotency_key=f"session_changed:{session.id}:{session.sequence}:{registration_id}")
    return len(ids)


def remove_session(session: EventSession, *, actor, now: datetime) -> None:
    event = session.event
    taken = registration_count(event.id, session.id)
    if taken:
        raise DomainError("session_has_registrations", str(taken))
    if event.status != EventStatus.draft and len(event.sessions) == 1:
        raise DomainError("last_session")
    audit.record(event.id, "session_removed", actor=actor, now=now,
                 changed=audit.changes({"session_id": session.id, **_snapshot(session, _SESSION_FIELDS)}, {}))
    event.sessions.remove(session)
    db.session.flush()


# --- questions ------------------------------------------------------------------------------

def has_answers(question: Question) -> bool:
    """Whether any registration (cancelled ones too) holds an answer to ``question``."""
    key = str(question.id)
    for answers in db.session.scalars(select(Registration.answers).where(Registration.event_id == question.event_id)):
        if isinstance(answers, dict) and answers.get(key) not in (None, "", []):
            return True
    return False


def add_question(event: Event, values: Mapping[str, Any], *, actor, now: datetime) -> Question:
    cleaned = clean_question(values)
    position = max((q.position for q in event.questions), default=0) + 1
    question = Question(position=position, hidden=False, **cleaned)
    event.questions.append(question)
    db.session.flush()
    audit.record(event.id, "question_added", actor=actor, now=now,
                 changed=audit.changes({}, {"question_id": question.id, **_snapshot(question, _QUESTION_FIELDS)}))
    db.session.flush()
    return question


def update_question(question: Question, values: Mapping[str, Any], *, actor, now: datetime) -> dict:
    """Changes a question. Once it has answers its kind stays, and its choices may grow but
    none may go or be renamed (``question_in_use``, detail: the choice)."""
    cleaned = clean_question(values)
    if has_answers(question):
        if cleaned["kind"] != question.kind:
            raise DomainError("question_kind_in_use")
        missing = [c for c in question.choices if c not in cleaned["choices"]]
        if missing and question.kind in (QuestionKind.single, QuestionKind.multiple):
            raise DomainError("question_choice_in_use", missing[0])
    before = _snapshot(question, _QUESTION_FIELDS)
    for name, value in cleaned.items():
        setattr(question, name, value)
    changed = audit.changes(before, _snapshot(question, _QUESTION_FIELDS))
    if changed:
        audit.record(question.event_id, "question_edited", actor=actor, now=now,
                     changed={"question_id": [question.id, question.id], **changed})
        db.session.flush()
    return changed


def set_question_hidden(question: Question, hidden: bool, *, actor, now: datetime) -> None:
    """A hidden question is no longer asked; its answers stay in the data and the exports."""
    if question.hidden == bool(hidden):
        return
    question.hidden = bool(hidden)
    audit.record(question.event_id, "question_hidden" if hidden else "question_shown", actor=actor, now=now,
                 changed={"question_id": [question.id, question.id], "hidden": [not hidden, bool(hidden)]})
    db.session.flush()


def delete_question(question: Question, *, actor, now: datetime) -> None:
    if has_answers(question):
        raise DomainError("question_has_answers")
    event = question.event
    audit.record(event.id, "question_deleted", actor=actor, now=now,
                 changed=audit.changes({"question_id": question.id, **_snapshot(question, _QUESTION_FIELDS)}, {}))
    event.questions.remove(question)
    db.session.flush()


# --- clone ----------------------------------------------------------------------------------

def _shift(moment: datetime | None, days: int, zone: ZoneInfo) -> datetime | None:
    """The same wall-clock time ``days`` later on the calendar of ``zone`` (DST-proof)."""
    if moment is None:
        return None
    local = moment.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=days), local.time(), tzinfo=zone).astimezone(timezone.utc)


def clone_event(event: Event, first_date, *, actor, now: datetime, slug: str | None = None) -> Event:
    """A new draft copy (sessions, questions, settings; no registrations, a new pass key) whose
    first session falls on ``first_date``; every date moves by the same number of days on the
    event's calendar, so 14:00 stays 14:00 and 前日12:00 stays 前日12:00, also across a DST
    change. ``actor`` becomes its owner."""
    day = _parse_date(first_date)
    if day is None or not _in_range(day):
        raise InvalidValues([Problem("first_date", "invalid_date" if day is None else "date_out_of_range")])
    if not event.sessions:
        raise DomainError("no_sessions")
    zone = ZoneInfo(event.timezone)
    days = (day - min(s.starts_at for s in event.sessions).astimezone(zone).date()).days
    values = {name: getattr(event, name) for name in (*TEXT_FIELDS, "contact_email", "language", "timezone",
                                                      "waitlist_enabled", "confirm_email", "hold_minutes",
                                                      "deadline_days_before", "deadline_time",
                                                      "security_email", "security_format", "security_send_rule")}
    copy = Event(
        slug=slug or new_slug(), status=EventStatus.draft, pass_key=secrets.token_urlsafe(32),
        registration_opens_at=_shift(event.registration_opens_at, days, zone),
        deadline_at=_shift(event.deadline_at, days, zone),
        security_columns=list(event.security_columns or []), **values,
    )
    for s in event.sessions:
        copy.sessions.append(EventSession(
            title=s.title, doors_at=_shift(s.doors_at, days, zone), starts_at=_shift(s.starts_at, days, zone),
            ends_at=_shift(s.ends_at, days, zone), capacity=s.capacity, seats_taken=0, sequence=0))
    for q in event.questions:
        copy.questions.append(Question(position=q.position, kind=q.kind, label=q.label, help=q.help,
                                       choices=list(q.choices or []), required=q.required, hidden=q.hidden))
    for session in copy.sessions:
        deadlines.resolve_window(copy, session)
    copy.reminders.extend(reminders.new_rules([r.rule for r in event.reminders], now))
    return _save_new(copy, "event_cloned", {"cloned_from": [None, event.id], "days_shifted": [None, days]},
                     actor=actor, now=now)


def deadline_rule(event: Event, session: EventSession) -> TimeRule | None:
    """The rule as the overview describes it (domain.timing.deadlines has the one definition)."""
    return deadlines.deadline_rule(event, session)
