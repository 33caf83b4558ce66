"""Two credentials per registration, and what a pass shows.

- The **management secret** (``Registration.token``, 192 random bits) is in the attendee's
  view/cancel link ``/r/<token>``. It is sent only by email: never printed on a pass or badge,
  never in a QR code, never logged. It is looked up by its unique index and then compared in
  constant time (``find_by_token``).
- The **entry credential** is what the QR code on the pass and on the badge carries: a payload
  signed with the event's Ed25519 key (in the spirit of pretix's signed tickets), so that an
  offline desk holding only the event's public key (the roster's ``key``, or
  ``GET /api/v1/events/<id>/pass-key``) can tell a real pass from a forged one without the
  server. It holds no personal data, opens nothing by itself (``/r/<payload>`` is a 404) and is
  useful only to a signed-in scanner.

**Format 3 (issued now)**: decimal digits only, ``"3"`` followed by the decimal of
``int.from_bytes(b"\\x01" + body, "big")`` where
``body = uleb128(registration id) + uleb128(entry version) + signature (64 bytes)``.
The signature is Ed25519 over ``b"eventreg pass v3\\0" + struct.pack(">III", event id,
registration id, entry version)``.

- *Digits*: QR's numeric mode packs 3 digits into 10 bits, 3.33 bits a digit for 3.32 bits of
  information, as dense as byte mode (and denser than the alphanumeric mode of ER2, 5.5 bits for
  5 bits of base32). A USB keyboard-wedge scanner types digits the same on every keyboard layout,
  where letters and ``:`` depend on it. The leading 0x01 byte keeps the body's leading zero bytes
  (and makes the first digit after the ``3`` never a ``0``). A typical pass is ~161 digits: a
  version 5 symbol (37 modules) at error correction M, where ER2's 140 characters needed version
  6 (41 modules): fewer, larger modules on the same printed square, read from farther away.
- *The event id is signed but not carried*: a desk knows its event, and the server finds the
  registration by its id and verifies with that registration's event key, so a valid pass of
  another event still verifies there and scans as ``wrong_event``, while at an offline desk it
  fails the signature with this event's key. Carrying it would cost ~10 digits for nothing.
- *Why a 64-byte signature*: at 128-bit security no signature WebCrypto offers is shorter:
  Ed25519 and ECDSA P-256 (raw r‖s) are both 64 bytes, RSA 256 bytes and more; shorter schemes
  (BLS, 48 bytes) are in no browser. Ed25519 is deterministic (no per-signature nonce to get
  wrong), is already the event's key, and WebCrypto verifies it where the browser has it (the
  offline desk falls back to @noble/ed25519). A truncated MAC would be shorter but needs the
  secret on every desk, so a lost phone could mint passes. Both sides verify strictly (RFC 8032,
  not ZIP-215). With the ids as uleb128, the 64 bytes are nearly the whole code.
- Parsing is canonical: a text that does not re-encode to itself (a leading zero, a padded
  uleb128, a value over 2³²−1) is not a pass, so one pass has exactly one text.

**ER2 (still accepted, no longer issued)**: passes mailed before format 3 keep working.
``"ER2:" + base32(version | event id | entry id | entry version | signature)`` without padding
(any letter case): version 1 byte (2), event id 4 bytes, entry id 12 bytes
(``Registration.entry_id`` is these bytes in base64url), entry version 4 bytes (all big-endian),
then the 64-byte signature of everything before it, prefixed with ``SIGNED_CONTEXT``.

Cancelling or moving a registration bumps ``entry_version``: every earlier pass then scans as
``cancelled`` or ``superseded``. The event's key is derived from ``Event.pass_key`` with HKDF;
changing that seed invalidates every pass of the event (both formats use the same key).

**What the badge's QR carries: the same entry credential.** A badge is worn on the chest and
photographed; what it shows must open nothing and reveal nothing. The entry credential meets
both: it is a registration number and a signature (no name, no email, no link), it gives no
access to the registration page, and at the desk it only checks in a confirmed person once,
which a photo of the badge of someone already inside cannot repeat (``already_checked_in``).
Printing it lets a badge be scanned at a second door or session with the same rules as the pass.
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

from eventreg.domain.backoffice import hybrid_rules
from eventreg.domain.people import names
from eventreg.extensions import db
from eventreg.models import Event, Registration, Status

FORMAT_DIGIT = "3"  # the first digit of a format 3 pass
V3_CONTEXT = b"eventreg pass v3\x00"
_V3_SIGNED = struct.Struct(">III")  # event id, registration id, entry version
_V3_MAX_DIGITS = 190  # 1 + 75 bytes (two 5-byte uleb128s and the signature) is 182 digits
_UINT32 = 2**32 - 1
MAX_ID = 2**31 - 1  # the database's ids

ER2_PREFIX = "ER2:"
ER2_VERSION = 2
SIGNED_CONTEXT = b"eventreg entry pass\x00"  # ER2's
_ER2_FIELDS = struct.Struct(">BI12sI")  # version, event id, entry id, entry version
_SIGNATURE = 64
ER2_BYTES = _ER2_FIELDS.size + _SIGNATURE  # 85
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
    """What a scanned pass says, before its signature is checked (``find_entry``, ``verify``)."""

    format: int  # 3, or 2 for an ER2 pass
    entry_version: int
    signature: bytes
    registration_id: int | None = None  # format 3 names the registration by its id…
    entry_id: str | None = None  # …ER2 by its entry id
    event_id: int | None = None  # ER2 carries it; format 3 signs it without carrying it
    signed: bytes = b""  # ER2: the bytes the signature covers (without SIGNED_CONTEXT)


def _uleb128(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_uleb128(raw: bytes, at: int) -> tuple[int, int]:
    """The value at ``raw[at:]`` and where it ends; (-1, at) when there is none of ≤ 5 bytes."""
    value = 0
    for shift in range(0, 35, 7):
        if at >= len(raw):
            break
        byte = raw[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
    return -1, at


def _v3_message(event_id: int, registration_id: int, entry_version: int) -> bytes:
    return V3_CONTEXT + _V3_SIGNED.pack(event_id, registration_id, entry_version)


def _v3_text(registration_id: int, entry_version: int, signature: bytes) -> str:
    body = _uleb128(registration_id) + _uleb128(entry_version) + signature
    return FORMAT_DIGIT + str(int.from_bytes(b"\x01" + body, "big"))


def sign_pass(seed: str, event_id: int, registration_id: int, entry_version: int) -> str:
    """The format 3 QR payload for these values, signed with the key derived from ``seed``."""
    signature = _private_key(seed).sign(_v3_message(event_id, registration_id, entry_version))
    return _v3_text(registration_id, entry_version, signature)


def sign_er2(seed: str, event_id: int, entry_id: str, entry_version: int) -> str:
    """An ER2 payload, as passes were signed before format 3. Nothing issues these any more; the
    tests and benches make them to show that passes already mailed keep working."""
    fields = _ER2_FIELDS.pack(ER2_VERSION, event_id, _entry_bytes(entry_id), entry_version)
    signature = _private_key(seed).sign(SIGNED_CONTEXT + fields)
    return ER2_PREFIX + base64.b32encode(fields + signature).decode().rstrip("=")


def _entry_bytes(entry_id: str) -> bytes:
    raw = base64.urlsafe_b64decode(entry_id + "=" * (-len(entry_id) % 4))
    if len(raw) != 12:
        raise ValueError("an entry id is 12 bytes in base64url")
    return raw


def qr_payload(registration: Registration) -> str:
    """What the QR code of ``registration``'s pass and badge carries (its current entry credential)."""
    return sign_pass(registration.event.pass_key, registration.event_id, registration.id,
                     registration.entry_version)


