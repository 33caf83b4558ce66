"""Events, their sessions and the organizer's extra questions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime


class QuestionKind(str, enum.Enum):
    text = "text"
    single = "single"
    multiple = "multiple"
    checkbox = "checkbox"


class AttendanceMode(str, enum.Enum):
    """How a session is attended. A hybrid date is two sessions: the on-site one and its online
    twin (``hybrid_of_id``), so each mode has its own capacity, seats, waiting list and deadline,
    and the guarded seat, move and cancel code serves both unchanged."""

    onsite = "onsite"
    online = "online"


class EventStatus(str, enum.Enum):
    draft = "draft"  # only its staff see it (and its preview); nobody can sign up
    published = "published"  # listed, open for sign-up within its window
    closed = "closed"  # the page stays, sign-up is over whatever the window says


class SecurityFormat(str, enum.Enum):
    """The file the venue's building security receives."""

    xlsx = "xlsx"
    csv = "csv"  # UTF-8 with BOM
    csv_cp932 = "csv_cp932"  # Windows-31J, for older Japanese Excel


# The building-security list's columns, in the default order (domain.backoffice.exports names them).
DEFAULT_SECURITY_COLUMNS = ["name", "kana", "organization", "department", "session"]


class Event(db.Model):
    __tablename__ = "event"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description_md: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitized on display
    venue_name: Mapped[str] = mapped_column(String(200), default="")
    venue_address: Mapped[str] = mapped_column(String(300), default="")
    access_notes: Mapped[str] = mapped_column(Text, default="")  # how to find the reception desk
    organizer: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    fee_note: Mapped[str] = mapped_column(String(200), default="")
    privacy_notice: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="ja")  # language of its emails
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo")
    waitlist_enabled: Mapped[bool] = mapped_column(default=True)
    status: Mapped[EventStatus] = mapped_column(
        db.Enum(EventStatus, native_enum=False, length=16, validate_strings=True),
        default=EventStatus.published, server_default="published",
    )
    # Registration window. The deadline is a rule resolved per session by domain.timing.deadlines:
    # an absolute time, "N (business) days before the session starts, at HH:MM local time", or
    # "N hours before the start"; all NULL: until the session starts. A session may have its own.
    registration_opens_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    deadline_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    deadline_days_before: Mapped[Optional[int]]
    deadline_time: Mapped[Optional[str]] = mapped_column(String(5))  # "HH:MM", local time
    # deadline_days_before counts business days (domain.timing.business_days) rather than days.
    deadline_business_days: Mapped[bool] = mapped_column(default=False, server_default=false())
    deadline_hours_before: Mapped[Optional[float]] = mapped_column(Float)  # elapsed hours before the start
    # Seed of the event's Ed25519 key that signs entry passes (domain.registration.passes); never shown.
    pass_key: Mapped[str] = mapped_column(String(64))
    # The building-security list (入館者リスト): who receives it, which columns, which file, and
    # when it goes out (a domain.timing.rules text such as "1d@12:00"; NULL: at the registration deadline).
    security_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    security_columns: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_SECURITY_COLUMNS))
    security_format: Mapped[SecurityFormat] = mapped_column(
        db.Enum(SecurityFormat, native_enum=False, length=16, validate_strings=True),
        default=SecurityFormat.xlsx, server_default="xlsx",
    )
    security_send_rule: Mapped[Optional[str]] = mapped_column(String(40))
    # Email confirmation (optional): a sign-up holds its seat for hold_minutes until the person
    # clicks the link in the email; an unconfirmed hold expires and the seat goes to the next
    # person waiting (domain.registration.holds).
    confirm_email: Mapped[bool] = mapped_column(default=False, server_default=false())
    hold_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    # Retention (APPI): personal data is removed retention_days after the last session ends
    # (domain.privacy.retention); purged_at says when it was, and the counts the statistics need stay.
    retention_days: Mapped[int] = mapped_column(default=90, server_default="90")
    purged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # The post-event loop (domain.communication.followups): when it runs for each session, a
    # domain.timing.rules text such as "end+30m" (NULL: 30 minutes after the session ends), and
    # its three parts, each on or off: the survey invitation to those who came, a note to
    # confirmed no-shows (noshow_text: the organizer's words), the certificate of attendance.
    followup_rule: Mapped[Optional[str]] = mapped_column(String(40))
    followup_survey: Mapped[bool] = mapped_column(default=False, server_default=false())
    followup_noshow: Mapped[bool] = mapped_column(default=False, server_default=false())
    followup_certificate: Mapped[bool] = mapped_column(default=False, server_default=false())
    noshow_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The slides / handouts after the event (the no-show note, the join page once it ended); "".
    materials_url: Mapped[str] = mapped_column(String(500), default="", server_default="")

    @property
    def published(self) -> bool:
        """Whether the public can see the event page (published or closed)."""
        return self.status != EventStatus.draft

    # By start, then id: a hybrid date's online twin starts with its on-site session and is made
    # after it, so the on-site one always comes first (PostgreSQL gave equal starts in any order).
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", order_by="(EventSession.starts_at, EventSession.id)", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="event", order_by="Question.position", cascade="all, delete-orphan"
    )
    reminders: Mapped[list[ReminderRule]] = relationship(
        back_populates="event", order_by="ReminderRule.id", cascade="all, delete-orphan"
    )


