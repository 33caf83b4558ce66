"""Reminders before a session: the rules of an event, and the emails each rule's task queues.

An event has reminder rules (ReminderRule) written as domain.timing.rules text: "1d@10:00" is the day
before the session at 10:00 in the event's time zone, "2h" two hours before it starts. New
events get ``DEFAULT_RULE``; events from before reminders existed have none. Each rule gives
every session one ScheduledTask (kind ``reminder``, ``ref_id`` = the rule's id), kept by
domain.timing.schedule: a pending task moves with its session, removing a rule removes its pending
tasks, a task that was done stays done.

When the periodic tick does a task (domain.timing.periodic), ``queue`` writes one outbox row per
confirmed registration of the session that has an email address, in the same transaction as
the task's conditional "done" UPDATE, with one batch ``INSERT … ON CONFLICT DO NOTHING`` keyed
``reminder:<task id>:<registration id>``: however many workers tick, each person gets each
reminder once. A task found more than 48 hours after it was due, or after its session ended,
is marked missed and sends nothing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from eventreg.domain.backoffice import audit
from eventreg.domain.communication import outbox
from eventreg.domain.errors import DomainError
from eventreg.domain.timing import schedule
from eventreg.domain.timing.rules import TimeRule, parse
from eventreg.extensions import db
from eventreg.models import (
    Event,
    EventSession,
    MailKind,
    OutboxMessage,
    OutboxStatus,
    Registration,
    ReminderRule,
    ScheduledTask,
    Status,
    TaskKind,
)

DEFAULT_RULE = "1d@10:00"
MAX_RULES = 5  # per event: more would be noise to the attendees
MAX_DAYS = 60
MAX_HOURS = 72


def check_rule(value: str) -> str:
    """The rule's normal text ("1d@10:00", "2h"); DomainError for anything else.

    Codes: ``invalid_rule`` (not a rule), ``reminder_not_relative`` (a fixed date: a reminder is
    relative to each session), ``reminder_too_early`` (more than MAX_DAYS days / MAX_HOURS hours
    before).
    """
    rule = parse(value)
    if rule.kind == "absolute":
        raise DomainError("reminder_not_relative", value[:40])
    if (rule.kind == "days_before" and rule.days > MAX_DAYS) or (rule.kind == "hours_before" and rule.hours > MAX_HOURS):
        raise DomainError("reminder_too_early", value[:40])
    return rule.text()


def _whole(text: str) -> bool:
    # ASCII digits only (after NFKC, full-width １２ is 12), at most 3: int() never fails here.
    return text.isascii() and text.isdecimal() and len(text) <= 3


def rule_from_parts(kind: str, *, days: str = "", at: str = "", hours: str = "") -> str:
    """The rule text from the back office's form: "N days before at HH:MM" (kind "days") or
    "N hours before" (kind "hours"), each part as typed. DomainError with the code of the
    first wrong part: ``reminder_days``, ``reminder_time``, ``reminder_hours``, ``reminder_kind``."""
    days, at, hours = (unicodedata.normalize("NFKC", part or "").strip() for part in (days, at, hours))
    if kind == "days":
        if not _whole(days) or not 0 <= int(days) <= MAX_DAYS:
            raise DomainError("reminder_days", days[:10])
        parts = at.split(":")
        if len(parts) != 2 or not all(_whole(p) for p in parts) or not (0 <= int(parts[0]) <= 23 and 0 <= int(parts[1]) <= 59):
            raise DomainError("reminder_time", at[:10])
        return check_rule(f"{int(days)}d@{int(parts[0]):02d}:{int(parts[1]):02d}")
    if kind == "hours":
        if not _whole(hours) or not 1 <= int(hours) <= MAX_HOURS:
            raise DomainError("reminder_hours", hours[:10])
        return check_rule(f"{int(hours)}h")
    raise DomainError("reminder_kind", (kind or "")[:10])


def new_rules(texts, now: datetime) -> list[ReminderRule]:
    """Unsaved ReminderRule rows for a new event (checked, duplicates dropped, in order)."""
    seen: list[str] = []
    for text in texts:
        rule = check_rule(str(text))
        if rule not in seen:
            seen.append(rule)
    if len(seen) > MAX_RULES:
        raise DomainError("too_many_reminders", str(len(seen)))
    return [ReminderRule(rule=rule, created_at=now) for rule in seen]


def add(event: Event, text: str, *, actor, now: datetime) -> ReminderRule:
    """Adds a rule and schedules its task for every session (flushes). DomainError
    ``reminder_exists`` for a rule the event has, ``too_many_reminders`` beyond MAX_RULES."""
    rule = check_rule(text)
    if any(existing.rule == rule for existing in event.reminders):
        raise DomainError("reminder_exists", rule)
    if len(event.reminders) >= MAX_RULES:
        raise DomainError("too_many_reminders", str(MAX_RULES))
    reminder = ReminderRule(rule=rule, created_at=now)
    event.reminders.append(reminder)
    db.session.flush()
    schedule.reschedule(event)
    audit.record(event.id, "reminder_added", actor=actor, now=now, changed={"reminder": [None, rule]})
    return reminder


def remove(event: Event, rule_id: int, *, actor, now: datetime) -> str:
    """Removes a rule and its pending tasks (those done stay, with what they sent); returns the
    rule's text. DomainError ``not_found`` for a rule of another event."""
    reminder = next((r for r in event.reminders if r.id == rule_id), None)
    if reminder is None:
        raise DomainError("reminder_not_found", str(rule_id))
    text = reminder.rule
    event.reminders.remove(reminder)
    db.session.flush()
    schedule.reschedule(event)
    audit.record(event.id, "reminder_removed", actor=actor, now=now, changed={"reminder": [text, None]})
    return text


