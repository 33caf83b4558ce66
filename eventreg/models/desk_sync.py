"""What offline desks send and what comes of it (domain.reception.desk_batches).

- ``DeskOperation``: one scan, search check-in, walk-in or undo made on a desk's device, kept
  once by its client-made id; a batch sent twice finds its operations here and changes nothing.
- ``CheckinConflict``: the same person admitted at two desks while they could not see each
  other; the earliest device time is the check-in, the other admission is kept here.
- ``DeskTask``: something the organizer must look at that an offline desk could not decide
  (a walk-in who found no free seat when the server re-checked).
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime
from .registration import Registration


class DeskOperation(db.Model):
    __tablename__ = "desk_operation"
    __table_args__ = (
        # The client-made id is unique within its event: the same id from another event is a
        # different operation and never answers with this event's person.
        UniqueConstraint("event_id", "client_id", name="uq_desk_operation_client"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # scan | checkin | walk_in | undo
    desk: Mapped[str] = mapped_column(String(50), default="")
    device: Mapped[str] = mapped_column(String(64), default="")  # the device's own random id
    device_seq: Mapped[int] = mapped_column(default=0)  # the order in which the device made them
    device_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the device's clock when it was made
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the server's clock on arrival
    # Device clock minus server clock when the batch was sent; set when it is over the limit.
    clock_skew_seconds: Mapped[Optional[int]]
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    registration_id: Mapped[Optional[int]] = mapped_column(ForeignKey("registration.id", ondelete="SET NULL"),
                                                           index=True)
    result: Mapped[str] = mapped_column(String(24))  # a ScanResult value, or conflict

    registration: Mapped[Optional[Registration]] = relationship()


class CheckinConflict(db.Model):
    __tablename__ = "checkin_conflict"
    __table_args__ = (Index("ix_checkin_conflict_event", "event_id", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    # The admission that counts (the earliest device time) and the other one.
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kept_desk: Mapped[str] = mapped_column(String(50), default="")
    other_at: Mapped[datetime] = mapped_column(UTCDateTime)
    other_desk: Mapped[str] = mapped_column(String(50), default="")
    operation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("desk_operation.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship()


class DeskTask(db.Model):
    __tablename__ = "desk_task"
    __table_args__ = (Index("ix_desk_task_event", "event_id", "done_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    session_id: Mapped[Optional[int]] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"))
    registration_id: Mapped[Optional[int]] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))  # seat_overflow | walk_in_duplicate
    desk: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    done_by: Mapped[Optional[int]] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))

    registration: Mapped[Optional[Registration]] = relationship()
