"""Certificates of attendance (参加証明書): one per registration of a person who came.

What the paper says is kept here as it was printed (``holder_name``, the event's title,
organizer, venue, the session's times and the language): an organizer who later renames the
event, or a person who corrects their name, does not change what an issued certificate says,
and /verify/<code> confirms exactly what the paper shows. The holder's name is personal data:
the retention purge and a person's deletion request blank it (domain.registration.certificates
.forget_holders, called from domain.privacy.retention.anonymise); the rest stays, so a code still
verifies as "issued for this event" without naming anyone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime
from .registration import Registration


class Certificate(db.Model):
    __tablename__ = "certificate"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    # One certificate per registration: issue() is INSERT … ON CONFLICT DO NOTHING on this key.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    # The verification code: 12 characters of Crockford's base 32 (60 random bits), stored without
    # dashes ("ABCDEFGHJKMN"); printed as ABCD-EFGH-JKMN (domain.registration.certificates).
    code: Mapped[str] = mapped_column(String(12), unique=True)
    # As printed (see the module docstring): the name by the badge's rule, blanked by the purge.
    holder_name: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(5))  # the registrant's language: the paper's
    event_title: Mapped[str] = mapped_column(String(200))
    organizer: Mapped[str] = mapped_column(String(200))
    session_title: Mapped[str] = mapped_column(String(200))
    venue: Mapped[str] = mapped_column(String(200))  # the venue's name; "" for an online session
    online: Mapped[bool]  # attended an online session (EventSession.attendance_mode)
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Withdrawn by the organizer: /verify says so instead of confirming it, and it is never mailed
    # again (domain.registration.certificates.withdraw).
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")  # staff's words, optional

    registration: Mapped[Registration] = relationship()
