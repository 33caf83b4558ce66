"""Two credentials per registration, and what a pass shows.

- The **management secret** (``Registration.token``, 192 random bits) is in the attendee's
  view/cancel link ``/r/<token>``. It is sent only by email: never printed on a pass or badge,
  never in a QR code, never logged. It is looked up by its unique index and then compared in
  constant time (``find_by_token``).
- The **entry credential** is what the QR code on the pass and on the badge carries: a payload
  signed with the event's Ed25519 key (in the spirit of pretix's signed tickets), so that a
  later offline desk holding only the event's public key (``GET /api/v1/events/<id>/pass-key``)
  can tell a real pass from a forged one without the server. It holds no personal data, opens
  nothing by itself (``/r/<payload>`` is a 404) and is useful only to a signed-in scanner.

Payload: ``"ER2:" + base32(version | event id | entry id | entry version | signature)``, without
padding. Base32 (A–Z, 2–7) and ``ER2:`` use only QR's alphanumeric characters, so the 137
characters fit a version 6 symbol (41 modules) at error correction M: it decodes from the
91 × 55 mm badge at 150 dpi. Fields: version 1 byte (2), event id 4 bytes, entry id 12 bytes
(``Registration.entry_id`` is these bytes in base64url), entry version 4 bytes (all big-endian),
then the 64-byte signature of everything before it, prefixed with ``SIGNED_CONTEXT``.

Cancelling or moving a registration bumps ``entry_version``: every earlier pass then scans as
``cancelled`` or ``superseded``. The event's key is derived from ``Event.pass_key`` with HKDF;
changing that seed invalidates every pass of the event.

**What the badge's QR carries: the same entry credential.** A badge is worn on the chest and
photographed; what it shows must open nothing and reveal nothing. The entry credential meets
both: it is a random id and a signature (no name, no email, no link), it gives no access to the
registration page, and at the desk it only checks in a confirmed person once, which a photo of
the badge of someone already inside cannot repeat (``already_checked_in``). Printing it lets a
badge be scanned at a second door or session with the same rules as the pass.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from eventreg.domain.people import names
from eventreg.extensions import db
from eventreg.models import Event, Registration, Status

QR_PREFIX = "ER2:"
VERSION = 2
SIGNED_CONTEXT = b"eventreg entry pass\x00"
_FIELDS = struct.Struct(">BI12sI")  # version, event id, entry id, entry version
_SIGNATURE = 64
PAYLOAD_BYTES = _FIELDS.size + _SIGNATURE  # 85
_MANAGEMENT_TOKEN_LENGTH = 32


def new_token() -> str:
    """A management secret: 24 bytes -> 32 URL-safe characters."""
    return secrets.token_urlsafe(24)


def new_entry_id() -> str:
    """An entry credential id: 96 random bits -> 16 URL-safe characters."""
    return secrets.token_urlsafe(12)


# --- keys -------------------------------------------------------------------------------------

@lru_cache(maxsize=512)
def _private_key(seed: str) -> Ed25519PrivateKey:
    """The event's signing key, derived from its seed (cached by the seed's value, so a changed
    seed is a new key at once; the cache holds no decision, only arithmetic)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"eventreg entry pass key v2").derive(seed.encode())
    return Ed25519PrivateKey.from_private_bytes(raw)


@lru_cache(maxsize=512)
def _public_key(seed: str) -> Ed25519PublicKey:
    return _private_key(seed).public_key()


def public_key(event: Event) -> str:
    """The event's public key, raw 32 bytes in base64url without padding (for offline desks)."""
    raw = _public_key(event.pass_key).public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --- the entry credential ---------------------------------------------------------------------

@dataclass(frozen=True)
class EntryCredential:
    event_id: int
    entry_id: str
    entry_version: int
    signed: bytes  # the bytes the signature covers (without SIGNED_CONTEXT)
    signature: bytes


def _entry_bytes(entry_id: str) -> bytes:
    raw = base64.urlsafe_b64decode(entry_id + "=" * (-len(entry_id) % 4))
    if len(raw) != 12:
        raise ValueError("an entry id is 12 bytes in base64url")
    return raw


def sign_entry(seed: str, event_id: int, entry_id: str, entry_version: int) -> str:
    """The QR payload for these values, signed with the key derived from ``seed``."""
    fields = _FIELDS.pack(VERSION, event_id, _entry_bytes(entry_id), entry_version)
    signature = _private_key(seed).sign(SIGNED_CONTEXT + fields)
    return QR_PREFIX + base64.b32encode(fields + signature).decode().rstrip("=")