def _reminded(session_id: int) -> tuple:
    # Who a reminder of the session goes to: confirmed, with an email address. Not waiting,
    # cancelled or held (a seat kept until the email is confirmed).
    return (Registration.session_id == session_id, Registration.status == Status.confirmed,
            Registration.email.is_not(None), Registration.email != "")


def recipients(session_id: int) -> list[tuple[int, str]]:
    """(registration id, language) of everyone a reminder of the session goes to."""
    return list(db.session.execute(
        select(Registration.id, Registration.language).where(*_reminded(session_id)).order_by(Registration.id)
    ).all())


def has_recipients(session_id: int) -> bool:
    """Whether a reminder of the session would go to anyone (``recipients`` is not empty)."""
    return db.session.scalar(select(Registration.id).where(*_reminded(session_id)).limit(1)) is not None


def key(task_id: int, registration_id: int) -> str:
    """The outbox idempotency key of one person's copy of one reminder."""
    return f"reminder:{task_id}:{registration_id}"


def queue(task: ScheduledTask, session: EventSession, now: datetime) -> int:
    """Queues the reminder of ``task`` for everyone in ``recipients`` (one batch insert that skips
    the keys queued already); returns how many rows were added."""
    people = recipients(session.id)
    rows = [outbox.attendee_row(registration_id, MailKind.reminder, now,
                                language=lang if lang in outbox.LANGUAGES else None,
                                context={"task_id": task.id, "reminder_rule_id": task.ref_id},
                                idempotency_key=key(task.id, registration_id))
            for registration_id, lang in people]
    return outbox.insert_once(rows)


# --- the back office's view --------------------------------------------------------------------

@dataclass(frozen=True)
class TaskState:
    """What one rule's task of one session did or will do, for the page."""

    session: EventSession
    due_at: datetime | None  # the resolved send time (aware UTC)
    state: str  # "pending" | "sent" | "missed" | "skipped" | "none" (no task: a session added meanwhile)
    done_at: datetime | None = None
    people: int = 0  # rows queued ("sent to N people")
    delivered: int = 0  # of those, accepted by the SMTP server so far


def _counts(task_ids: list[int]) -> dict[int, tuple[int, int]]:
    """task id -> (rows queued, rows sent), from the outbox keys (one indexed prefix query per
    done task: a handful per event)."""
    found = {}
    for task_id in task_ids:
        found[task_id] = tuple(db.session.execute(
            select(func.count(), func.count().filter(OutboxMessage.status == OutboxStatus.sent))
            .where(OutboxMessage.kind == MailKind.reminder,
                   OutboxMessage.idempotency_key.startswith(f"reminder:{task_id}:"))
        ).one())
    return found


def overview(event: Event) -> list[tuple[ReminderRule, TimeRule, list[TaskState]]]:
    """Each rule of ``event`` with, per session, its send time and its task's state."""
    tasks = {
        (task.session_id, task.ref_id): task
        for task in db.session.scalars(select(ScheduledTask).where(
            ScheduledTask.event_id == event.id, ScheduledTask.kind == TaskKind.reminder))
    }
    counts = _counts([task.id for task in tasks.values() if task.done_at is not None])
    result = []
    for reminder in event.reminders:
        try:
            rule = parse(reminder.rule)
        except DomainError:  # only checked rules are stored; one that is not is shown nowhere
            continue
        states = []
        for session in event.sessions:
            task = tasks.get((session.id, reminder.id))
            if task is None:
                states.append(TaskState(session, None, "none"))
            elif task.done_at is None:
                states.append(TaskState(session, task.due_at, "pending"))
            else:
                queued, sent = counts.get(task.id, (0, 0))
                state = {"done": "sent", "missed": "missed"}.get(task.outcome or "", "skipped")
                states.append(TaskState(session, task.due_at, state, task.done_at, queued, sent))
        result.append((reminder, rule, states))
    return result


def preview_registration(event: Event, registration_id: int | None = None) -> Registration | None:
    """The registration a preview is shown for: the one asked for (if it is this event's),
    else the first confirmed one with an email address."""
    if registration_id is not None:
        registration = db.session.get(Registration, registration_id)
        if registration is not None and registration.event_id == event.id:
            return registration
        return None
    return db.session.scalar(
        select(Registration).where(Registration.event_id == event.id, Registration.status == Status.confirmed,
                                   Registration.email.is_not(None))
        .order_by(Registration.id).limit(1))
