"""The desk endpoints, for scanner apps (bearer tokens) and the desk page (static/desk/, the
staff session + X-CSRFToken). Each needs the ``desk`` capability on the event.

GET  /api/v1/events/<event_id>/counts?session_id=
GET  /api/v1/events/<event_id>/search?q=&row=&session_id=
POST /api/v1/events/<event_id>/lookup                       {"payload"}
POST /api/v1/events/<event_id>/checkins                     {"payload", "session_id"?, "desk"?}
POST /api/v1/events/<event_id>/registrations/<id>/checkin   {"session_id"?, "desk"?}
POST /api/v1/events/<event_id>/registrations/<id>/undo      {"desk"?}
POST /api/v1/events/<event_id>/walk-ins                     {"session_id", names, furigana, ...}
GET  /api/v1/events/<event_id>/pass-key                     the public key that signs the event's passes

Pass tokens travel only in request bodies, never in URLs (URLs end up in logs).
"""

from __future__ import annotations

from flask import g, jsonify
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from eventreg.domain.reception import walk_ins

from ... import clock
from ...domain.access.permissions import Capability
from ...domain.backoffice import hybrid_rules
from ...domain.errors import DomainError
from ...domain.insight.counts import of_event
from ...domain.reception import checkin, desk_search
from ...domain.registration import passes
from ...domain.registration.signup import Applicant
from ...extensions import db
from ...models import Event, EventSession, ScanMethod
from ..checkin_json import Zone, duplicate_walk_in_message, outcome_json, registration_json
from ..error_words import message
from ..filters import session_name
from ..forms import WalkInForm
from . import schemas as s
from .core import AUTOCOMMIT, BY_TOKEN, bp, endpoint
from .errors import ApiError, domain_error, not_of_this_event

DESK = Capability.desk
TAGS = ["desk"]


def _session_id(event: Event, session_id: int | None) -> int | None:
    if session_id is not None and session_id not in {x.id for x in event.sessions}:
        raise not_of_this_event("session_id")
    return session_id


def _desk(body: dict) -> str:
    """The desk the body names, cleaned as any typed text (checkin.desk_name), else the user's name.
    A name the document allows but the rule refuses (a control or bidi character) is 422."""
    try:
        return checkin.desk_name(body["desk"], default=g.api_user.name)
    except DomainError as exc:
        raise ApiError(422, "invalid_input", fields={"desk": [str(message(exc.code))]}) from None


def _method(method: str | None, via: str) -> ScanMethod:
    """How the pass was read, from X-Scan-Method; anything else logs how the client authenticated."""
    return ScanMethod(method) if method in s.HEADER_SCAN_METHODS else ScanMethod(via)


def _commit(body: dict, status: int = 200):
    """Commits and answers ``body``, built before the commit: after it, every loaded row would be
    expired and read again just to be serialised (three more queries per scan)."""
    db.session.commit()
    return jsonify(body), status


@bp.route("/events/<int:event_id>/counts", methods=["GET"], tags=TAGS)
@endpoint(DESK, "invalid_input")
@bp.arguments(s.CountsQuery, location="query")
@bp.response(200, s.CountsSchema, description="The counters of the event or of one session.")
def counts(event: Event, args: dict):
    """Live counters: confirmed, checked in, not arrived, walk-ins … (docs/statistics.md)"""
    session_id = _session_id(event, args["session_id"])
    return jsonify(of_event(event.id, now=clock.utcnow(), session_id=session_id).as_dict())


@bp.route("/events/<int:event_id>/search", methods=["GET"], tags=TAGS)
@endpoint(DESK, "invalid_input")
@bp.arguments(s.SearchQuery, location="query")
@bp.response(200, s.SearchResultsSchema, description="Matching registrations.")
def search(event: Event, args: dict):
    """Find people without a pass (name, furigana, organization, email)

    Active (not cancelled) registrations, at most 30, ordered by furigana.
    """
    found = desk_search.find(event.id, args["q"], kana_row=args.get("row"),
                             session_id=_session_id(event, args["session_id"]))
    unlisted = desk_search.not_on_security_list(found)
    return jsonify({"results": [registration_json(r, event, r.id in unlisted) for r in found]})


@bp.route("/events/<int:event_id>/lookup", methods=["POST"], tags=TAGS)
@endpoint(DESK, "unknown_pass", post=True)
@bp.arguments(s.LookupRequest, description="The scanned payload.")
@bp.response(200, s.LookupSchema, description="The pass's registration.")
def lookup(event: Event, body: dict):
    """What a pass is, without checking anyone in"""
    registration = checkin.lookup(body["payload"], event=event)
    if registration is None:
        raise ApiError(404, "unknown_pass")
    return jsonify({"registration": registration_json(registration, event)})


