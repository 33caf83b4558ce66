"""Error pages: every failure a person can cause gets a page in their language, never a trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..extensions import db
from .input_guard import UnreadableInput

TEXTS = {
    400: _l("The request could not be understood. Please go back and try again."),
    404: _l("This page does not exist, or the link is no longer valid."),
    405: _l("This action is not allowed here."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. Please try again in a moment."),
}


API_CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
             429: "too_many_requests", 500: "server_error"}


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
        # Flask-Limiter adds Retry-After and the X-RateLimit headers to this response.
        if request.path.startswith("/api/"):
            return _page(429, TEXTS[429])
        text = _l("Too many sign-ups from your connection or with this email address. Nothing was registered. Please try again later.")
        return render_template("errors.html", code=429, text=text, back=request.path), 429

    @app.errorhandler(UnreadableInput)
    def unreadable(exc: UnreadableInput):
        return _page(400, exc.description)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        body, status = _page(exc.code or 500, TEXTS.get(exc.code, exc.description))
        return body, status, kept_headers(exc)

    @app.errorhandler(500)
    def server_error(_exc):
        db.session.rollback()
        return _page(500, TEXTS[500])
