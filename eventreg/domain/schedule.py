"""What is scheduled for a session, as time rules, and the ScheduledTask rows that carry it.

Each task kind has one rule (domain.rules.TimeRule) resolved against the session's start in the
event's time zone, the same rule type as the registration deadline. The kinds:

- ``deadline_summary``: when registration closes (the session's ``closes_at``, which is the
  event's deadline rule resolved by domain.deadlines), the event's contact gets the numbers.
- ``security_list``: the building-security list (domain.security_list) goes to the venue at the
  event's ``security_send_rule`` ("1d@12:00"), or when registration closes when it has none.
  Only events with a ``security_email`` have this task; removing the address removes the
  pending tasks (a list sent stays sent).

Later kinds (reminders) add a line to ``RULES`` (and to ``APPLIES`` when not every event has
them). Call
``reschedule(event)`` after sessions are created or their times or the event's rules change:
pending tasks move with their session, done tasks stay done, and a session without a task of a
kind gets one. The periodic tick (domain.periodic) finds and does the due ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Event, EventSession, ScheduledTask, TaskKind
from . import deadlines
from .errors import DomainError
from .rules import TimeRule, parse


def _deadline_summary(event: Event, session: EventSession) -> TimeRule:
    # When registration closes: the deadline rule, or the start when there is none.
    return deadlines.deadline_rule(event, session) or TimeRule.hours_before(0)


def _security_list(event: Event, session: EventSession) -> TimeRule:
    # The event's own send rule, or when registration closes. The settings page refuses a bad
    # rule; one that slipped in some other way falls back to the deadline rather than never.
    if event.security_send_rule:
        try:
            return parse(event.security_send_rule)
        except DomainError:
            pass
    return _deadline_summary(event, session)


# One rule per kind: (event, session) -> when, relative to the session's start.
RULES: dict[TaskKind, Callable[[Event, EventSession], TimeRule]] = {
    TaskKind.deadline_summary: _deadline_summary,
    TaskKind.security_list: _security_list,
}

# Kinds that only some events have: event -> whether its sessions get a task of the kind.
APPLIES: dict[TaskKind, Callable[[Event], bool]] = {
    TaskKind.security_list: lambda event: bool((event.security_email or "").strip()),
}


def due_at(kind: TaskKind, event: Event, session: EventSession) -> datetime:
    """When the task of ``kind`` for ``session`` is due (aware UTC). Nothing scheduled about a
    session is due after it starts (as with the deadline: domain.deadlines.deadline_for)."""
    at = RULES[kind](event, session).resolve(session.starts_at, event.timezone)
    return min(at, session.starts_at)


def reschedule(event: Event) -> None:
    """Creates or moves the scheduled tasks of ``event``'s sessions (flushes; no commit).

    Sessions must have ids (flush the event first). Done tasks are left as they are; a pending
    task of a kind the event no longer has (``APPLIES``) is removed.
    """
    db.session.flush()
    existing = {
        (task.kind, task.session_id): task
        for task in db.session.scalars(select(ScheduledTask).where(ScheduledTask.event_id == event.id))
    }
    for session in event.sessions:
        for kind in RULES:
            task = existing.get((kind, session.id))
            if not APPLIES.get(kind, lambda _event: True)(event):
                if task is not None and task.done_at is None:
                    db.session.delete(task)
                continue
            at = due_at(kind, event, session)
            if task is None:
                db.session.add(ScheduledTask(kind=kind, event_id=event.id, session_id=session.id, due_at=at))
            elif task.done_at is None and task.due_at != at:
                task.due_at = at
    db.session.flush()
