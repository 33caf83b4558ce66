"""The check-in log: every scan attempt at a desk, successful or not, and every undo."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime
from .registration import Registration
from .staff import StaffUser


class ScanResult(str, enum.Enum):
    ok = "ok"
    already_checked_in = "already_checked_in"
    cancelled = "cancelled"
    waitlisted = "waitlisted"
    unconfirmed = "unconfirmed"  # a seat held until the person confirms their email (no pass yet)
    wrong_event = "wrong_event"
    wrong_session = "wrong_session"
    unknown_pass = "unknown_pass"
    superseded = "superseded"  # an older pass of a registration that was moved (a new pass exists)
    undone = "undone"  # a check-in taken back
    walk_in = "walk_in"  # registered and checked in at the desk
    # Admitted at a desk that could not see an earlier admission at another desk (offline): the
    # earliest device time is the check-in, the other is a CheckinConflict. Never counted.
    conflict = "conflict"
    # An online registrant's join link (domain.registration.join_links) opened outside its window.
    too_early = "too_early"  # before doors_at: the countdown page
    join_ended = "join_ended"  # at or after ends_at: "this session has ended"


class ScanMethod(str, enum.Enum):
    """How a desk found the person; the API's X-Scan-Method and the OpenAPI document use these."""

    camera = "camera"  # the desk page's camera
    keyboard = "keyboard"  # a USB/Bluetooth scanner typing into the desk page
    search = "search"  # found by name, no pass at hand
    api = "api"  # a scanner app with a bearer token that did not say
    desk = "desk"  # the desk page (staff session) without a more precise method
    walk_in = "walk_in"  # registered at the desk
    undo = "undo"  # a check-in taken back
    join = "join"  # an online registrant's join link opened (domain.registration.join_links); never a desk's


class Scan(db.Model):
    __tablename__ = "scan"
    __table_args__ = (Index("ix_scan_event_at", "event_id", "at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    session_id: Mapped[Optional[int]] = mapped_column(ForeignKey("event_session.id", ondelete="SET NULL"))
    # Set only when the pass belongs to this event: the log never links to another event's people.
    registration_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(16), default="")  # never the token itself
    result: Mapped[ScanResult] = mapped_column(
        db.Enum(ScanResult, native_enum=False, length=24, validate_strings=True)
    )
    method: Mapped[ScanMethod] = mapped_column(
        db.Enum(ScanMethod, native_enum=False, length=16, validate_strings=True)
    )
    desk: Mapped[str] = mapped_column(String(50), default="")
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    registration: Mapped[Optional[Registration]] = relationship()
    user: Mapped[Optional[StaffUser]] = relationship()
