"""The API's blueprint and its edges: authentication, access per endpoint, request parsing,
error responses, and the OpenAPI document generated from it all (flask-smorest + apispec).

- ``bp``: one flask-smorest Blueprint ``api`` at /api/v1 (endpoints ``api.<view>``).
- ``endpoint(capability, *errors)``: every view under /events/<event_id>/ names the capability
  it needs (web/access.api_event_access: no role on the event -> 404, a role without it -> 403;
  the view function Flask registers carries ``.access``) and the error codes it can answer,
  which the document lists per operation.
- Validation: ``@bp.arguments(Schema)`` loads through ``Parser``; a body that is not a JSON
  object, or text with lone surrogates, or a value the schema refuses is ``400 invalid_request``
  in our error format with ``error.fields`` (flask-smorest's own 422 body is never used).
- ``document(state)``: when the app registers the blueprint, a flask-smorest ``Api`` of that app
  documents every route; ``GET /api/v1/openapi.json`` serves it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import current_app, g, jsonify, request
from flask_login import current_user
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint
from flask_wtf.csrf import CSRFError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from eventreg.domain.access import api_tokens

from ... import clock
from ...domain.access import accounts
from ...domain.access.permissions import Capability
from ...extensions import csrf, db
from ...sqlite import writing
from ..access import api_event_access
from ..error_words import message
from ..errors import kept_headers
from .errors import ERRORS, ApiError, by_status
from .schemas import ErrorSchema

JSON = "application/json"


class Parser(FlaskParser):
    """webargs' Flask parser with our rules for bodies and our error format."""

    DEFAULT_VALIDATION_STATUS = 400
    # The schemas say what to do with unknown keys (request schemas: ignore them).
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "json": None, "query": None, "querystring": None, "headers": None}

    def load_json(self, req, schema):
        body = req.get_json(silent=True)  # None for another content type, bad JSON, a 5000-digit number
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_request", "Send a JSON object.")
        try:  # JSON may carry lone surrogates ("\\udcff"), which no database column can store
            json.dumps(body, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise ApiError(400, "invalid_request", "The JSON holds text that is not valid Unicode.") from None
        return body

    def load_querystring(self, req, schema):
        # A parameter of one value given twice (?session_id=1&session_id=2) is refused, not read
        # as its first value: the document says one value, and a client that sends two meant both.
        names = {field.data_key or name for name, field in schema.fields.items()}
        twice = sorted(name for name, values in req.args.lists() if name in names and len(values) > 1)
        if twice:
            raise ApiError(400, "invalid_request", f"{message('invalid_request')} {', '.join(twice)}: "
                           "one value only.", fields={name: ["One value only."] for name in twice})
        return super().load_querystring(req, schema)

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        # webargs nests the messages under the location ("json", "query", "headers").
        if isinstance(messages, dict) and len(messages) == 1 and next(iter(messages)) in self.__location_map__:
            messages = next(iter(messages.values()))
        fields = {str(name): [str(m) for m in (problems if isinstance(problems, list) else [problems])]
                  for name, problems in (messages.items() if isinstance(messages, dict) else [("_", messages)])}
        detail = "; ".join(f"{name}: {' '.join(problems)}" for name, problems in fields.items())
        raise ApiError(400, "invalid_request", f"{message('invalid_request')} {detail}", fields=fields)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = Parser()


bp = ApiBlueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # checked below for session-authenticated calls; bearer tokens need none


# --- errors -----------------------------------------------------------------------------------


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    body = {"code": exc.code, "message": exc.detail or message(exc.code)}
    if exc.fields is not None:
        body["fields"] = exc.fields
    body.update(exc.more)
    return jsonify({"error": body}), exc.status


@bp.errorhandler(CSRFError)
def _csrf_error(_exc):
    return _api_error(ApiError(400, "csrf_failed", "CSRF token missing or invalid."))


HTTP_CODES = {403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    # Any other HTTP error raised in a view (a BadRequest from Werkzeug) is an invalid request.
    status = exc.code if exc.code in HTTP_CODES else 400
    body, status = _api_error(ApiError(status, HTTP_CODES.get(status, "invalid_request"), exc.description))
    return body, status, kept_headers(exc)


# --- who is asking ----------------------------------------------------------------------------


# Endpoints whose request writes with one statement on PostgreSQL (each names why): there they
# run in autocommit from the token lookup on. A view that needs a transaction after all (a
# fallback of several statements) calls db.session.commit() first: the next statement begins one.
AUTOCOMMIT: set[str] = set()


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    bearer = header[7:].strip() if header.startswith("Bearer ") else None
    if bearer and request.endpoint in BY_TOKEN and db.engine.dialect.name == "postgresql":
        answer = _answer_by_token(bearer)
        if answer is not None:
            return answer
    # Only on a connection not yet in use: a request that already read (a signed-in staff
    # session checked before this hook) keeps its transaction, and _commit commits it as usual.
    g.autocommit = (request.endpoint in AUTOCOMMIT and not db.session().in_transaction()
                    and db.session.get_bind().dialect.name == "postgresql")
    if g.autocommit:  # its only write is one statement: no BEGIN and COMMIT round trips around it
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    if bearer is not None:
        g.api_user, g.via = _bearer_user(bearer), "api"
    elif current_user.is_authenticated:
        if request.method not in ("GET", "HEAD"):
            csrf.protect()
        g.api_user, g.via = current_user._get_current_object(), "desk"
    else:
        raise ApiError(401, "unauthorized")


# Endpoints that answer a bearer token's usual request with one statement that checks the token
# itself (each names why), on PostgreSQL: ``answer(connection, token_hash, now)`` returns
# (response, token id, its last_used_at), or None having written nothing, and the request goes
# the usual way (the token looked up, 401/403/404, the view): every refusal is answered in one
# place. The connection is a Core one in autocommit, taken before the ORM session is ever
# opened: the statement is the whole request's database work, and the session's own set-up and
# teardown cost about as much as the check-in's answer (bench/profile_checkin.py).
BY_TOKEN: dict[str, Callable] = {}


def _answer_by_token(token: str):
    token_hash, now = api_tokens.hash_of(token), clock.utcnow()
    if not token_hash:
        return None
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        done = BY_TOKEN[request.endpoint](connection, token_hash, now)
    if done is None:
        return None
    answer, token_id, last_used = done
    if api_tokens.touch_due(last_used, now):
        _touch(token_id, now)
    return answer


def _bearer_user(token: str) -> accounts.Principal:
    """The token's user, from the database on every request (one indexed query), so a revoked
    token or a deactivated user stops at the next request on every server. The Principal's
    grants are already limited to the token's event and role."""
    now = clock.utcnow()
    who, due = api_tokens.principal_for_api_token(token, now=now)
    if who is None:
        raise ApiError(401, "unauthorized")
    if due is not None:  # last_used_at, written every few minutes
        _touch(due, now)
    return who


def _touch(token_id: int, now) -> None:
    """last_used_at in a transaction of its own that takes SQLite's write lock up front: a GET's
    transaction has read already, and could not become a writer once another request had written
    ("database is locked")."""
    db.session.commit()  # end the read (a POST's write transaction has done nothing else yet)
    with writing():
        api_tokens.touch(token_id, now)
        db.session.commit()


# --- one decorator per endpoint ------------------------------------------------------------------

# Every authenticated route can answer these (the method decides about bodies).
COMMON_GET = ("unauthorized", "forbidden", "not_found", "invalid_request", "unavailable")
COMMON_POST = COMMON_GET + ("csrf_failed", "too_large")


def errors_doc(*codes: str):
    """Documents the error responses ``codes`` (grouped by status) of one operation."""

    def decorate(view):
        for status, group in by_status(codes).items():
            view = bp.alt_response(status, schema=ErrorSchema, description="; ".join(
                f"`{code}`: {ERRORS[code][1]}" for code in group))(view)
        return view

    return decorate


def endpoint(capability: Capability, *codes: str, post: bool = False, load: bool = True):
    """Loads the event (``view(event, …)``; ``load=False``: ``view(event_id, …)``), checks
    ``capability`` before anything is parsed (so another event's URL is a 404 whatever the body),
    and documents the errors."""

    def decorate(view):
        documented = errors_doc(*(COMMON_POST if post else COMMON_GET), *codes)(view)
        documented = bp.doc(**{"x-capability": capability.value})(documented)
        return api_event_access(capability, load=load)(documented)

    return decorate


# --- the document ------------------------------------------------------------------------------


class Api(SmorestApi):
    """flask-smorest's Api for documentation only: the app's errors stay ours (web/errors.py for
    pages, the blueprint's handlers above for the API), so no app-wide error handler, no
    "default" response, and our error schema for the responses flask-smorest adds (400)."""

    DEFAULT_ERROR_RESPONSE_NAME = None
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass

    def _register_pagination_header(self):
        pass  # the organizer list pages in its body (total, page, per_page), not in a header


def _only_null(self, field, ret, **kwargs) -> dict:
    """apispec writes a nullable nested schema for OpenAPI 3.0 as ``anyOf: [{type: object,
    nullable: true}, {$ref}]``, whose first branch admits any object; ``enum: [null]`` makes it
    admit only null, so the reference alone decides the object's shape."""
    for branch in ret.get("anyOf", []):
        if branch == {"type": "object", "nullable": True}:
            branch["enum"] = [None]
    return {}


SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "A token from `flask --app wsgi api-tokens create`; a token may be limited "
                                  "to one event and one role (never more than its user's own role there)."},
    "deskSession": {"type": "apiKey", "in": "cookie", "name": "session",
                    "description": "The staff session of the desk page; POSTs also need the X-CSRFToken header."},
}


