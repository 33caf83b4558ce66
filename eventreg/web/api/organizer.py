"""The organizer endpoints: the attendee list with the back office's filters, one registration
with its answers, and the exports.

GET /api/v1/events/<event_id>/registrations?session_id=&status=&sector=&walk_in=&question_id=&answer=&q=&sort=&page=&per_page=
GET /api/v1/events/<event_id>/registrations/<registration_id>
GET /api/v1/events/<event_id>/exports/<which>.<fmt>     which: attendees, arrivals, reception; fmt: csv, cp932.csv, xlsx
GET /api/v1/events/<event_id>/exports/summary.<fmt>     counts only, no names

Capabilities: the list and one registration need ``view``; exports of people need
``export_personal``; the summary (no names) needs ``view``.

Personal data: email, phone and answers are given only to a caller who holds
``export_personal`` on the event (owner, editor, or a token limited to one of those roles).
A viewer (or a viewer-limited token) gets every other field, with those three null and
``personal_data: false``: names and organizations are what a viewer reads on the back-office list;
how to reach someone, and what they answered, is personal data that only those who may export
it receive.

Pages: ``page`` and ``per_page`` (at most 500) over the list's order, which always ends with the
registration id, so pages do not overlap while nothing changes; ``total`` is the number matching.
"""

from __future__ import annotations

from flask import g

from ... import clock
from ...domain.access import accounts
from ...domain.access.permissions import Capability
from ...domain.backoffice import roster
from ...domain.people import gojuon
from ...extensions import db
from ...models import Event, Registration
from ..admin.exports import FORMATS, Unmappable, export_response
from ..filters import when
from . import schemas as s
from .core import bp, endpoint
from .errors import ApiError, not_of_this_event

TAGS = ["organizer"]
PROBLEMS_LISTED = 500


def _filter(event: Event, args: dict) -> roster.ListFilter:
    """The validated query as the attendee list reads it (ListFilter.from_args, the one reader)."""
    if args["session_id"] is not None and args["session_id"] not in {x.id for x in event.sessions}:
        raise not_of_this_event("session_id")
    if args["question_id"] is not None and args["question_id"] not in {q.id for q in event.questions}:
        raise not_of_this_event("question_id")
    as_args = {name: ("1" if value else "0") if isinstance(value, bool) else str(value)
               for name, value in args.items() if value is not None}
    return roster.ListFilter.from_args(as_args)


def _personal(event: Event) -> bool:
    return accounts.can(g.api_user, event.id, Capability.export_personal)


def _sessions(event: Event) -> dict[int, dict]:
    return {x.id: {"id": x.id, "title": x.title, "when": when(x, event.timezone), "mode": x.attendance_mode.value}
            for x in event.sessions}


def _attendee(reg: Registration, sessions: dict[int, dict], personal: bool) -> dict:
    return {
        "id": reg.id, "status": reg.status.value, "session": sessions[reg.session_id],
        "name": reg.full_name, "kana": reg.full_kana,
        "family_name": reg.family_name, "given_name": reg.given_name,
        "family_kana": reg.family_kana, "given_kana": reg.given_kana, "kana_row": gojuon.heading(reg.sort_key),
        "organization": reg.organization, "department": reg.department, "sector": reg.sector.value,
        "walk_in": reg.walk_in, "language": reg.language, "created_at": reg.created_at,
        "confirmed_at": reg.confirmed_at, "cancelled_at": reg.cancelled_at,
        "checked_in_at": reg.checked_in_at, "checked_in_desk": reg.checked_in_desk or None,
        "email": reg.email if personal else None, "phone": reg.phone if personal else None,
    }


def _answers(reg: Registration, event: Event) -> list[dict]:
    given = reg.answers or {}
    return [{"question_id": q.id, "label": q.label, "kind": q.kind.value, "hidden": q.hidden,
             "value": given.get(str(q.id))} for q in event.questions]


@bp.route("/events/<int:event_id>/registrations", methods=["GET"], tags=TAGS)
@endpoint(Capability.view, "invalid_input")
@bp.arguments(s.RegistrationsQuery, location="query")
@bp.response(200, s.AttendeePageSchema, description="One page of the registrations that match.")
def registrations(event: Event, args: dict):
    """The attendee list: filter, search, sort, page

    The same filters, search and orders as the back office's attendee list. Without personal data
    (a viewer), email and phone are null.
    """
    page, per_page = args.pop("page"), args.pop("per_page")
    flt, now = _filter(event, args), clock.utcnow()
    total = roster.count(event, flt, now=now)
    found = db.session.scalars(roster.matching(event, flt, now=now).limit(per_page).offset((page - 1) * per_page))
    personal, sessions = _personal(event), _sessions(event)
    return {"total": total, "page": page, "per_page": per_page, "pages": -(-total // per_page),
            "personal_data": personal, "registrations": [_attendee(r, sessions, personal) for r in found]}


@bp.route("/events/<int:event_id>/registrations/<int:registration_id>", methods=["GET"], tags=TAGS)
@endpoint(Capability.view)
@bp.response(200, s.OneAttendeeSchema, description="The registration, with its answers.")
def registration(event: Event, registration_id: int):
    """One registration, with every answer"""
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.event_id != event.id:
        raise ApiError(404, "not_found")
    personal = _personal(event)
    one = _attendee(reg, _sessions(event), personal) | {"answers": _answers(reg, event) if personal else None}
    return {"personal_data": personal, "registration": one}


FILE_CONTENT = {mimetype.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for _extension, mimetype in FORMATS.values()}
FILE_RESPONSE = {"200": {"description": "The file (an attachment). csv: UTF-8 with BOM; cp932.csv: Windows-31J; "
                                        "xlsx: every cell a string, as written. CSV: formula-like cells are neutralised.",
                         "content": FILE_CONTENT}}


def _file(event: Event, which: str, fmt: str, args: dict):
    try:
        return export_response(event, which, fmt, _filter(event, args), actor=g.api_user, now=clock.utcnow(),
                               api=True)
    except Unmappable as exc:
        listed = [{"row": row, "column": column, "character": ch, "code_point": f"U+{ord(ch):04X}"}
                  for row, column, ch in exc.problems[:PROBLEMS_LISTED]]
        raise ApiError(422, "cp932_unmappable", problems=listed, total=len(exc.problems)) from None


@bp.route("/events/<int:event_id>/exports/<any(attendees,arrivals,reception):which>.<any(csv,'cp932.csv',xlsx):fmt>",
          methods=["GET"], tags=TAGS)
@endpoint(Capability.export_personal, "invalid_input", "cp932_unmappable")
@bp.arguments(s.FilterQuery, location="query")
@bp.doc(responses=FILE_RESPONSE)
def export_people(event: Event, args: dict, which: str, fmt: str):
    """An export with personal data, of the people the filter selects

    attendees: everything, with every question's answers (hidden questions too); arrivals: who
    came, by sector; reception: confirmed people in 五十音 order. Each download is logged in the
    event's audit log.
    """
    return _file(event, which, fmt, args)


@bp.route("/events/<int:event_id>/exports/summary.<any(csv,'cp932.csv',xlsx):fmt>", methods=["GET"], tags=TAGS)
@endpoint(Capability.view, "invalid_input", "cp932_unmappable")
@bp.arguments(s.FilterQuery, location="query")
@bp.doc(responses=FILE_RESPONSE)
def export_summary(event: Event, args: dict, fmt: str):
    """The summary: counts by session, sector and status, no names"""
    return _file(event, "summary", fmt, args)
