"""Entry-pass tokens: 192 random bits. The QR payload carries a version prefix."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select

from ..extensions import db
from ..models import Registration

QR_PREFIX = "ER1:"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 24 bytes -> 32 characters


def new_entry_id() -> str:
    return secrets.token_urlsafe(12)  # 96 bits -> 16 characters


def qr_payload(token: str) -> str:
    return QR_PREFIX + token


def token_from_payload(payload: str) -> str | None:
    """The token inside what a scanner read (with or without the prefix), or None."""
    payload = (payload or "").strip()
    if payload.startswith(QR_PREFIX):
        payload = payload[len(QR_PREFIX):]
    return payload if _TOKEN.match(payload) else None


def token_hash(token: str) -> str:
    """A short, non-reversible name for a token, for logs."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def find(token: str) -> Registration | None:
    if not _TOKEN.match(token or ""):
        return None
    return db.session.scalar(select(Registration).where(Registration.token == token))


def pass_context(registration: Registration, base_url: str) -> dict:
    """Plain values describing a registration, for the pass page, PDF, .ics and emails."""
    event, session = registration.event, registration.session
    base = base_url.rstrip("/")
    link = f"{base}/r/{registration.token}"
    return {
        "registration_id": registration.id,
        "token": registration.token,
        "qr_payload": qr_payload(registration.token),
        "status": registration.status.value,
        "event": {
            "id": event.id, "slug": event.slug, "title": event.title,
            "venue_name": event.venue_name, "venue_address": event.venue_address,
            "access_notes": event.access_notes, "organizer": event.organizer,
            "contact_name": event.contact_name, "contact_phone": event.contact_phone,
            "contact_email": event.contact_email, "fee_note": event.fee_note,
            "timezone": event.timezone, "language": event.language,
            "url": f"{base}/e/{event.slug}",
        },
        "session": {
            "id": session.id, "title": session.title, "doors_at": session.doors_at,
            "starts_at": session.starts_at, "ends_at": session.ends_at,
            "sequence": session.sequence,
        },
        "attendee": {
            "full_name": registration.full_name, "full_kana": registration.full_kana,
            "organization": registration.organization, "department": registration.department,
            "email": registration.email,
        },
        "links": {
            "registration": link, "cancel": f"{link}/cancel",
            "pdf": f"{link}/pass.pdf", "ics": f"{link}/calendar.ics",
        },
    }
