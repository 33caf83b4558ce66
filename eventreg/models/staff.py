"""Staff accounts, their roles per event, invitations and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime
from .event import Event


class Role(str, enum.Enum):
    """What an account may do outside any event. Access to an event comes only from its
    EventMember row (domain.access.permissions)."""

    organizer = "organizer"  # may create events (and becomes their owner)
    staff = "staff"  # works only on the events they were invited to


class EventRole(str, enum.Enum):
    owner = "owner"  # everything, including staff, publishing and deleting
    editor = "editor"  # the event, its registrations, exports and lists
    reception = "reception"  # the desk and the desk API only
    viewer = "viewer"  # reads the back office; no personal-data exports, no changes


class EventMember(db.Model):
    """One person's role on one event."""

    __tablename__ = "event_member"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    role: Mapped[EventRole] = mapped_column(
        db.Enum(EventRole, native_enum=False, length=16, validate_strings=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[StaffUser] = relationship(back_populates="memberships")
    event: Mapped[Event] = relationship()


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_user"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower-case, the login name
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(db.Enum(Role, native_enum=False, length=16, validate_strings=True))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    memberships: Mapped[list[EventMember]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # UserMixin compares users by get_id(), which is now a session: keep the ORM's identity.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    # Not a column: the secret of the StaffSession this object was loaded through (or started).
    session_secret = None

    def get_id(self) -> str:
        """Flask-Login keeps this in the cookie: the session's secret, never the user's id, so
        signing out (or a password change) ends it on the server."""
        if not self.session_secret:
            raise AttributeError("a staff user signs in through domain.access.accounts.start_session")
        return self.session_secret

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in or stay logged in
        return self.active

    @property
    def event_ids(self) -> frozenset:
        return frozenset(m.event_id for m in self.memberships)

    @property
    def events(self) -> list[Event]:
        return [m.event for m in self.memberships]

    def role_on(self, event_id: int) -> EventRole | None:
        return next((m.role for m in self.memberships if m.event_id == event_id), None)


class ApiToken(db.Model):
    """A bearer token for scanner apps and organizer scripts; only its SHA-256 is stored.

    A token is limited to one event and one role, never more than its user's own role there
    (checked at every request). Tokens made before per-event roles have neither and act with
    their user's roles."""

    __tablename__ = "api_token"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    event_id: Mapped[Optional[int]] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    role: Mapped[Optional[EventRole]] = mapped_column(
        db.Enum(EventRole, native_enum=False, length=16, validate_strings=True))

    user: Mapped[StaffUser] = relationship()


class Invitation(db.Model):
    """An owner's invitation to work on an event; the link (only its SHA-256 is kept) lets the
    person set a password, or, with an account already, accept the role."""

    __tablename__ = "invitation"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[EventRole] = mapped_column(
        db.Enum(EventRole, native_enum=False, length=16, validate_strings=True))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[Optional[int]] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class StaffSession(db.Model):
    """A signed-in browser. The session cookie carries only this row's random id; signing out
    revokes the row, and a password change revokes all of the user's rows, on every server."""

    __tablename__ = "staff_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, 256 bits
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[StaffUser] = relationship()


class LoginAttempt(db.Model):
    """Failed logins, counted for rate limiting (by email and by address)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
