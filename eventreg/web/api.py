"""JSON API for scanner apps and the desk page, under /api/v1.

Authentication: ``Authorization: Bearer <token>`` (tokens from ``flask --app wsgi api-tokens
create``), or a signed-in staff session plus the ``X-CSRFToken`` header (the desk page).
Errors are ``{"error": {"code": ..., "message": ...}}``; the codes are listed in openapi.json.
Pass tokens travel only in request bodies, never in URLs (URLs end up in logs).

GET  /api/v1/openapi.json
GET  /api/v1/events/<event_id>/counts?session_id=
GET  /api/v1/events/<event_id>/search?q=&row=&session_id=
POST /api/v1/events/<event_id>/lookup                       {"payload"}
POST /api/v1/events/<event_id>/checkins                     {"payload", "session_id"?, "desk"?}
POST /api/v1/events/<event_id>/registrations/<id>/checkin   {"session_id"?, "desk"?}
POST /api/v1/events/<event_id>/registrations/<id>/undo      {"desk"?}
POST /api/v1/events/<event_id>/walk-ins                     {"session_id", names, furigana, ...}
GET  /api/v1/events/<event_id>/pass-key                     the public key that signs the event's passes
"""

from __future__ import annotations

import json
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from .. import clock
from ..domain import checkin, passes, staff
from ..domain.errors import DomainError
from ..domain.registration import Applicant
from ..extensions import csrf, db
from ..models import Event, ScanMethod
from .checkin_json import duplicate_walk_in_message, outcome_json, registration_json
from .forms import WalkInForm
from .messages import message
from .openapi import HEADER_SCAN_METHODS, spec

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # checked below for session-authenticated calls; bearer tokens need none


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str | None = None):
        self.status, self.code, self.detail = status, code, detail


# The HTTP status of each domain error the API passes on (openapi.ERRORS documents the same).
DOMAIN_STATUS = {
    "not_found": 404,
    "not_checked_in": 409,
    "session_full": 409,
    "already_registered": 409,
    "event_changed": 409,
}
# A domain code not listed above (a new rule nobody documented yet) is never a KeyError and a
# 500: domain errors refuse a valid request because of the state of things, which is 409 Conflict.
DEFAULT_DOMAIN_STATUS = 409


def _domain_error(exc: DomainError) -> ApiError:
    return ApiError(DOMAIN_STATUS.get(exc.code, DEFAULT_DOMAIN_STATUS), exc.code)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    body = {"error": {"code": exc.code, "message": exc.detail or message(exc.code)}}
    return jsonify(body), exc.status


@bp.errorhandler(CSRFError)
def _csrf_error(_exc):
    return _api_error(ApiError(400, "csrf_failed", "CSRF token missing or invalid."))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    return _api_error(ApiError(exc.code or 500, codes.get(exc.code, "invalid_request"), exc.description))


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.api_user, g.via = _bearer_user(header[7:].strip()), "api"
    elif current_user.is_authenticated:
        if request.method not in ("GET", "HEAD"):
            csrf.protect()
        g.api_user, g.via = current_user._get_current_object(), "desk"
    else:
        raise ApiError(401, "unauthorized")


def _bearer_user(token: str) -> staff.Principal:
    """The token's user, from the database on every request (one indexed query), so a revoked
    token or a deactivated user stops at the next request on every server."""
    who, touched = staff.principal_for_api_token(token, now=clock.utcnow())
    if who is None:
        raise ApiError(401, "unauthorized")
    if touched:  # last_used_at, written every few minutes
        db.session.commit()
    return who


def event_api(view):
    """Loads the event; only organizers and reception staff assigned to it (else 404)."""

    @wraps(view)
    def wrapped(event_id: int, **kwargs):
        # From the database (one primary-key query): nothing here comes from a per-process copy.
        # The id converter (web/__init__.py) already keeps event_id within the integer column.
        event = db.session.get(Event, event_id)
        if event is None or not staff.can_use_desk(g.api_user, event.id):
            raise ApiError(404, "not_found", "No such event.")
        return view(event, **kwargs)

    return wrapped


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "Send a JSON object.")
    try:  # JSON may carry lone surrogates ("\\udcff"), which no database column can store
        json.dumps(body, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ApiError(400, "invalid_request", "The JSON holds text that is not valid Unicode.") from None
    return body


def _session_id(event: Event, raw) -> int | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in {s.id for s in event.sessions}:
        raise ApiError(400, "invalid_request", "session_id is not a session of this event.")
    return raw


def _query_session_id(event: Event) -> int | None:
    raw = request.args.get("session_id", "")
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 19):  # "abc" must not mean "all sessions"
        raise ApiError(400, "invalid_request", "session_id is not a session of this event.")
    return _session_id(event, int(raw) if raw else None)


def _walk_in_formdata(body: dict, form) -> MultiDict:
    """The walk-in form's fields from JSON: strings (session_id may be an integer); null is absent."""
    values = {}
    for name, value in body.items():
        if name not in form or value is None:
            continue
        if not isinstance(value, str) and not (name == "session_id" and type(value) is int):  # True is not 1
            raise ApiError(400, "invalid_request", "Form values must be strings (session_id an integer).")
        values[name] = str(value)
    return MultiDict(values)