class EventSession(db.Model):
    """One date of an event (第1回, 第2回 ...), with its own seats."""

    __tablename__ = "event_session"
    __table_args__ = (
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("doors_at <= starts_at AND starts_at < ends_at", name="times_in_order"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    doors_at: Mapped[datetime] = mapped_column(UTCDateTime)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int]
    # Confirmed registrations; changed only by the conditional updates in domain.registration.capacity.
    seats_taken: Mapped[int] = mapped_column(default=0)
    # The event's opening time and deadline rule resolved for this session (domain.timing.deadlines),
    # stored so that the one conditional seat UPDATE checks time and capacity together.
    # Recomputed whenever the event, its rule or the session's times change.
    opens_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The session's own deadline, overriding the event's rule (both NULL: the event's): a fixed
    # time, or a relative rule's text (domain.timing.rules, e.g. "2h", "3bd@17:00", "0h" = until
    # the start). closes_at above is what counts; these say how it was reached.
    deadline_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    deadline_rule: Mapped[Optional[str]] = mapped_column(String(40))
    attendance_mode: Mapped[AttendanceMode] = mapped_column(
        db.Enum(AttendanceMode, native_enum=False, length=10, validate_strings=True),
        default=AttendanceMode.onsite, server_default="onsite",
    )
    # Online sessions: the meeting's address. A secret until the join window opens: only the join
    # redirect (/j/<key>) reads it; no page, mail, .ics, export, log or API answer carries it.
    meeting_url: Mapped[Optional[str]] = mapped_column(Text)
    # An online session that is the twin of an on-site one (same date and times): NULL otherwise.
    hybrid_of_id: Mapped[Optional[int]] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"))
    # iCalendar SEQUENCE: grows each time the session's times change.
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")

    event: Mapped[Event] = relationship(back_populates="sessions")

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)


class Question(db.Model):
    __tablename__ = "question"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(
        db.Enum(QuestionKind, native_enum=False, length=16, validate_strings=True)
    )
    label: Mapped[str] = mapped_column(String(300))
    help: Mapped[str] = mapped_column(String(500), default="")
    choices: Mapped[list] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(default=False)
    # A question that has answers is hidden rather than deleted: the form stops asking it, the
    # answers stay in the data and in every export.
    hidden: Mapped[bool] = mapped_column(default=False, server_default=false())

    event: Mapped[Event] = relationship(back_populates="questions")


class ReminderRule(db.Model):
    """One reminder of an event, as a time rule (domain.timing.rules text: "1d@10:00", "2h").

    Each session gets a ScheduledTask of kind ``reminder`` per rule (``ref_id`` = this id),
    moved with its session by domain.timing.schedule.
    """

    __tablename__ = "reminder_rule"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship(back_populates="reminders")
