"""Language choice: ?lang=, the language cookie, the browser's Accept-Language, else Japanese.

A person chooses with the switch (/lang/<code>) or by opening their registration's link with
?lang= (English mails' links carry it, web.links): both set the cookie, which then wins over
the browser's languages.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, g, has_request_context, redirect, request

from .security import safe_next

bp = Blueprint("i18n", __name__)
COOKIE = "lang"
YEAR = 365 * 24 * 3600


def select_locale() -> str:
    if not has_request_context():  # CLI and worker: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in languages:
        g.lang_source = "link"
        return asked
    chosen = request.cookies.get(COOKIE)
    if chosen in languages:
        return chosen
    # Nobody chose yet: the browser's languages (en-GB finds en), and the page varies by them.
    g.lang_source = "browser"
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _remember(response, code: str) -> None:
    response.set_cookie(COOKIE, code, max_age=YEAR, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])


@bp.after_app_request
def _remember_or_vary(response):
    source = g.lang_source if "lang_source" in g else None
    # A mail's personal link (/r/<token>...) carries the language the person signed up in: their
    # choice, kept on this device. Elsewhere ?lang= is for that one page.
    personal = "token" in (request.view_args or {})
    if source == "link" and personal and request.cookies.get(COOKIE) != request.args.get("lang"):
        _remember(response, request.args["lang"])
    elif source == "browser":
        response.vary.add("Accept-Language")
    return response


def _without_lang(target: str) -> str:
    """``next`` without its ?lang=: the page in the language just chosen, not the one it was opened in."""
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return urlunsplit(parts._replace(query=urlencode(query)))


@bp.get("/lang/<code>")
def switch(code: str):
    response = redirect(_without_lang(safe_next(request.args.get("next"), "/")))  # only same-site paths
    if code in current_app.config["LANGUAGES"]:
        _remember(response, code)
    return response