@bp.route("/events/<int:event_id>/checkins", methods=["POST"], tags=TAGS)
@endpoint(DESK, "invalid_input", post=True, load=False)
@bp.arguments(s.ScanHeaders, location="headers")
@bp.arguments(s.ScanRequest, description="The scanned payload, optionally a session and desk name.")
@bp.response(200, s.ScanOutcomeSchema, description="The outcome (also for passes that are not let in).")
def scan(event_id: int, headers: dict, body: dict):
    """Check in the holder of a scanned pass

    Always logged. Every outcome answers 200 with a `result` (see ScanOutcome); only `ok` means
    the person was let in now. The same pass scanned at two desks at once gives one `ok` and one
    `already_checked_in`. Send the header `X-Scan-Method` to tell the log how the pass was read.
    A pass whose entry version is older than the registration's answers `cancelled` (cancelled
    since) or `superseded` (moved to another session).
    """
    who = {"method": _method(headers.get("scan_method"), g.via), "desk": _desk(body), "user_id": g.api_user.id,
           "now": clock.utcnow()}
    if body["session_id"] is None:  # the usual scan: one statement, the event not loaded
        done = checkin.scan_at(body["payload"], event_id=event_id, **who)
        if done is not None:
            return _commit(outcome_json(done[0], Zone(done[1])))
    if g.autocommit:
        db.session.commit()  # end the autocommit: the path below writes with several statements
    event = db.session.get(Event, event_id)
    if event is None:  # deleted since the caller's role was read
        raise ApiError(404, "not_found")
    outcome = checkin.scan(body["payload"], event=event, session_id=_session_id(event, body["session_id"]), **who)
    return _commit(outcome_json(outcome, event))


# On PostgreSQL the usual scan writes with one statement (checkin.scan_at: the check-in and its
# log row; the rare re-read after a lost race writes the log row alone), so the request runs in
# autocommit and _commit's COMMIT sends nothing.
AUTOCOMMIT.add("api.scan")
_SCAN_PATH, _SCAN_HEADERS, _SCAN_REQUEST = s.EventPath(), s.ScanHeaders(), s.ScanRequest()


def scan_by_token(connection, token_hash: str, now):
    """``scan`` of a scanner app's usual request (a bearer token, a pass, no session_id) with one
    statement that checks the token too (checkin.scan_by_token), before flask-smorest's wrappers
    run: the request is read by the same parser and schemas. Whatever it does not take (a body or
    desk name refused, another session, a token that may not use the desk) goes on as before, so
    a refused token is still 401/403/404 before anything about the body."""
    parse = bp.ARGUMENTS_PARSER.parse
    try:
        body = parse(_SCAN_REQUEST, location="json")
        desk = checkin.desk_name(body["desk"], default="")  # empty: the token user's name
    except (ApiError, DomainError, HTTPException):  # answered after the token is checked
        return None
    if body["session_id"] is not None:
        return None
    method = _method(parse(_SCAN_HEADERS, location="headers").get("scan_method"), "api")
    done = checkin.scan_by_token(body["payload"], connection=connection, token_hash=token_hash,
                                 event_id=parse(_SCAN_PATH, location="path")["event_id"], method=method, desk=desk,
                                 now=now)
    if done is None:
        return None
    g.access_decision = "allowed"
    return jsonify(outcome_json(done.outcome, Zone(done.timezone))), done.token_id, done.token_last_used_at


BY_TOKEN["api.scan"] = scan_by_token


@bp.route("/events/<int:event_id>/registrations/<int:registration_id>/checkin", methods=["POST"], tags=TAGS)
@endpoint(DESK, "invalid_input", post=True)
@bp.arguments(s.CheckInRequest, description="Optional session and desk; send {} for neither.")
@bp.response(200, s.ScanOutcomeSchema, description="The outcome.")
def check_in(event: Event, body: dict, registration_id: int):
    """Check in a person found by search

    Outcomes as for /checkins, except unknown_pass and wrong_event (a registration of another
    event is `not_found`).
    """
    try:
        outcome = checkin.check_in_by_id(
            registration_id, event=event, session_id=_session_id(event, body["session_id"]),
            method=ScanMethod.search, desk=_desk(body), user_id=g.api_user.id, now=clock.utcnow())
    except DomainError as exc:
        raise domain_error(exc) from None
    return _commit(outcome_json(outcome, event))


