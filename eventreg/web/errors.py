"""Error pages: every failure a person can cause gets a page in their language, never a trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..outage import UPGRADE_COMMAND, first_line, schema_behind
from .input_guard import UnreadableInput

TEXTS = {
    400: _l("The request could not be understood. Please go back and try again."),
    404: _l("This page does not exist, or the link is no longer valid."),
    405: _l("This action is not allowed here."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. Please try again in a moment."),
    503: _l("The service is temporarily unavailable. Please try again in a moment."),
}
# The database down, refusing connections (max_connections), its disk full, or no pooled
# connection free within DB_POOL_TIMEOUT: the request may well succeed shortly.
RETRY_AFTER_SECONDS = 15
# SQLite raises OperationalError for mistakes too ("no such table", syntax): only these are outages.
SQLITE_OUTAGES = ("database is locked", "unable to open database file", "disk i/o error",
                  "database or disk is full")


def database_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or used now, rather than a bug."""
    if isinstance(exc, PoolTimeout) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if type(exc.orig).__module__.startswith("sqlite3"):
        return any(words in str(exc.orig).lower() for words in SQLITE_OUTAGES)
    return True  # PostgreSQL's OperationalError: connection, resources (disk, connections), shutdown


NOT_SET_UP = _l("This site is not set up yet: its database has no tables. Please try again later. "
                "If you run this site: run %(command)s on the server (docs/operations.md).",
                command=UPGRADE_COMMAND)


API_CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
             429: "too_many_requests", 500: "server_error", 503: "unavailable"}


def kept_headers(exc: HTTPException) -> list[tuple[str, str]]:
    """What an error response keeps of Werkzeug's headers: a 405's Allow (RFC 9110 asks for it)."""
    return [(name, value) for name, value in exc.get_headers() if name == "Allow"]


def _page(code: int, text):
    if request.path.startswith("/api/"):
        # Routing fails before a blueprint is known, so API clients get their JSON shape here.
        return jsonify({"error": {"code": API_CODES.get(code, "invalid_request"), "message": str(text)}}), code
    return render_template("errors.html", code=code, text=text), code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        return _page(400, _l("The form expired or was sent twice. Please reload the page and try again."))

    @app.errorhandler(RateLimitExceeded)
    def too_many(exc: RateLimitExceeded):
        # Flask-Limiter adds Retry-After and the X-RateLimit headers to this response. The sign-up
        # form's own refusal (the form kept, when to try again) is public.signup_refused_for_now.
        return _page(429, TEXTS[429])

    @app.errorhandler(UnreadableInput)
    def unreadable(exc: UnreadableInput):
        return _page(400, exc.description)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        body, status = _page(exc.code or 500, TEXTS.get(exc.code, exc.description))
        return body, status, kept_headers(exc)

    @app.errorhandler(ProgrammingError)
    def database_not_set_up(exc):
        if not schema_behind(exc):
            raise exc  # a bug: Flask logs it and answers with the 500 page below
        return _not_set_up(app, exc)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(exc):
        if schema_behind(exc):  # SQLite says "no such table" with an OperationalError
            return _not_set_up(app, exc)
        if not database_outage(exc):
            raise exc  # a bug: Flask logs it and answers with the 500 page below
        return _unavailable(app, exc)

    @app.errorhandler(500)
    def server_error(exc):
        original = getattr(exc, "original_exception", None)
        if original is not None and database_outage(original):  # e.g. a connection that died mid-query
            return _unavailable(app, original)
        _rollback()
        return _page(500, TEXTS[500])


def _rollback() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection is gone; the pool replaces it
        pass


def _not_set_up(app: Flask, exc: Exception):
    """503 in the visitor's language that says the site is not set up; one log line naming the
    command that sets it up, no traceback."""
    _rollback()
    app.logger.error("the database lacks eventreg's tables: run `%s` (docs/operations.md); %s %s: %s",
                     UPGRADE_COMMAND, request.method, request.path, first_line(exc))
    return _page(503, NOT_SET_UP)


def _unavailable(app: Flask, exc: Exception):
    """503 with Retry-After, in the visitor's language (JSON under /api/); one line in the log,
    no traceback: an outage must not bury the log."""
    _rollback()
    app.logger.warning("database unavailable for %s %s: %s", request.method, request.path, first_line(exc))
    response = app.make_response(_page(503, TEXTS[503]))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
