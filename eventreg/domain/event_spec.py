"""Building an event from a plain mapping (an imported YAML/TOML file, or the demo).

Times in the file are local to the event's time zone: ``date: 2019-02-08``, ``start: "14:00"``.
See docs/example-event.yaml for every key.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from ..extensions import db
from ..models import Event, EventSession, EventStatus, Question, QuestionKind
from . import deadlines, schedule
from .errors import DomainError

_TEXT_KEYS = (
    "title", "description", "venue_name", "venue_address", "access_notes", "organizer",
    "contact_name", "contact_phone", "contact_email", "fee_note", "privacy_notice",
)


def _bad(detail: str):
    return DomainError("invalid_event_file", detail)


def _local(value, tz: ZoneInfo, what: str) -> datetime:
    if isinstance(value, datetime):
        naive = value
    else:
        try:
            naive = datetime.fromisoformat(str(value))
        except ValueError:
            raise _bad(f"{what}: not a date-time: {value!r}") from None
    return naive.replace(tzinfo=tz) if naive.tzinfo is None else naive


def _at(day, hhmm, tz: ZoneInfo, what: str) -> datetime:
    try:
        d = day if isinstance(day, date) else date.fromisoformat(str(day))
        t = hhmm if isinstance(hhmm, time) else time.fromisoformat(str(hhmm))
    except ValueError:
        raise _bad(f"{what}: expected date YYYY-MM-DD and time HH:MM") from None
    return datetime.combine(d, t, tzinfo=tz)


def build_event(spec: dict) -> Event:
    """A new, unsaved Event with its sessions and questions; raises DomainError if invalid."""
    if not isinstance(spec, dict):
        raise _bad("the file must hold a mapping")
    for key in ("slug", "title", "sessions"):
        if not spec.get(key):
            raise _bad(f"missing key: {key}")
    tz_name = spec.get("timezone", "Asia/Tokyo")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad(f"unknown time zone: {tz_name}") from None
    event = Event(
        slug=str(spec["slug"]),
        description_md=str(spec.get("description", "")),
        language=spec.get("language", "ja"),
        timezone=tz_name,
        waitlist_enabled=bool(spec.get("waitlist", True)),
        status=EventStatus(spec.get("status", "published" if spec.get("published", True) else "draft")),
        pass_key=secrets.token_urlsafe(32),
        **{key: str(spec.get(key, "")) for key in _TEXT_KEYS if key != "description"},
    )
    if spec.get("registration_opens"):
        event.registration_opens_at = _local(spec["registration_opens"], tz, "registration_opens")
    deadline = spec.get("deadline") or {}
    if "at" in deadline:
        event.deadline_at = _local(deadline["at"], tz, "deadline.at")
    elif "days_before" in deadline:
        event.deadline_days_before = int(deadline["days_before"])
        event.deadline_time = time.fromisoformat(str(deadline.get("time", "00:00"))).strftime("%H:%M")
    for i, s in enumerate(spec["sessions"], 1):
        if not isinstance(s, dict):
            raise _bad(f"session {i}: must be a mapping")
        try:
            session = EventSession(
                title=str(s.get("title", "")),
                doors_at=_at(s["date"], s.get("doors", s["start"]), tz, f"session {i}"),
                starts_at=_at(s["date"], s["start"], tz, f"session {i}"),
                ends_at=_at(s["date"], s["end"], tz, f"session {i}"),
                capacity=int(s["capacity"]),
                seats_taken=0,
            )
        except KeyError as exc:
            raise _bad(f"session {i}: missing {exc.args[0]}") from None
        except (TypeError, ValueError):
            raise _bad(f"session {i}: capacity must be a whole number") from None
        if not session.doors_at <= session.starts_at < session.ends_at or session.capacity < 0:
            raise _bad(f"session {i}: doors <= start < end and capacity >= 0 are required")
        event.sessions.append(session)
    for session in event.sessions:
        deadlines.resolve_window(event, session)
    for i, q in enumerate(spec.get("questions", []), 1):
        if not isinstance(q, dict) or not q.get("label"):
            raise _bad(f"question {i}: a mapping with a label is required")
        try:
            kind = QuestionKind(q.get("kind", "text"))
        except ValueError:
            raise _bad(f"question {i}: kind must be text, single, multiple or checkbox") from None
        choices = [str(c) for c in q.get("choices", [])]
        if kind in (QuestionKind.single, QuestionKind.multiple) and not choices:
            raise _bad(f"question {i}: choices are required for {kind.value}")
        event.questions.append(Question(
            position=i, kind=kind, label=str(q["label"]), help=str(q.get("help", "")),
            choices=choices, required=bool(q.get("required", False)),
        ))
    return event


def replace_event(spec: dict) -> Event:
    """Adds the event, first deleting an existing one with the same slug."""
    event = build_event(spec)
    old = db.session.scalar(select(Event).where(Event.slug == event.slug))
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    db.session.add(event)
    db.session.flush()
    schedule.reschedule(event)
    return event
