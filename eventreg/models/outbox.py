"""Outgoing email, written in the same transaction as the change that causes it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime
from .registration import Registration


class MailKind(str, enum.Enum):
    # To an attendee (registration_id set): rendered from the registration at delivery.
    confirmation = "confirmation"
    waitlisted = "waitlisted"
    promoted = "promoted"
    cancelled = "cancelled"
    pass_resent = "pass_resent"
    # To someone else (to_address set): rendered from the row's context.
    deadline_summary = "deadline_summary"  # to the event's contact when registration closes
    session_changed = "session_changed"  # to an attendee: their session's date or time changed
    invitation = "invitation"  # to a new member of an event's staff
    password_reset = "password_reset"  # to a staff account: a link that sets a new password
    security_list = "security_list"  # to the venue: the building-security list, attached
    security_list_diff = "security_list_diff"  # to the venue: who was added / removed since
    # Issue 8: to an attendee (registration_id set).
    message = "message"  # an organizer's message (attendee_message_id set)
    reminder = "reminder"  # a reminder before the session (context: reminder rule id)
    confirm_email = "confirm_email"  # "click to confirm your email and keep your seat"
    hold_expired = "hold_expired"  # the hold lapsed unconfirmed; the seat was released
    # Issue 17, the post-event loop (domain.communication.followups): to an attendee.
    followup_survey = "followup_survey"  # the survey invitation, to those who came
    followup_noshow = "followup_noshow"  # a note to confirmed no-shows (materials, next time)
    followup_certificate = "followup_certificate"  # the certificate of attendance, attached


class OutboxStatus(str, enum.Enum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after OUTBOX_MAX_ATTEMPTS


class OutboxMessage(db.Model):
    """One email to one recipient.

    The row records *what* to send: the kind, the recipient (a registration, or an address for
    people who are not attendees), the values of its template, its attachments, and the earliest
    time to send it. The worker renders it at delivery, so a request never pays for WeasyPrint.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    # The attendee it is about and addressed to; NULL for mail to a venue, an organizer, staff.
    registration_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MailKind] = mapped_column(
        db.Enum(MailKind, native_enum=False, length=32, validate_strings=True)
    )
    # Recipient when it is not the registration's own email (which is read at delivery).
    to_address: Mapped[Optional[str]] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    language: Mapped[Optional[str]] = mapped_column(String(5))  # None: the event's language
    # Plain JSON values for the template (mail to non-attendees); attendee mail reads the row.
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    # What to attach, decided when queued: [{"kind": "pass_pdf"}, {"kind": "ics", "method":
    # "REQUEST"|"CANCEL"}, {"kind": "file", "file_id": 12}].
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    # Asking twice for the same logical message (e.g. "deadline summary of session 7") makes one row.
    idempotency_key: Mapped[Optional[str]] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)  # stable across retries
    status: Mapped[OutboxStatus] = mapped_column(
        db.Enum(OutboxStatus, native_enum=False, length=16, validate_strings=True),
        default=OutboxStatus.pending,
    )
    attempts: Mapped[int] = mapped_column(default=0)  # real send attempts, not claims
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Not before this time: the "not before" of a scheduled message, then the retry back-off.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A worker owns a message while claimed_until is in the future (see domain.communication.outbox.claim).
    claimed_by: Mapped[Optional[str]] = mapped_column(String(100))
    claimed_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    # The organizer's message this row delivers (kind ``message``): its history and counts.
    attendee_message_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("attendee_message.id", ondelete="SET NULL"), index=True
    )

    registration: Mapped[Optional[Registration]] = relationship()


class MessageStatus(str, enum.Enum):
    draft = "draft"  # being written; can be edited or deleted
    scheduled = "scheduled"  # goes out at send_at (the periodic tick queues it)
    queued = "queued"  # recipients fixed, one outbox row each (recipient_count)
    cancelled = "cancelled"  # a scheduled message taken back before it was queued


class AttendeeMessage(db.Model):
    """An organizer's message to a filtered set of an event's attendees (domain.communication.attendee_messages).

    Subject and body are plain text with placeholders from a fixed list ({name}, {event} ...),
    never template code. The recipients are the attendee list's filter (``filter``: the
    ListFilter's query arguments), resolved when the message is queued.
    """

    __tablename__ = "attendee_message"
    __table_args__ = (Index("ix_attendee_message_due", "status", "send_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    filter: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[MessageStatus] = mapped_column(
        db.Enum(MessageStatus, native_enum=False, length=16, validate_strings=True), default=MessageStatus.draft
    )
    send_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)  # NULL: when queued by hand
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    recipient_count: Mapped[int] = mapped_column(default=0, server_default="0")


class MessageOptOut(db.Model):
    """A person who asked for no more organizer messages of this event (domain.communication.opt_outs):
    the unsubscribe link of a message, or its List-Unsubscribe one-click POST (RFC 8058).

    One row per registration whose link was used; it stops organizer messages to that email
    address within the event, and nothing else: the registration, its confirmation, reminders and
    cancellation mail stay as they were. Gone with the registration.
    """

    __tablename__ = "message_opt_out"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
