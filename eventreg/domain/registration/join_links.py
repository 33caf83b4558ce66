"""An online registrant's personal join link, ``/j/<key>``, and what opening it does.

The key is ``<registration id>.<proof>``; the proof is an HMAC, under the app's secret key, of
``"join:" + management secret + ":" + entry_version`` (the pattern of
domain.communication.opt_outs' unsubscribe key): nothing is stored, it names one registration,
gives away nothing of the management secret, and dies at once when the registration is cancelled
or moved (both raise ``entry_version``). A key of an earlier version is still recognised, so the
refusal is logged against the person it was given to.

Opening it (``open_link``) decides by the session's window, doors_at .. ends_at:
before, ``too_early`` (a countdown page); inside, ``ok`` (redirect to the meeting) — the first
opening inside is the person's online check-in, the existing conditional check-in UPDATE
(domain.reception.checkin, ``checked_in_at IS NULL``) with desk ``online``; after, ``ended``.
Every opening, refused ones included, is a row of the check-in log (Scan, method ``join``), so
the log page shows them next to desk arrivals. The meeting URL is never read here: only the web
edge reads it, for a ``redirect`` outcome.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from eventreg.domain.backoffice import hybrid_rules
from eventreg.domain.reception import checkin
from eventreg.domain.registration import passes
from eventreg.extensions import db
from eventreg.models import Registration, ScanMethod, ScanResult, Status

MAX_KEY = 80  # an id of at most 10 digits, a dot and 22 characters of proof; longer is no key
ONLINE_DESK = "online"  # checked_in_desk of an online check-in
REDIRECT = "redirect"  # the outcome that sends the person to the meeting


def proof(token: str, entry_version: int, secret: str) -> str:
    """128 bits of HMAC-SHA256, URL-safe: the join link's secret for one entry version."""
    message = f"join:{token}:{entry_version}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def key(registration: Registration, secret: str) -> str:
    return f"{registration.id}.{proof(registration.token, registration.entry_version, secret)}"


@dataclass(frozen=True)
class Found:
    registration: Registration
    current: bool  # False: a key of an earlier entry version (the registration was cancelled or moved)


def find(value: str, secret: str) -> Found | None:
    """The registration a key names (of its current or an earlier entry version), or None."""
    if not isinstance(value, str) or len(value) > MAX_KEY:
        return None
    number, dot, given = value.partition(".")
    if (not dot or not number.isascii() or not number.isdigit() or len(number) > 10
            or not 1 <= int(number) <= passes.MAX_ID):
        return None
    registration = db.session.get(Registration, int(number))
    if registration is None:
        return None
    for version in range(registration.entry_version, 0, -1):
        if hmac.compare_digest(proof(registration.token, version, secret).encode(), given.encode()):
            return Found(registration, version == registration.entry_version)
    return None


def is_online(registration: Registration) -> bool:
    """Whether the registration joins by link: exactly those who get no entry pass."""
    return not hybrid_rules.entry_pass(registration)


@dataclass(frozen=True)
class Opening:
    result: str  # REDIRECT, or a ScanResult value: too_early, join_ended, cancelled, superseded, ...
    registration: Registration
    checked_in: bool = False  # this opening was the online check-in


def _refusal(registration: Registration, current: bool) -> ScanResult | None:
    if registration.status == Status.cancelled:
        return ScanResult.cancelled
    if not current:
        return ScanResult.superseded
    if not is_online(registration):
        return ScanResult.wrong_session
    if registration.status == Status.waitlisted:
        return ScanResult.waitlisted
    if registration.status == Status.held:
        return ScanResult.unconfirmed
    return None


def open_link(found: Found, *, now: datetime) -> Opening:
    """What opening the link at ``now`` does; always logs one check-in log row."""
    registration = found.registration
    session = registration.session
    refused = _refusal(registration, found.current)
    checked_in = False
    if refused is not None:
        result = refused
    elif now < session.doors_at:
        result = ScanResult.too_early
    elif now >= session.ends_at:
        result = ScanResult.join_ended
    else:
        outcome = checkin.check_in(registration, session_id=None, desk=ONLINE_DESK, now=now)
        result = outcome.result  # ok (first opening) or already_checked_in (any later one)
        checked_in = result == ScanResult.ok
        if result not in (ScanResult.ok, ScanResult.already_checked_in):  # cancelled meanwhile
            refused = result
    checkin.log_scan(registration.event_id, result, registration=registration, token="",
                     method=ScanMethod.join, desk=ONLINE_DESK, user_id=None, session_id=session.id, now=now)
    if refused is None and result in (ScanResult.ok, ScanResult.already_checked_in):
        return Opening(REDIRECT, registration, checked_in)
    return Opening(ScanResult(result).value, registration)
