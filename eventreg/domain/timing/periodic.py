"""Scheduled work found from the database's state, each piece done once.

The worker's tick (eventreg.worker.tick) asks ``due_work(now)`` for the ids of due tasks (one
query on the ``(done_at, due_at)`` index: cheap when nothing is due) and runs ``do_task`` for
each, in a transaction of its own. ``do_task`` marks the task done with a conditional UPDATE
(``… WHERE id = :id AND done_at IS NULL``) *in the same transaction as its effect*: of three
workers that find the same task, one updates the row and queues the email; the others update
nothing and do nothing. A restart finds the row done. If the effect fails, the transaction rolls
back and the task stays due.

Outcomes: ``done`` (did its work), ``skipped`` (nothing to do, e.g. no contact address),
``missed`` (found too late to be useful: a summary more than MISSED_AFTER after it was due is
noise; a building-security list is useful until its session ends, so it goes late rather than
never, e.g. when the contact was entered after the send time; a reminder is missed more than
MISSED_AFTER late or once its session is over, and skipped when nobody confirmed has an email).

The tick also looks for building-security lists that changed since they were sent
(``changed_security_lists``, domain.communication.building_list): no task marks those, the state does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from eventreg.domain.communication import (
    attendee_messages,
    building_list,
    building_list_changes,
    followups,
    outbox,
    reminders,
)
from eventreg.domain.privacy import retention
from eventreg.domain.registration import holds, seat_count
from eventreg.extensions import db
from eventreg.models import Event, EventSession, Registration, ScheduledTask, Status, TaskKind

MISSED_AFTER = timedelta(hours=48)

DONE, SKIPPED, MISSED = "done", "skipped", "missed"


def due_work(now: datetime, *, limit: int = 100) -> list[int]:
    """Ids of tasks due at ``now`` and not done, oldest first."""
    return list(db.session.scalars(
        select(ScheduledTask.id)
        .where(ScheduledTask.done_at.is_(None), ScheduledTask.due_at <= now)
        .order_by(ScheduledTask.due_at, ScheduledTask.id)
        .limit(limit)
    ))


def _mark_done(task_id: int, now: datetime, outcome: str) -> bool:
    """The guard: True for the one caller whose UPDATE found the task not done."""
    result = db.session.execute(
        update(ScheduledTask)
        # due_at too: a session moved since due_work looked must not be done early.
        .where(ScheduledTask.id == task_id, ScheduledTask.done_at.is_(None), ScheduledTask.due_at <= now)
        .values(done_at=now, outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def do_task(task_id: int, now: datetime) -> str | None:
    """Does one due task in the caller's transaction; returns its outcome, or None when it was
    done already (by another worker, or before a restart) or is gone."""
    task = db.session.get(ScheduledTask, task_id)
    if task is None or task.done_at is not None or task.due_at > now:
        return None
    event = db.session.get(Event, task.event_id)
    session = db.session.get(EventSession, task.session_id) if task.session_id else None
    applies, effect, too_late = _KINDS[task.kind]
    if too_late(task, session, now):
        outcome = MISSED
    else:
        outcome = DONE if applies(event, session) else SKIPPED
    if not _mark_done(task_id, now, outcome):
        return None
    if outcome == DONE:
        effect(event, session, now, task)
    db.session.flush()
    return outcome


def _late(task: ScheduledTask, _session, now: datetime) -> bool:
    return now - task.due_at > MISSED_AFTER


def _session_over(_task, session: EventSession | None, now: datetime) -> bool:
    return session is None or now >= session.ends_at


def _has_contact(event: Event, _session) -> bool:
    return bool((event.contact_email or "").strip())


def _send_deadline_summary(event: Event, session: EventSession, now: datetime, _task=None) -> None:
    """Emails the event's contact the session's numbers when its registration has closed
    (once per session: the outbox's idempotency key)."""
    counts = dict(db.session.execute(
        select(Registration.status, func.count())
        .where(Registration.session_id == session.id, Registration.status != Status.cancelled)
        .group_by(Registration.status)
    ).all())
    outbox.enqueue_deadline_summary(session, now, confirmed=counts.get(Status.confirmed, 0),
                                    waitlisted=counts.get(Status.waitlisted, 0), deadline_at=session.closes_at)


def _has_security_contact(event: Event, _session) -> bool:
    return bool((event.security_email or "").strip())


def _send_security_list(event: Event, session: EventSession, now: datetime, _task=None) -> None:
    """The whole list, frozen now. A "send now" that took the same seq a moment ago makes this
    one fail: the transaction rolls back and the task stays due for the next tick."""
    if building_list.send_full(session, trigger=building_list.SCHEDULE, now=now) is None:
        raise RuntimeError(f"session #{session.id}: another list was sent at the same moment")


def _reminder_too_late(task: ScheduledTask, session: EventSession | None, now: datetime) -> bool:
    # More than MISSED_AFTER late ("remember tomorrow" two days later is noise), or the
    # session is over.
    return _late(task, session, now) or _session_over(task, session, now)


def _has_recipients(_event: Event, session: EventSession | None) -> bool:
    return session is not None and reminders.has_recipients(session.id)


def _send_reminder(_event: Event, session: EventSession, now: datetime, task: ScheduledTask) -> None:
    """One outbox row per confirmed person, keyed by task and registration (domain.communication.reminders)."""
    reminders.queue(task, session, now)


def changed_security_lists(now: datetime) -> list[int]:
    """Session ids whose building-security list changed since it was sent (see
    domain.communication.building_list_changes.changed_sessions); the tick sends each a difference."""
    return building_list_changes.changed_sessions(now)


def _has_followups(event: Event, session: EventSession | None) -> bool:
    return followups.has_work(event, session)


def _send_followups(event: Event, session: EventSession, now: datetime, _task=None) -> None:
    """The post-event loop: one outbox row per person and part, keyed (domain.communication.followups).
    More than MISSED_AFTER late it is missed: an upgrade or an imported past event never mails
    the attendees of a session long over."""
    followups.queue(event, session, now)


# kind -> (whether there is anything to do, the effect, whether it is too late). The effect,
# effect(event, session, now, task), runs only for the worker whose conditional UPDATE marked
# the task done, in the same transaction.
_KINDS = {
    TaskKind.deadline_summary: (_has_contact, _send_deadline_summary, _late),
    TaskKind.security_list: (_has_security_contact, _send_security_list, _session_over),
    TaskKind.reminder: (_has_recipients, _send_reminder, _reminder_too_late),
    TaskKind.followup: (_has_followups, _send_followups, _late),
}


@dataclass(frozen=True)
class Sweep:
    """Work the tick finds from the database's state rather than from a ScheduledTask.

    ``find(now)`` returns ids (one cheap indexed query when there is nothing to do); ``do(id,
    now)`` does one in the caller's transaction and returns whether it did anything: it must be
    guarded (a conditional UPDATE) so that workers racing on the same id do it once.
    """

    name: str  # the outcome counted and logged, e.g. "hold_expired"
    find: Callable[[datetime], list[int]]
    do: Callable[[int, datetime], bool]


def _retention_find(now: datetime) -> list[int]:  # late-bound: domain.privacy.retention imports modules importing this one
    return retention.find(now)


def _retention_do(item_id: int, now: datetime) -> bool:
    return retention.do(item_id, now)


# Each part that has such work lists its sweep here; the worker's tick runs them in order.
SWEEPS: list[Sweep] = [
    Sweep("message_queued", attendee_messages.due_messages, attendee_messages.queue_due),  # scheduled messages due
    Sweep("hold_expired", holds.due, holds.expire),  # email-confirmation holds that lapsed
    Sweep("retention", _retention_find, _retention_do),  # events past retention, old sign-ins and outbox rows
    Sweep(seat_count.RECOUNTED, seat_count.drifted, seat_count.repair),  # seats_taken drifted from the registrations
]
