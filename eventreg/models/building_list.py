"""The building-security lists (入館者リスト) sent to a venue, kept as sent."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime


class SecurityListSend(db.Model):
    """One email to the venue about one session: the full list (``seq`` 1, or a manual resend)
    or a difference after it. ``people`` is the whole list as it stands after this send
    (registration id -> row values), so the next difference and the desk's "not on the list"
    marker compare against it. ``seq`` is unique per session: of several workers that try to
    send the same list, one insert wins."""

    __tablename__ = "security_list_send"
    __table_args__ = (
        UniqueConstraint("session_id", "seq", name="uq_security_list_send_session_seq"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(8))  # "full" or "diff"
    trigger: Mapped[str] = mapped_column(String(16))  # "schedule", "manual" or "change"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recipient: Mapped[str] = mapped_column(String(254))
    columns: Mapped[list] = mapped_column(JSON, default=list)
    people: Mapped[dict] = mapped_column(JSON, default=dict)
    added: Mapped[list] = mapped_column(JSON, default=list)  # registration ids
    removed: Mapped[list] = mapped_column(JSON, default=list)
    count: Mapped[int] = mapped_column(default=0)
    file_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_file.id", ondelete="SET NULL"))
    sent_by: Mapped[Optional[int]] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    # The outbox row's idempotency key: the page shows when the worker delivered it.
    outbox_key: Mapped[str] = mapped_column(String(100))
