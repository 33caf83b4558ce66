"""What offline desks left for people to look at: check-in conflicts (the same person admitted at
two desks apart), open desk tasks (a walk-in with no free seat, a same-name walk-in of another
desk) and operations whose device clock was off. Read by the check-in log, the event overview
and the desk's roster; a task is closed once, by whoever presses "done" first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from eventreg.domain.backoffice import audit
from eventreg.extensions import db
from eventreg.models import CheckinConflict, DeskOperation, DeskTask

TASK_DONE = "desk_task_done"  # the audit action
SHOWN = 200  # rows of each list on a page


def conflicts(event_id: int, *, limit: int = SHOWN) -> list[CheckinConflict]:
    return list(db.session.scalars(
        select(CheckinConflict).where(CheckinConflict.event_id == event_id)
        .order_by(CheckinConflict.id.desc()).limit(limit).options(selectinload(CheckinConflict.registration))))


def open_tasks(event_id: int, *, limit: int = SHOWN) -> list[DeskTask]:
    return list(db.session.scalars(
        select(DeskTask).where(DeskTask.event_id == event_id, DeskTask.done_at.is_(None))
        .order_by(DeskTask.id).limit(limit).options(selectinload(DeskTask.registration))))


def skewed_operations(event_id: int, *, limit: int = SHOWN) -> list[DeskOperation]:
    """Operations of batches whose device clock was off by more than the limit (corrected)."""
    return list(db.session.scalars(
        select(DeskOperation).where(DeskOperation.event_id == event_id, DeskOperation.clock_skew_seconds.is_not(None))
        .order_by(DeskOperation.id.desc()).limit(limit).options(selectinload(DeskOperation.registration))))


def open_counts(event_id: int) -> tuple[int, int]:
    """(open tasks, conflicts) of the event, for the overview."""
    tasks = db.session.scalar(select(func.count()).select_from(DeskTask)
                              .where(DeskTask.event_id == event_id, DeskTask.done_at.is_(None)))
    found = db.session.scalar(select(func.count()).select_from(CheckinConflict)
                              .where(CheckinConflict.event_id == event_id))
    return tasks, found


def mark_done(task_id: int, *, event_id: int, actor, now: datetime) -> bool:
    """Closes an open task of the event; False when it was closed already (or is not the event's)."""
    done = db.session.execute(
        update(DeskTask).where(DeskTask.id == task_id, DeskTask.event_id == event_id, DeskTask.done_at.is_(None))
        .values(done_at=now, done_by=getattr(actor, "id", None)).execution_options(synchronize_session=False)
    ).rowcount == 1
    if done:
        task = db.session.get(DeskTask, task_id)
        audit.record(event_id, TASK_DONE, actor=actor, now=now, registration_id=task.registration_id)
    return done