def parse(payload: str) -> EntryCredential | None:
    """The credential in what a scanner read (format 3 or ER2), or None when it is not one.

    Only the layout is checked here; the signature needs the event (``find_entry``, ``verify``).
    """
    text = (payload or "").strip()  # a keyboard-wedge scanner may add a newline
    if text.startswith(FORMAT_DIGIT) and text.isascii() and text.isdigit():
        return _parse_v3(text)
    return _parse_er2(text.upper())


def _parse_v3(text: str) -> EntryCredential | None:
    if not 2 <= len(text) <= _V3_MAX_DIGITS:
        return None
    number = int(text[1:])
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    if raw[:1] != b"\x01":
        return None
    registration_id, at = _read_uleb128(raw, 1)
    entry_version, at = _read_uleb128(raw, at)
    signature = raw[at:]
    if not (0 <= registration_id <= _UINT32 and 0 <= entry_version <= _UINT32) or len(signature) != _SIGNATURE:
        return None
    # One pass, one text: a padded uleb128 or a leading zero is not a pass.
    if _v3_text(registration_id, entry_version, signature) != text:
        return None
    return EntryCredential(3, entry_version, signature, registration_id=registration_id)


def _parse_er2(text: str) -> EntryCredential | None:
    if not text.startswith(ER2_PREFIX) or len(text) > 200:
        return None
    body = text[len(ER2_PREFIX):]
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != ER2_BYTES:
        return None
    version, event_id, entry, entry_version = _ER2_FIELDS.unpack(raw[:_ER2_FIELDS.size])
    if version != ER2_VERSION:
        return None
    return EntryCredential(2, entry_version, raw[_ER2_FIELDS.size:], event_id=event_id,
                           entry_id=base64.urlsafe_b64encode(entry).decode(), signed=raw[:_ER2_FIELDS.size])


