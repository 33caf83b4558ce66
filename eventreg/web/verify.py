"""Checking a certificate of attendance: public, for an employer or a training scheme.

GET /verify             a small form to type the code printed on the certificate
GET /verify?code=…      the form's answer: redirect to /verify/<code> (or the form again)
GET /verify/<code>      confirms a real certificate (name, event, date, organizer, issue date),
                        refuses an unknown or forged one with a clear message

It shows nothing else of anyone (no organization, email, or whether they are registered
elsewhere), asks nothing of the database beyond one indexed read, writes nothing, is rate-limited
per client address (the project's limiter, web/limits.py's storage and switch: RATELIMIT_VERIFY,
default 30 a minute), and is never cached (no-store). Anything a client sends is either a code or
not one: never a 500.
"""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for

from ..domain.registration import certificates
from ..extensions import limiter
from . import certificates as certificate_words

bp = Blueprint("verify", __name__)

DEFAULT_LIMIT = "30 per minute"


def _limit() -> str:
    return current_app.config.get("RATELIMIT_VERIFY", DEFAULT_LIMIT)


def _address() -> str:
    return f"{current_app.config['RATELIMIT_PREFIX']}:verify:{request.remote_addr or ''}"


limited = limiter.limit(_limit, key_func=_address, scope="verify")


def _page(template: str, status: int = 200, **values):
    response = make_response(render_template(template, **values), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/verify")
@limited
def form():
    typed = request.args.get("code")
    if typed is None:
        return _page("public/verify.html", typed="")
    code = certificates.normalize(typed)
    if code is None:
        return _page("public/verify.html", 400, typed=typed[:certificates.MAX_TYPED], malformed=True)
    return redirect(url_for("verify.certificate", code=certificates.formatted(code)), 303)


@bp.get("/verify/<code>")
@limited
def certificate(code: str):
    found = certificates.find(code)
    if found is None:
        return _page("public/verify_result.html", 404, certificate=None, typed=code[:certificates.MAX_TYPED])
    shown = certificate_words.page_data({name: getattr(found, name) for name in certificate_words.COLUMNS},
                                        certificates.formatted(found.code), "")
    return _page("public/verify_result.html", certificate=found, shown=shown)