def _no_nul(value: str, what: str) -> str:
    """PostgreSQL refuses NUL in text; such a value is refused here, never a 500 there."""
    if "\x00" in value:
        raise ApiError(400, "invalid_request", f"{what} must not contain NUL characters.")
    return value


def _desk(body: dict) -> str:
    desk = body.get("desk", "")
    if not isinstance(desk, str):
        raise ApiError(400, "invalid_request", "desk must be a string.")
    return (_no_nul(desk, "desk").strip() or g.api_user.name)[:50]


def _payload(body: dict) -> str:
    payload = body.get("payload")
    if not isinstance(payload, str) or len(payload) > 500:
        raise ApiError(400, "invalid_request", "payload must be the text read from the pass.")
    return payload


def _method() -> ScanMethod:
    """How the pass was read, from X-Scan-Method (values: openapi.HEADER_SCAN_METHODS, made
    from models.ScanMethod); anything else logs how the client authenticated."""
    method = request.headers.get("X-Scan-Method", "")
    return ScanMethod(method) if method in HEADER_SCAN_METHODS else ScanMethod(g.via)


def _commit(body: dict, status: int = 200):
    """Commits and answers ``body``, built before the commit: after it, every loaded row would be
    expired and read again just to be serialised (three more queries per scan)."""
    db.session.commit()
    return jsonify(body), status


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec(current_app.config["BASE_URL"]))


@bp.get("/events/<int:event_id>/counts")
@event_api
def counts(event: Event):
    session_id = _query_session_id(event)
    return jsonify(checkin.counts(event.id, session_id))


@bp.get("/events/<int:event_id>/search")
@event_api
def search(event: Event):
    session_id = _query_session_id(event)
    query = _no_nul(request.args.get("q", ""), "q")[:100]
    found = checkin.search(event.id, query, kana_row=request.args.get("row"), session_id=session_id)
    return jsonify({"results": [registration_json(r, event) for r in found]})


@bp.post("/events/<int:event_id>/lookup")
@event_api
def lookup(event: Event):
    """What a pass is, without checking anyone in."""
    registration = checkin.lookup(_payload(_body()), event=event)
    if registration is None:
        raise ApiError(404, "unknown_pass")
    return jsonify({"registration": registration_json(registration, event)})


@bp.post("/events/<int:event_id>/checkins")
@event_api
def scan(event: Event):
    body = _body()
    outcome = checkin.scan(_payload(body), event=event, session_id=_session_id(event, body.get("session_id")),
                           method=_method(), desk=_desk(body), user_id=g.api_user.id, now=clock.utcnow())
    return _commit(outcome_json(outcome, event))


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/checkin")
@event_api
def check_in(event: Event, registration_id: int):
    body = _body()
    try:
        outcome = checkin.check_in_by_id(
            registration_id, event=event, session_id=_session_id(event, body.get("session_id")),
            method=ScanMethod.search, desk=_desk(body), user_id=g.api_user.id, now=clock.utcnow())
    except DomainError as exc:
        raise _domain_error(exc) from None
    return _commit(outcome_json(outcome, event))


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/undo")
@event_api
def undo(event: Event, registration_id: int):
    try:
        registration = checkin.undo(registration_id, event=event, desk=_desk(_body()),
                                    user_id=g.api_user.id, now=clock.utcnow())
    except DomainError as exc:
        raise _domain_error(exc) from None
    return _commit({"result": "undone", "message": message("undone"),
                    "registration": registration_json(registration, event)})


@bp.post("/events/<int:event_id>/walk-ins")
@event_api
def walk_in(event: Event):
    body = _body()
    form = WalkInForm(formdata=None)
    form.process(formdata=_walk_in_formdata(body, form))
    form.session_id.choices = [(s.id, s.title or str(s.id)) for s in event.sessions]
    if not form.validate():
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        return jsonify({"error": {"code": "invalid_input", "message": message("invalid_request"),
                                  "fields": fields}}), 422
    session = next(s for s in event.sessions if s.id == form.session_id.data)
    applicant = Applicant(
        family_name=form.family_name.data, given_name=form.given_name.data,
        family_kana=form.family_kana.data, given_kana=form.given_kana.data,
        email=form.email.data or None, organization=form.organization.data, sector=form.sector.data,
        language=event.language,
    )
    confirm = body.get("confirm", False)
    if not isinstance(confirm, bool):
        raise ApiError(400, "invalid_request", "confirm must be true or false.")
    try:
        registration = checkin.walk_in(session, applicant, desk=_desk(body), user_id=g.api_user.id,
                                       now=clock.utcnow(), confirm=confirm)
    except checkin.DuplicateWalkIn as exc:
        db.session.rollback()
        raise ApiError(409, "walk_in_duplicate", duplicate_walk_in_message(exc.existing, event)) from None
    except DomainError as exc:
        db.session.rollback()
        raise _domain_error(exc) from None
    return _commit({"result": "walk_in", "ok": True, "message": message("walk_in"),
                    "registration": registration_json(registration, event)}, 201)


@bp.get("/events/<int:event_id>/pass-key")
@event_api
def pass_key(event: Event):
    """The public key an offline desk needs to verify this event's passes without the server."""
    return jsonify({"event_id": event.id, "algorithm": "Ed25519", "format": passes.QR_PREFIX.rstrip(":"),
                    "public_key": passes.public_key(event)})
