"""A person's registration for one session, its management link secret and its entry credential."""

from __future__ import annotations

import enum
import time
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime
from .event import Event, EventSession


class Status(str, enum.Enum):
    confirmed = "confirmed"
    # A seat held until the person confirms their email (events with confirm_email); counted in
    # seats_taken, released when hold_expires_at passes unconfirmed (domain.registration.holds).
    held = "held"
    waitlisted = "waitlisted"
    cancelled = "cancelled"


# The statuses that hold a seat: EventSession.seats_taken counts exactly these registrations.
SEATED = frozenset({Status.confirmed, Status.held})


class Sector(str, enum.Enum):
    company = "company"
    npo = "npo"
    government = "government"
    university = "university"
    individual = "individual"
    other = "other"


ACTIVE = "status <> 'cancelled'"


def changed_now() -> int:
    """Microseconds since the epoch: Registration.changed_us of a row inserted or updated now."""
    return time.time_ns() // 1000


class Registration(db.Model):
    __tablename__ = "registration"
    __table_args__ = (
        # One active registration per email and session; cancelled ones do not count.
        Index(
            "uq_registration_active_email",
            "session_id",
            "email",
            unique=True,
            sqlite_where=text(ACTIVE),
            postgresql_where=text(ACTIVE),
        ),
        # The waiting list is read in this order.
        Index("ix_registration_queue", "session_id", "status", "id"),
        # Every list of people is in 五十音 order (the desk's row filter is a range of it).
        Index("ix_registration_event_sort", "event_id", "sort_key"),
        # The attendee list sorts by sign-up time and by arrival.
        Index("ix_registration_event_created", "event_id", "created_at"),
        Index("ix_registration_event_arrival", "event_id", "checked_in_at"),
        # The tick finds expired email-confirmation holds on this index.
        Index("ix_registration_hold_expires", "hold_expires_at"),
        # Offline desks fetch what changed since their last sync (domain.reception.roster_sync).
        Index("ix_registration_event_changed", "event_id", "changed_us"),
        {"sqlite_autoincrement": True},  # ids are never reused
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"))
    # The management secret: 192 random bits in the attendee's view/cancel link (/r/<token>).
    # Sent only by email; never printed on a pass or badge, never in a QR code.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # The entry credential's id, inside the signed QR payload (domain.registration.passes). It opens nothing
    # by itself: only a signed-in scanner can use it. entry_version grows when the registration
    # is cancelled or moved, so every earlier pass stops working.
    entry_id: Mapped[str] = mapped_column(String(24), unique=True)
    entry_version: Mapped[int] = mapped_column(default=1, server_default="1")
    status: Mapped[Status] = mapped_column(
        db.Enum(Status, native_enum=False, length=16, validate_strings=True)
    )
    family_name: Mapped[str] = mapped_column(String(50))
    given_name: Mapped[str] = mapped_column(String(50))
    family_kana: Mapped[str] = mapped_column(String(50))
    given_kana: Mapped[str] = mapped_column(String(50))
    # Normalised by domain.people.text.normalize_email; NULL only for a walk-in who gave none
    # (NULLs never collide in the one-active-registration index).
    email: Mapped[Optional[str]] = mapped_column(String(254))
    organization: Mapped[str] = mapped_column(String(100), default="")
    department: Mapped[str] = mapped_column(String(100), default="")
    sector: Mapped[Sector] = mapped_column(
        db.Enum(Sector, native_enum=False, length=16, validate_strings=True)
    )
    phone: Mapped[str] = mapped_column(String(30), default="")
    # Written only by domain.people.person_keys, from the fields above: what the one search
    # matches (folded name, furigana, organization, email, one per line) and the 五十音 key
    # (compared by code point, hence PostgreSQL's "C" collation).
    search_text: Mapped[str] = mapped_column(Text)
    sort_key: Mapped[str] = mapped_column(Text().with_variant(Text(collation="C"), "postgresql"))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # question id (str) -> str | list[str]
    language: Mapped[str] = mapped_column(String(5), default="ja")  # UI language at sign-up
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Check-in: set and cleared only by domain.reception.checkin's conditional updates.
    checked_in_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    checked_in_desk: Mapped[str] = mapped_column(String(50), default="", server_default="")
    walk_in: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Email confirmation: until email_confirmed_at is set, hold_expires_at says when an
    # unconfirmed sign-up (held seat or waiting-list place) lapses. NULL: nothing pending.
    hold_expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    email_confirmed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Retention: when the personal fields were removed (domain.privacy.retention). "repeat_attendee" keeps,
    # for the statistics, whether the person had come to an earlier event (decided from the
    # email before it was removed); NULL while the email is still there to decide it.
    anonymised_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    repeat_attendee: Mapped[Optional[bool]]
    # When the row was last inserted or updated (µs since the epoch, the app server's clock): set
    # by SQLAlchemy on every INSERT and UPDATE, the Core conditional updates included, so no
    # code path can change a person without the desks' next delta carrying it.
    changed_us: Mapped[int] = mapped_column(BigInteger, default=changed_now, onupdate=changed_now,
                                            server_default="0")
    # The one-time key the sign-up form carried (web.public, domain.registration.signup): the same
    # POST sent again (a double click, a proxy's retry, a server killed mid-request) finds the
    # registration it made instead of making a second. NULL for rows made any other way.
    signup_key: Mapped[Optional[str]] = mapped_column(String(64), unique=True)

    event: Mapped[Event] = relationship()
    session: Mapped[EventSession] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def full_kana(self) -> str:
        return f"{self.family_kana} {self.given_kana}"