def qr_payload(registration: Registration) -> str:
    """What the QR code of ``registration``'s pass and badge carries (its current entry credential)."""
    return sign_entry(registration.event.pass_key, registration.event_id, registration.entry_id,
                      registration.entry_version)


def parse(payload: str) -> EntryCredential | None:
    """The credential in what a scanner read, or None when it is not one (not yet verified)."""
    text = (payload or "").strip().upper()
    if not text.startswith(QR_PREFIX) or len(text) > 200:
        return None
    body = text[len(QR_PREFIX):]
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != PAYLOAD_BYTES:
        return None
    version, event_id, entry, entry_version = _FIELDS.unpack(raw[:_FIELDS.size])
    if version != VERSION:
        return None
    entry_id = base64.urlsafe_b64encode(entry).decode()
    return EntryCredential(event_id, entry_id, entry_version, raw[:_FIELDS.size], raw[_FIELDS.size:])


def verify(credential: EntryCredential, seed: str) -> bool:
    """True when the credential was signed with the key of ``seed``."""
    try:
        _public_key(seed).verify(credential.signature, SIGNED_CONTEXT + credential.signed)
    except InvalidSignature:
        return False
    return True


def find_entry(credential: EntryCredential) -> Registration | None:
    """The registration whose pass this is, when the signature is the event's; else None.

    One query: the registration (with its session) and its event's key seed.
    """
    row = db.session.execute(
        select(Registration, Event.pass_key).join(Event, Event.id == Registration.event_id)
        .where(Registration.entry_id == credential.entry_id)
        .options(joinedload(Registration.session))  # the desk shows it: no second round trip
    ).first()
    if row is None:
        return None
    registration, seed = row
    if registration.event_id != credential.event_id or not verify(credential, seed):
        return None
    return registration


# --- the management secret --------------------------------------------------------------------

def find_by_token(token: str) -> Registration | None:
    """The registration whose view/cancel link carries ``token``; the index finds the row, then
    the secrets are compared in constant time."""
    if not isinstance(token, str) or len(token) != _MANAGEMENT_TOKEN_LENGTH or not token.isascii():
        return None
    registration = db.session.scalar(select(Registration).where(Registration.token == token))
    if registration is None or not hmac.compare_digest(registration.token.encode(), token.encode()):
        return None
    return registration


def token_hash(value: str) -> str:
    """A short, non-reversible name for a secret or a scanned text, for logs."""
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:12]


# --- what a pass shows ------------------------------------------------------------------------

def usable(registration: Registration) -> bool:
    """Whether the registration has a pass to show: the pass page's QR, the pass PDF, the
    calendar file and the badge all ask this one question."""
    return registration.status == Status.confirmed


def pass_context(registration: Registration, links: dict[str, str]) -> dict:
    """Plain values describing a registration, for the pass page, PDF, badge, .ics and emails.

    ``links`` are absolute URLs built by the edge (web.links.registration_links): "registration",
    "cancel", "pdf", "ics" (they carry the management secret: emails only) and "event". The
    management secret itself is not in the context; the QR payload is the entry credential.
    """
    event, session = registration.event, registration.session
    return {
        "registration_id": registration.id,
        "qr_payload": qr_payload(registration),
        "status": registration.status.value,
        # The language the person signed up in: their emails, pass and badge are in it.
        "language": registration.language if registration.language in ("ja", "en") else event.language,
        "event": {
            "id": event.id, "slug": event.slug, "title": event.title,
            "venue_name": event.venue_name, "venue_address": event.venue_address,
            "access_notes": event.access_notes, "organizer": event.organizer,
            "contact_name": event.contact_name, "contact_phone": event.contact_phone,
            "contact_email": event.contact_email, "fee_note": event.fee_note,
            "timezone": event.timezone, "language": event.language,
            "url": links.get("event", ""),
        },
        "session": {
            "id": session.id, "title": session.title, "doors_at": session.doors_at,
            "starts_at": session.starts_at, "ends_at": session.ends_at, "sequence": session.sequence,
        },
        "attendee": {
            "full_name": names.display_name(registration.family_name, registration.given_name,
                                            registration.language),
            "full_kana": names.display_kana(registration.family_kana, registration.given_kana),
            "organization": registration.organization, "department": registration.department,
            "email": registration.email,
        },
        "links": {**{name: links[name] for name in ("registration", "cancel", "pdf", "ics")},
                  "confirm": links.get("confirm", "")},  # the email confirmation (domain.registration.holds)
        "hold_expires_at": registration.hold_expires_at,
    }