def document(state) -> None:
    """Called once when an app registers ``bp``, after every route is on it."""
    from .description import DESCRIPTION

    app = state.app
    api = Api(app, spec_kwargs={
        "title": "eventreg API", "version": "1", "openapi_version": "3.0.3",
        "info": {"description": DESCRIPTION},
        "servers": [{"url": app.config["BASE_URL"].rstrip("/")}],
        "security": [{"bearerAuth": []}, {"deskSession": []}],
        "tags": [{"name": "desk", "description": "Scanner apps and the desk page: the `desk` capability."},
                 {"name": "organizer", "description": "The attendee list and exports: `view` / `export_personal`."}],
    })
    api.ma_plugin.converter.add_attribute_function(_only_null)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    app.extensions["flask-smorest"]["blp_name_to_api"][bp.name] = api
    bp.register_views_in_doc(api, app, api.spec, name=bp.name, parameters=None)
    app.extensions["eventreg.api"] = api


@bp.route("/openapi.json", methods=["GET"], tags=["meta"])
@bp.doc(security=[], summary="This document")
@bp.response(200, description="The OpenAPI 3.0 document of /api/v1.")
def openapi():
    """This document."""
    return jsonify(current_app.extensions["eventreg.api"].spec.to_dict())


openapi.access = "public"  # no credentials: the document holds no data
