"""What is scheduled for a session, as time rules, and the ScheduledTask rows that carry it.

Each task kind has one rule (domain.rules.TimeRule) resolved against the session's start in the
event's time zone, the same rule type as the registration deadline. Today there is one kind:

- ``deadline_summary``: when registration closes (the session's ``closes_at``, which is the
  event's deadline rule resolved by domain.deadlines), the event's contact gets the numbers.

Later kinds (the building-security list, reminders) add a line to ``RULES``. Call
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
from .rules import TimeRule


def _deadline_summary(event: Event, session: EventSession) -> TimeRule:
    # When registration closes: the deadline rule, or the start when there is none.
    return deadlines.deadline_rule(event, session) or TimeRule.hours_before(0)


# One rule per kind: (event, session) -> when, relative to the session's start.
RULES: dict[TaskKind, Callable[[Event, EventSession], TimeRule]] = {
    TaskKind.deadline_summary: _deadline_summary,
}


def due_at(kind: TaskKind, event: Event, session: EventSession) -> datetime:
    """When the task of ``kind`` for ``session`` is due (aware UTC). Nothing scheduled about a
    session is due after it starts (as with the deadline: domain.deadlines.deadline_for)."""
    at = RULES[kind](event, session).resolve(session.starts_at, event.timezone)
    return min(at, session.starts_at)


def reschedule(event: Event) -> None:
    """Creates or moves the scheduled tasks of ``event``'s sessions (flushes; no commit).

    Sessions must have ids (flush the event first). Done tasks are left as they are.
    """
    db.session.flush()
    existing = {
        (task.kind, task.session_id): task
        for task in db.session.scalars(select(ScheduledTask).where(ScheduledTask.event_id == event.id))
    }
    for session in event.sessions:
        for kind in RULES:
            at = due_at(kind, event, session)
            task = existing.get((kind, session.id))
            if task is None:
                db.session.add(ScheduledTask(kind=kind, event_id=event.id, session_id=session.id, due_at=at))
            elif task.done_at is None and task.due_at != at:
                task.due_at = at
    db.session.flush()
