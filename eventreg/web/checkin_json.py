"""The JSON shapes of desk results, shared by the desk page and the scanner API."""

from __future__ import annotations

from typing import NamedTuple

from flask_babel import gettext as _

from ..domain.people import search
from ..domain.reception import desk_search
from ..domain.reception.checkin import ScanOutcome
from ..models import Event, EventSession, Registration
from .error_words import message
from .filters import hm, person_kana, person_name, when


class Zone(NamedTuple):
    """What an answer needs of its event when the event was not loaded (checkin.scan_at)."""

    timezone: str


def session_json(session: EventSession | dict, event: Event) -> dict:
    """``session``: a model, or its plain values (ScanOutcome.session)."""
    if isinstance(session, dict):
        return {"id": session["id"], "title": session["title"], "when": when(session, event.timezone)}
    return {"id": session.id, "title": session.title, "when": when(session, event.timezone)}


def registration_json(registration: Registration, event: Event, unlisted: bool | None = None,
                      sessions: dict[int, dict] | None = None) -> dict:
    """``unlisted``: the desk's marker, when the caller worked it out for a whole page of people
    (desk_search.not_on_security_list); otherwise it is looked up for this one person.
    ``sessions``: session id -> session_json, when the caller made them once for many people."""
    if unlisted is None:
        unlisted = registration.id in desk_search.not_on_security_list([registration])
    tz = event.timezone
    return {
        "id": registration.id,
        "name": person_name(registration),
        "kana": person_kana(registration),
        "organization": registration.organization,
        "department": registration.department,
        "status": registration.status.value,
        "walk_in": registration.walk_in,
        "session": (sessions[registration.session_id] if sessions is not None
                    else session_json(registration.session, event)),
        "checked_in_at": registration.checked_in_at.isoformat() if registration.checked_in_at else None,
        "checked_in_time": hm(registration.checked_in_at, tz) if registration.checked_in_at else None,
        "checked_in_desk": registration.checked_in_desk or None,
        # The building was sent its list for this session without this person: no building pass.
        "not_on_security_list": unlisted,
    }


def roster_row(registration: Registration, event: Event, unlisted: bool | None = None,
               sessions: dict[int, dict] | None = None) -> dict:
    """A person as an offline desk keeps them (the roster sync and the batch answers): the desk's
    shape above, plus what the device needs to decide and search without the server. Never the
    email, the phone or the answers: the search text is the stored one without its email line."""
    r = registration
    return {
        **registration_json(r, event, unlisted, sessions),
        "entry_id": r.entry_id, "v": r.entry_version, "session_id": r.session_id,
        "family_name": r.family_name, "given_name": r.given_name,
        "family_kana": r.family_kana, "given_kana": r.given_kana,
        "sort_key": r.sort_key,
        "search": search.without_email(r.search_text),
    }


def outcome_json(outcome: ScanOutcome, event: Event | Zone) -> dict:
    registration = None
    if outcome.registration is not None:
        # What the scan read with the check-in spares the queries: no list sent, nobody to mark.
        unlisted = False if outcome.list_sent is False else None
        sessions = {outcome.session["id"]: session_json(outcome.session, event)} if outcome.session else None
        registration = registration_json(outcome.registration, event, unlisted, sessions)
    return {
        "result": outcome.result.value,
        "ok": outcome.ok,
        "message": message(outcome.result.value),
        "registration": registration,
    }


def duplicate_walk_in_message(existing: Registration, event: Event) -> str:
    """The desk's question when the same walk-in is entered again (send ``confirm`` to go on)."""
    return _("%(name)s was already registered as a walk-in at %(time)s (%(desk)s). Enter again?",
             name=person_name(existing), time=hm(existing.created_at, event.timezone),
             desk=existing.checked_in_desk or "-")