def verify(credential: EntryCredential, seed: str, event_id: int) -> bool:
    """True when the credential is a pass of event ``event_id`` signed with the key of ``seed``."""
    if credential.format == 3:
        message = _v3_message(event_id, credential.registration_id, credential.entry_version)
    elif credential.event_id == event_id:
        message = SIGNED_CONTEXT + credential.signed
    else:
        return False
    try:
        _public_key(seed).verify(credential.signature, message)
    except InvalidSignature:
        return False
    return True


def find_entry(credential: EntryCredential) -> Registration | None:
    """The registration whose pass this is, when its own event's key signed it; else None.

    One query: the registration (with its session) and its event's key seed. A valid pass of
    another event is found (the desk then says ``wrong_event``); a forged or altered one is not.
    """
    if credential.format == 3:
        if not 1 <= credential.registration_id <= MAX_ID:
            return None
        which = Registration.id == credential.registration_id
    else:
        which = Registration.entry_id == credential.entry_id
    row = db.session.execute(
        select(Registration, Event.pass_key).join(Event, Event.id == Registration.event_id)
        .where(which)
        .options(joinedload(Registration.session))  # the desk shows it: no second round trip
    ).first()
    if row is None:
        return None
    registration, seed = row
    if not verify(credential, seed, registration.event_id):
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


def reference_number(registration_id: int) -> str:
    """The 受付番号 a person quotes on the phone: the registration's id, six digits at least.
    Derived, never stored: stable for the registration, and the number staff find it by."""
    return f"{registration_id:06d}"


def pass_context(registration: Registration, links: dict[str, str]) -> dict:
    """Plain values describing a registration, for the pass page, PDF, badge, .ics and emails.

    ``links`` are absolute URLs built by the edge (web.links.registration_links): "registration",
    "cancel", "pdf", "ics" (they carry the management secret: emails only) and "event". The
    management secret itself is not in the context; the QR payload is the entry credential.
    """
    event, session = registration.event, registration.session
    return {
        "registration_id": registration.id,
        "reference": reference_number(registration.id),
        "qr_payload": qr_payload(registration),
        "status": registration.status.value,
        # On site: a pass (QR, pass.pdf) and the desk's words; online: the join link instead (one rule).
        "entry_pass": hybrid_rules.entry_pass(registration),
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
            # An online session (a hybrid date's twin): no venue, a join link instead of a pass at a desk.
            "online": not hybrid_rules.on_site(session),
        },
        "attendee": {
            "full_name": names.display_name(registration.family_name, registration.given_name,
                                            registration.language),
            "full_kana": names.display_kana(registration.family_kana, registration.given_kana),
            "organization": registration.organization, "department": registration.department,
            "email": registration.email,
        },
        "links": {**{name: links[name] for name in ("registration", "cancel", "pdf", "ics")},
                  "confirm": links.get("confirm", ""),  # the email confirmation (domain.registration.holds)
                  "unsubscribe": links.get("unsubscribe", ""),  # organizer messages (communication.opt_outs)
                  "join": links.get("join", "")},  # online registrants (domain.registration.join_links)
        "hold_expires_at": registration.hold_expires_at,
    }
