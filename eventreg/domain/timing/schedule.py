"""What is scheduled for a session, as time rules, and the ScheduledTask rows that carry it.

Each task kind has one rule (domain.timing.rules.TimeRule) resolved against the session's start in the
event's time zone, the same rule type as the registration deadline. The kinds:

- ``deadline_summary``: when registration closes (the session's ``closes_at``, which is the
  event's deadline rule resolved by domain.timing.deadlines), the event's contact gets the numbers.
- ``security_list``: the building-security list (domain.communication.building_list) goes to the venue at the
  event's ``security_send_rule`` ("1d@12:00"), or when registration closes when it has none.
  Only events with a ``security_email`` have this task; removing the address removes the
  pending tasks (a list sent stays sent).

- ``followup``: the post-event loop (domain.communication.followups) at the event's
  ``followup_rule`` ("end+30m" after the session *ends*, the default), for events with at least
  one of its parts on. Turning every part off removes the pending tasks.

- ``reminder``: one task per session and ReminderRule of the event (``ref_id`` = the rule's id),
  due at the rule ("1d@10:00"); see domain.communication.reminders. Removing a rule removes its pending tasks.

A kind with one task per session adds a line to ``RULES`` (and to ``APPLIES`` when not every
event has it); a kind with several (one per ``ref_id``) adds one to ``PER_REF``. Tasks are keyed
by (kind, session, ref_id), as the table's unique key is. Call ``reschedule(event)`` after
sessions are created or their times or the event's rules change: pending tasks move with their
session, done tasks stay done, a session without a task it should have gets one, and a pending
task nothing asks for any more is removed. The periodic tick (domain.timing.periodic) finds and does
the due ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from eventreg.domain.backoffice import hybrid_rules
from eventreg.domain.errors import DomainError
from eventreg.domain.timing import deadlines
from eventreg.domain.timing.rules import TimeRule, parse
from eventreg.extensions import db
from eventreg.models import Event, EventSession, ScheduledTask, TaskKind


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


FOLLOWUP_DEFAULT = "end+30m"


def followup_rule(event: Event, _session: EventSession | None = None) -> TimeRule:
    """When the post-event loop runs: the event's rule, or 30 minutes after the session ends.
    The settings page refuses a bad rule; one that slipped in some other way is the default."""
    try:
        return parse(event.followup_rule or FOLLOWUP_DEFAULT, after_end=True)
    except DomainError:
        return parse(FOLLOWUP_DEFAULT, after_end=True)


def followup_on(event: Event) -> bool:
    """Whether any part of the event's post-event loop is on (else its sessions have no task)."""
    return event.followup_survey or event.followup_noshow or event.followup_certificate


# One rule per kind: (event, session) -> when, relative to the session's start (or end).
RULES: dict[TaskKind, Callable[[Event, EventSession], TimeRule]] = {
    TaskKind.deadline_summary: _deadline_summary,
    TaskKind.security_list: _security_list,
    TaskKind.followup: followup_rule,
}

# Kinds with several tasks per session: event -> [(ref_id, rule)], e.g. one per reminder rule.
# A rule text that does not parse (the pages refuse one) schedules nothing rather than fail.
def _reminder_rules(event: Event) -> list[tuple[int, TimeRule]]:
    found = []
    for reminder in event.reminders:
        try:
            found.append((reminder.id, parse(reminder.rule)))
        except DomainError:
            continue
    return found


PER_REF: dict[TaskKind, Callable[[Event], list[tuple[int, TimeRule]]]] = {
    TaskKind.reminder: _reminder_rules,
}

# Kinds that only some events have: event -> whether its sessions get a task of the kind.
APPLIES: dict[TaskKind, Callable[[Event], bool]] = {
    TaskKind.security_list: lambda event: bool((event.security_email or "").strip()),
    TaskKind.followup: followup_on,
}


def _at(rule: TimeRule, event: Event, session: EventSession) -> datetime:
    if rule.kind == "after_end":  # the post-event loop: after the session, by its nature
        return rule.resolve(session.starts_at, event.timezone, ends_at=session.ends_at)
    # Nothing else scheduled about a session is due after it starts (as with the deadline:
    # domain.timing.deadlines.deadline_for).
    return min(rule.resolve(session.starts_at, event.timezone), session.starts_at)


def due_at(kind: TaskKind, event: Event, session: EventSession) -> datetime:
    """When the task of ``kind`` (one of ``RULES``) for ``session`` is due (aware UTC)."""
    return _at(RULES[kind](event, session), event, session)


def wanted(event: Event, session: EventSession) -> dict[tuple[TaskKind, int], datetime]:
    """(kind, ref_id) -> due time of every task ``session`` should have now."""
    found = {}
    for kind, rule in RULES.items():
        if kind == TaskKind.security_list and not hybrid_rules.on_site(session):
            continue  # the venue's visitor list: nobody of an online session comes in
        if APPLIES.get(kind, lambda _event: True)(event):
            found[(kind, 0)] = _at(rule(event, session), event, session)
    for kind, refs in PER_REF.items():
        for ref_id, rule in refs(event):
            found[(kind, ref_id)] = _at(rule, event, session)
    return found


def reschedule(event: Event) -> None:
    """Creates, moves or removes the scheduled tasks of ``event``'s sessions (flushes; no commit).

    Sessions must have ids (flush the event first). Done tasks are left as they are; a pending
    task nothing asks for any more (a kind the event no longer has, ``APPLIES``, or a removed
    reminder rule) is removed.
    """
    db.session.flush()
    existing = {
        (task.kind, task.session_id, task.ref_id): task
        for task in db.session.scalars(select(ScheduledTask).where(ScheduledTask.event_id == event.id))
    }
    keep = set()
    for session in event.sessions:
        for (kind, ref_id), at in wanted(event, session).items():
            key = (kind, session.id, ref_id)
            keep.add(key)
            task = existing.get(key)
            if task is None:
                db.session.add(ScheduledTask(kind=kind, event_id=event.id, session_id=session.id,
                                             ref_id=ref_id, due_at=at))
            elif task.done_at is None and task.due_at != at:
                task.due_at = at
    for key, task in existing.items():
        if key not in keep and task.done_at is None:
            db.session.delete(task)
    db.session.flush()
