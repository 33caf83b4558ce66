"""The audit log: who changed what on an event or a registration, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime


class AuditEntry(db.Model):
    """One change. ``changes`` maps a field to ``[old, new]``; ``action`` is a stable code
    (registration_edited, registration_added, cancelled_by_staff, moved, promoted, pass_resent,
    capacity_override, event_published, ...). The actor's name is copied, so the entry still
    says who it was after their account is deleted."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_event_at", "event_id", "at"),
        Index("ix_audit_entry_registration", "registration_id", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    registration_id: Mapped[Optional[int]] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    # A code (web/audit_words.py has its words) and its parameters; rows written before notes were
    # codes may hold free text that migration 0007 did not recognise (shown as it is).
    note: Mapped[str] = mapped_column(String(500), default="")
    note_params: Mapped[dict] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