@bp.route("/events/<int:event_id>/registrations/<int:registration_id>/undo", methods=["POST"], tags=TAGS)
@endpoint(DESK, "not_checked_in", "invalid_input", post=True)
@bp.arguments(s.UndoRequest, description="Optional desk; send {} for none.")
@bp.response(200, s.UndoneSchema, description="Not checked in any more.")
def undo(event: Event, body: dict, registration_id: int):
    """Take a check-in back (logged)"""
    try:
        registration = checkin.undo(registration_id, event=event, desk=_desk(body),
                                    user_id=g.api_user.id, now=clock.utcnow())
    except DomainError as exc:
        raise domain_error(exc) from None
    return _commit({"result": "undone", "message": message("undone"),
                    "registration": registration_json(registration, event)})


def read_walk_in(event: Event, body: dict) -> tuple[EventSession, Applicant]:
    """The walk-in form's values (typed by schemas.WalkInRequest) checked by the desk's form, as
    the public form checks them; ApiError 422 invalid_input with the fields it refuses."""
    form = WalkInForm(formdata=None)
    form.process(formdata=MultiDict({k: v for k, v in body.items() if k in form and v is not None}))
    # A walk-in is at the venue: on-site sessions only (an online twin is joined by its link)
    form.session_id.choices = [(x.id, session_name(x, event.timezone)) for x in event.sessions if hybrid_rules.on_site(x)]
    if not form.validate():
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        raise ApiError(422, "invalid_input", message("invalid_request"), fields=fields)
    session = next(x for x in event.sessions if x.id == form.session_id.data)
    return session, Applicant(
        family_name=form.family_name.data, given_name=form.given_name.data,
        family_kana=form.family_kana.data, given_kana=form.given_kana.data,
        email=form.email.data or None, organization=form.organization.data, sector=form.sector.data,
        language=event.language,
    )


@bp.route("/events/<int:event_id>/walk-ins", methods=["POST"], tags=TAGS)
@endpoint(DESK, "invalid_input", "session_full", "already_registered", "event_changed", "walk_in_duplicate",
          post=True)
@bp.arguments(s.WalkInRequest, description="The short walk-in form.")
@bp.response(201, s.WalkInSchema, description="Registered and checked in.")
def walk_in(event: Event, body: dict):
    """Register someone at the desk and check them in

    Needs a free seat (no waiting list, no deadline). Values are strings (session_id may be an
    integer); null counts as absent. The desk's walk-in form checks them as the public form does.
    """
    session, applicant = read_walk_in(event, body)
    try:
        registration = walk_ins.walk_in(session, applicant, desk=_desk(body), user_id=g.api_user.id,
                                       now=clock.utcnow(), confirm=body["confirm"])
    except DomainError as exc:
        db.session.rollback()
        # A walk-in of the same name exists: the desk shows the question and may send confirm.
        asked = duplicate_walk_in_message(exc.existing, event) if isinstance(exc, walk_ins.DuplicateWalkIn) else None
        raise domain_error(exc, asked) from None
    return _commit({"result": "walk_in", "ok": True, "message": message("walk_in"),
                    "registration": registration_json(registration, event)}, 201)


@bp.route("/events/<int:event_id>/pass-key", methods=["GET"], tags=TAGS)
@endpoint(DESK)
@bp.response(200, s.PassKeySchema, description="The event's public key.")
def pass_key(event: Event):
    """The public key that signs this event's passes (for an offline desk)

    A pass's QR code (format 3) is decimal digits only: `3` followed by the decimal of the
    big-endian integer of the bytes `01` + uleb128(registration id) + uleb128(entry version) +
    the Ed25519 signature (64 bytes) of `eventreg pass v3\\0` followed by event id, registration
    id and entry version as three big-endian unsigned 32-bit integers. The event id is signed but
    not carried: verify with the event you are checking people in for. Passes mailed before format
    3 (`ER2:` + base32, RFC 4648, no padding, of 85 bytes: version (1 byte, 2), event id (4 bytes),
    entry id (12 bytes), entry version (4 bytes), then the signature of `eventreg entry pass\\0`
    followed by those 21 bytes) stay valid. A pass that verifies with this key was issued by this
    server; whether it is still current (not cancelled or moved) only the server knows (or an
    offline desk's roster, by the entry version).
    """
    return jsonify({"event_id": event.id, "algorithm": "Ed25519", "format": passes.FORMAT_DIGIT,
                    "public_key": passes.public_key(event)})
