"""When registration for a session opens and closes: one place for the rule.

A deadline is either absolute (``event.deadline_at``) or relative: "N days before the session
starts, at HH:MM in the event's time zone" (the seed seminar: 1 day before at 12:00). It never
falls after the session starts. All results are aware UTC.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ..models import Event, EventSession
from .errors import DomainError


def deadline_for(event: Event, session: EventSession) -> datetime:
    starts = session.starts_at
    if event.deadline_at is not None:
        deadline = event.deadline_at
    elif event.deadline_days_before is not None:
        tz = ZoneInfo(event.timezone)
        local_day = starts.astimezone(tz).date() - timedelta(days=event.deadline_days_before)
        at = time.fromisoformat(event.deadline_time) if event.deadline_time else starts.astimezone(tz).time()
        deadline = datetime.combine(local_day, at, tzinfo=tz)
    else:
        deadline = starts
    return min(deadline, starts).astimezone(timezone.utc)


def state(event: Event, session: EventSession, now: datetime) -> str:
    """'not_open', 'open' or 'closed' at ``now``. The deadline instant itself is closed."""
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return "not_open"
    if now >= deadline_for(event, session):
        return "closed"
    return "open"


def check_open(event: Event, session: EventSession, now: datetime) -> None:
    current = state(event, session, now)
    if current == "not_open":
        raise DomainError("registration_not_open")
    if current == "closed":
        raise DomainError("registration_closed")


def check_cancellable(session: EventSession, now: datetime) -> None:
    """Attendees may cancel until the session starts (a freed seat still helps the waiting list)."""
    if now >= session.starts_at:
        raise DomainError("session_started")
