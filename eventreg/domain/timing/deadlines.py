"""When registration for a session opens and closes: one place for the rule.

A deadline is either absolute (``event.deadline_at``) or relative: "N days before the session
starts, at HH:MM in the event's time zone" (the seed seminar: 1 day before at 12:00). It never
falls after the session starts. All results are aware UTC.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from eventreg.domain.errors import DomainError
from eventreg.domain.timing.rules import TimeRule
from eventreg.models import Event, EventSession


def deadline_rule(event: Event, session: EventSession) -> TimeRule | None:
    """The event's deadline as a rule (None: registration runs until the session starts)."""
    if event.deadline_at is not None:
        return TimeRule.absolute(event.deadline_at)
    if event.deadline_days_before is not None:
        return TimeRule.days_before(event.deadline_days_before, event.deadline_time)
    return None


def deadline_for(event: Event, session: EventSession) -> datetime:
    starts = session.starts_at
    rule = deadline_rule(event, session)
    deadline = rule.resolve(starts, event.timezone) if rule else starts
    return min(deadline, starts).astimezone(timezone.utc)


def resolve_window(event: Event, session: EventSession) -> None:
    """Stores the session's registration window, resolved from the event's rule, on the session
    row: the seat UPDATE checks it. Call after any change to the rule or the session's times."""
    session.opens_at = event.registration_opens_at
    session.closes_at = deadline_for(event, session)


class DeadlineState(str, enum.Enum):
    not_open = "not_open"
    open = "open"
    closed = "closed"


def window_state(opens_at: datetime | None, closes_at: datetime, now: datetime) -> DeadlineState:
    """The state of a registration window at ``now``. The deadline instant itself is closed.

    The same comparison as the seat UPDATE in domain.registration.capacity (opens_at <= now < closes_at)."""
    if opens_at is not None and now < opens_at:
        return DeadlineState.not_open
    if now >= closes_at:
        return DeadlineState.closed
    return DeadlineState.open


def state(session: EventSession, now: datetime) -> DeadlineState:
    """The session's registration state at ``now``, from the window stored on its row."""
    return window_state(session.opens_at, session.closes_at, now)


REFUSALS = {DeadlineState.not_open: "registration_not_open", DeadlineState.closed: "registration_closed"}


def check_open(session: EventSession, now: datetime) -> None:
    """DomainError registration_not_open / registration_closed unless the window is open."""
    current = state(session, now)
    if current in REFUSALS:
        raise DomainError(REFUSALS[current])


def check_cancellable(session: EventSession, now: datetime) -> None:
    """Attendees may cancel until the session starts (a freed seat still helps the waiting list)."""
    if now >= session.starts_at:
        raise DomainError("session_started")
