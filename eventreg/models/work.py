"""Work done by the worker: background jobs with progress, stored files, scheduled tasks."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime


class StoredFile(db.Model):
    """A file made by the worker (a badge sheet, an export, a list sent to a venue).

    Kept in the database, not on a disk: with several app servers, the one that serves the
    download is rarely the one whose worker made it.
    """

    __tablename__ = "stored_file"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[Optional[int]] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # loaded only to be served
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobKind(str, enum.Enum):
    badge_sheet = "badge_sheet"  # the A4 badge sheet of an event
    reception_list = "reception_list"  # the desk's 受付名簿 PDF
    certificates = "certificates"  # every attendee's certificate of attendance, one PDF for printing


class JobStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Job(db.Model):
    """Heavy work asked for on a page and done by a worker; the page polls its progress."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_due", "status", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(db.Enum(JobKind, native_enum=False, length=32, validate_strings=True))
    event_id: Mapped[Optional[int]] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[Optional[int]] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(
        db.Enum(JobStatus, native_enum=False, length=16, validate_strings=True), default=JobStatus.queued
    )
    progress: Mapped[int] = mapped_column(default=0)  # units done, of total
    total: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # A worker owns a running job while claimed_until is in the future; it renews the claim as
    # it reports progress, so a crashed worker's job is taken up again about a minute later.
    claimed_by: Mapped[Optional[str]] = mapped_column(String(100))
    claimed_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[Optional[str]] = mapped_column(Text)
    result_file_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_file.id", ondelete="SET NULL"))

    result_file: Mapped[Optional[StoredFile]] = relationship()


class TaskKind(str, enum.Enum):
    deadline_summary = "deadline_summary"  # tell the event's contact that registration closed
    security_list = "security_list"  # send the building-security list of a session to the venue
    reminder = "reminder"  # remind a session's attendees (ref_id: the ReminderRule)
    followup = "followup"  # the post-event loop of a session (domain.communication.followups)


class ScheduledTask(db.Model):
    """A piece of work due at a time resolved from a rule (domain.timing.rules), done once.

    The periodic tick finds rows with ``due_at <= now`` and ``done_at`` empty and marks each
    done with a conditional UPDATE in the same transaction as its effect, so three workers and
    any restart do it once. When a session moves, its pending tasks are rescheduled.
    """

    __tablename__ = "scheduled_task"
    __table_args__ = (
        UniqueConstraint("kind", "session_id", "ref_id", name="uq_scheduled_task_kind_session_ref"),
        Index("ix_scheduled_task_due", "done_at", "due_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TaskKind] = mapped_column(db.Enum(TaskKind, native_enum=False, length=32, validate_strings=True))
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[Optional[int]] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"))
    # Which one of several tasks of a kind per session (the ReminderRule of a reminder); 0 for
    # kinds with one task per session.
    ref_id: Mapped[int] = mapped_column(default=0, server_default="0")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # "done" (did its work), "missed" (found too late to be useful), set with done_at.
    outcome: Mapped[Optional[str]] = mapped_column(String(16))
