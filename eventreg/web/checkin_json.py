"""The JSON shapes of desk results, shared by the desk page and the scanner API."""

from __future__ import annotations

from ..domain.checkin import ScanOutcome
from ..models import Event, Registration
from .filters import hm, when
from .messages import message


def registration_json(registration: Registration, event: Event) -> dict:
    tz = event.timezone
    session = registration.session
    return {
        "id": registration.id,
        "name": registration.full_name,
        "kana": registration.full_kana,
        "organization": registration.organization,
        "department": registration.department,
        "status": registration.status.value,
        "walk_in": registration.walk_in,
        "session": {"id": session.id, "title": session.title, "when": when(session, tz)},
        "checked_in_at": registration.checked_in_at.isoformat() if registration.checked_in_at else None,
        "checked_in_time": hm(registration.checked_in_at, tz) if registration.checked_in_at else None,
        "checked_in_desk": registration.checked_in_desk or None,
    }


def outcome_json(outcome: ScanOutcome, event: Event) -> dict:
    return {
        "result": outcome.result.value,
        "ok": outcome.ok,
        "message": message(outcome.result.value),
        "registration": registration_json(outcome.registration, event) if outcome.registration else None,
    }
