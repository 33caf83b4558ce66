"""Outgoing email, written in the same transaction as the change that causes it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime
from .registration import Registration


class MailKind(str, enum.Enum):
    confirmation = "confirmation"
    waitlisted = "waitlisted"
    promoted = "promoted"
    cancelled = "cancelled"
    pass_resent = "pass_resent"


class OutboxStatus(str, enum.Enum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after OUTBOX_MAX_ATTEMPTS


class OutboxMessage(db.Model):
    """One email to one registration.

    The row records *what* to send; the worker renders it at delivery (templates, pass PDF,
    .ics), so a registration request never pays for WeasyPrint.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MailKind] = mapped_column(
        db.Enum(MailKind, native_enum=False, length=16, validate_strings=True)
    )
    message_id: Mapped[str] = mapped_column(String(200), unique=True)  # stable across retries
    status: Mapped[OutboxStatus] = mapped_column(
        db.Enum(OutboxStatus, native_enum=False, length=16, validate_strings=True),
        default=OutboxStatus.pending,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A worker owns a message while claimed_until is in the future (see domain.outbox.claim).
    claimed_by: Mapped[Optional[str]] = mapped_column(String(100))
    claimed_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_error: Mapped[Optional[str]] = mapped_column(Text)

    registration: Mapped[Registration] = relationship()
