"""An event's values as people type them, checked: the event, its sessions and its questions.

One validation for every way in: the back-office forms (web/admin/events.py) and the YAML/TOML
import (domain/backoffice/event_import.py) both hand plain values (strings, dates, numbers) to
``clean_event`` / ``clean_session`` / ``clean_question``, which return model values or raise
``InvalidValues`` listing each problem as (field, code, params). The web turns the codes into
localized words next to the fields; the CLI prints the English ``detail``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import select

from eventreg.domain.errors import DomainError
from eventreg.domain.people.text import clean
from eventreg.domain.registration import holds
from eventreg.domain.timing import deadlines, rules
from eventreg.extensions import db
from eventreg.models import Event, QuestionKind

MAX_CAPACITY = 100_000
MAX_CHOICES = 50
LANGUAGES = ("ja", "en")
DEFAULT_TIMEZONE = "Asia/Tokyo"
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")

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
    "invalid_deadline": "must be empty, Nd@HH:MM (N days before at a time), Nbd@HH:MM (N business days before), Nh (N hours before) or a date and time",
    "deadline_kind": "kind must be none, days_before, business_days_before, hours_before or absolute",
    "deadline_days": "days before must be a whole number from 0 to 999",
    "deadline_business_days": "business days before must be a whole number from 1 to 99",
    "deadline_time": "the time must be HH:MM",
    "deadline_hours": "hours before must be a number from 0 to 9999 (at most two decimals)",
    "deadline_datetime": "is not a date and time (YYYY-MM-DD HH:MM)",
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
        try:  # the organizer's words kept as written: no NFKC, Markdown's line spacing kept
            value = clean("" if value is None else str(value), max_length=max_length, multiline=multiline,
                               fold=False, keep_spacing=multiline)
        except DomainError as exc:
            if exc.code == "too_long":
                self.bad(name, "too_long", max=max_length)
            else:  # a replacement character is what is left of an unreadable control byte
                self.bad(name, "control_characters")
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


def parse_date(value) -> date | None:
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


def in_range(d: date) -> bool:
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
    if not in_range(moment.date()):
        check.bad(name, "date_out_of_range")
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        if tz is None:
            return None  # the time zone is wrong already: one message is enough
        moment = moment.replace(tzinfo=tz)
    return moment.replace(second=0, microsecond=0).astimezone(timezone.utc)


def _deadline_rule(check: _Checker, value, tz: ZoneInfo | None, *, field: str = "deadline"):
    """A deadline as rule text (the import, the CLI, a scripted post: domain.timing.rules.parse,
    the one reader) or as a structured form's parts (a mapping: kind, days, at, hours, when;
    rules.from_parts). Returns (ok, rule or None); a problem lands on ``field``."""
    if isinstance(value, Mapping):
        try:
            rule = rules.from_parts(str(value.get("kind") or "none"), days=str(value.get("days") or ""),
                                    at=str(value.get("at") or ""), hours=str(value.get("hours") or ""),
                                    when=str(value.get("when") or ""), zone=tz or timezone.utc)
        except DomainError as exc:
            check.bad(field, exc.code)
            return False, None
    else:
        text = str(value or "").strip()
        if not text:
            return True, None
        try:
            rule = rules.parse(text, zone=tz or timezone.utc)
        except DomainError:
            check.bad(field, "invalid_deadline")
            return False, None
    if rule is not None and rule.kind == "absolute":
        if tz is None:
            return False, None  # the time zone is wrong already: one message is enough
        if not in_range(rule.at.date()):
            check.bad(field, "date_out_of_range")
            return False, None
        rule = rules.TimeRule.absolute(rule.at.replace(second=0, microsecond=0))
    return True, rule


def _deadline(check: _Checker, value, tz: ZoneInfo | None) -> dict:
    """The event's deadline (text or parts, see _deadline_rule) → the event's deadline columns."""
    ok, rule = _deadline_rule(check, value, tz)
    return deadlines.event_columns(rule if ok else None)


def clean_deadline(value, tz_name: str):
    """An event's deadline (text or parts) as a TimeRule, None for none; raises InvalidValues.
    For the deadline editor's preview: the same reading as ``clean_event``'s."""
    check = _Checker()
    ok, rule = _deadline_rule(check, value, ZoneInfo(tz_name))
    check.done()
    return rule if ok else None


def _session_deadline(check: _Checker, value, tz: ZoneInfo) -> dict:
    """A session's own deadline → its columns. Empty text or kind "event": it follows the event's
    rule; kind "none": until the session starts, whatever the event's rule (stored as "0h")."""
    if isinstance(value, Mapping) and value.get("kind") in (None, "", "event"):
        return deadlines.session_columns(None)
    if isinstance(value, Mapping) and value.get("kind") == "none":
        return deadlines.session_columns(rules.TimeRule.hours_before(0))
    ok, rule = _deadline_rule(check, value, tz)
    return deadlines.session_columns(rule if ok else None)


def clean_event(values: Mapping[str, Any], *, event: Event | None = None, unique_slug: bool = True) -> dict:
    """The event's own fields, checked: model attribute values. Raises InvalidValues.

    Keys: the TEXT_FIELDS, ``contact_email``, ``language``, ``timezone``, ``waitlist_enabled``,
    ``registration_opens`` (local to the time zone, or aware; empty: open from the start),
    ``deadline`` (rule text: "1d@12:00", "1d" = N days before at the start time, "3bd@17:00",
    "2h", 「前日12:00」, a local date-time, or empty: until the session starts; or a structured
    form's parts as a mapping, see _deadline_rule) and optionally ``slug`` (a-z, 0-9, hyphens; with
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
        out["slug"] = _slug(check, values["slug"], event=event, unique=unique_slug)
    check.done()
    return out


def _slug(check: _Checker, raw, *, event: Event | None, unique: bool) -> str:
    """The slug rule: a-z, 0-9, hyphens (at most 80); with ``unique``, no other event has it."""
    slug = str(raw).strip()
    if not _SLUG.match(slug):
        check.bad("slug", "invalid_slug")
    elif unique and db.session.scalar(
            select(Event.id).where(Event.slug == slug, Event.id != (event.id if event else -1))):
        check.bad("slug", "slug_taken")
    return slug


def clean_copy_names(values: Mapping[str, Any]) -> dict:
    """A copy's ``title`` (required, as an event's) and ``slug`` (optional, the slug rule above;
    empty: None, a random one is made). Raises InvalidValues."""
    check = _Checker()
    out = {"title": check.text("title", values.get("title"), max_length=TEXT_FIELDS["title"], required=True),
           "slug": None}
    if values.get("slug") not in (None, ""):
        out["slug"] = _slug(check, values["slug"], event=None, unique=True)
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
    ``tz_name``; optionally ``deadline``, the session's own (see _session_deadline). Returns title,
    doors_at, starts_at, ends_at (aware UTC), capacity, and deadline_at and deadline_rule when
    ``deadline`` was given."""
    check = _Checker()
    tz = ZoneInfo(tz_name)
    title = check.text("title", values.get("title"), max_length=200)
    day = parse_date(values.get("date"))
    if day is None:
        check.bad("date", "invalid_date")
    elif not in_range(day):
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
    if "deadline" in values:  # absent: the session's own deadline is not part of this change
        out.update(_session_deadline(check, values["deadline"], tz))
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
