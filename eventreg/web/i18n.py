"""Language choice: ?lang= or the language cookie, else Japanese."""

from __future__ import annotations

from flask import Blueprint, current_app, has_request_context, redirect, request

from .security import safe_next

bp = Blueprint("i18n", __name__)
COOKIE = "lang"


def select_locale() -> str:
    if not has_request_context():  # CLI and worker: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    for candidate in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if candidate in languages:
            return candidate
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@bp.get("/lang/<code>")
def switch(code: str):
    response = redirect(safe_next(request.args.get("next"), "/"))  # only same-site paths
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
