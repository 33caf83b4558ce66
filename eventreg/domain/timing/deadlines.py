"""When registration for a session opens and closes: one place for the rule.

A deadline is either absolute (``event.deadline_at``) or relative: "N days before the session
starts, at HH:MM in the event's time zone" (the seed seminar: 1 day before at 12:00), "N business
days before at HH:MM" or "N hours before the start" (domain.timing.rules). A session may have its
own deadline (``session.deadline_at`` or ``session.deadline_rule``), which then wins over the
event's. It never falls after the session starts. All results are aware UTC.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from eventreg.domain.errors import DomainError
from eventreg.domain.timing import rules
from eventreg.domain.timing.rules import TimeRule
from eventreg.models import Event, EventSession

# The event's deadline columns, all None: no rule (until the session starts).
NO_EVENT_RULE = {"deadline_at": None, "deadline_days_before": None, "deadline_time": None,
                 "deadline_business_days": False, "deadline_hours_before": None}


def event_rule(event: Event) -> TimeRule | None:
    """The event's deadline as a rule (None: registration runs until the session starts)."""
    if event.deadline_at is not None:
        return TimeRule.absolute(event.deadline_at)
    if event.deadline_hours_before is not None:
        return TimeRule.hours_before(event.deadline_hours_before)
    if event.deadline_days_before is not None:
        if event.deadline_business_days:
            return TimeRule.business_days_before(event.deadline_days_before, event.deadline_time)
        return TimeRule.days_before(event.deadline_days_before, event.deadline_time)
    return None


def event_columns(rule: TimeRule | None) -> dict:
    """The event's deadline columns that store ``rule`` (the inverse of ``event_rule``)."""
    if rule is None:
        return dict(NO_EVENT_RULE)
    if rule.kind == "absolute":
        return {**NO_EVENT_RULE, "deadline_at": rule.at.astimezone(timezone.utc)}
    if rule.kind == "hours_before":
        return {**NO_EVENT_RULE, "deadline_hours_before": rule.hours}
    return {**NO_EVENT_RULE, "deadline_days_before": rule.days, "deadline_time": rule.hhmm,
            "deadline_business_days": rule.kind == "business_days_before"}


def session_rule(session: EventSession) -> TimeRule | None:
    """The session's own deadline (None: it follows the event's). A stored text that no longer
    parses (the forms refuse one) is ignored rather than close the session at random."""
    if session.deadline_at is not None:
        return TimeRule.absolute(session.deadline_at)
    if session.deadline_rule:
        try:
            return rules.parse(session.deadline_rule)
        except DomainError:
            return None
    return None


def session_columns(rule: TimeRule | None) -> dict:
    """The session's own-deadline columns that store ``rule`` (None: follow the event)."""
    if rule is None:
        return {"deadline_at": None, "deadline_rule": None}
    if rule.kind == "absolute":
        return {"deadline_at": rule.at.astimezone(timezone.utc), "deadline_rule": None}
    return {"deadline_at": None, "deadline_rule": rule.text()}


def deadline_rule(event: Event, session: EventSession) -> TimeRule | None:
    """The rule that closes ``session``: its own, else the event's (None: until it starts)."""
    return session_rule(session) or event_rule(event)


def closes_at(rule: TimeRule | None, starts_at: datetime, tz: str) -> datetime:
    """The instant ``rule`` closes registration for a session starting at ``starts_at``: never
    after the start (no rule: the start itself)."""
    deadline = rule.resolve(starts_at, tz) if rule else starts_at
    return min(deadline, starts_at).astimezone(timezone.utc)


def deadline_for(event: Event, session: EventSession) -> datetime:
    return closes_at(deadline_rule(event, session), session.starts_at, event.timezone)


def resolved(event: Event, rule: TimeRule | None, sessions) -> list[tuple[EventSession, datetime, bool]]:
    """What the event's deadline ``rule`` (a candidate, not stored) gives each of ``sessions``:
    (session, closes_at, whether the session's own deadline decides instead). The deadline
    editor shows this before anything is saved; ``resolve_window`` stores the same on saving."""
    out = []
    for session in sessions:
        own = session_rule(session)
        out.append((session, closes_at(own or rule, session.starts_at, event.timezone), own is not None))
    return out


def resolve_window(event: Event, session: EventSession) -> None:
    """Stores the session's registration window, resolved from its own rule or the event's, on
    the session row: the seat UPDATE checks it. Call after any change to the rule or the session's times."""
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
