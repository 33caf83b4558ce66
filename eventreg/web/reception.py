"""The reception desk: a page for phones, tablets and laptops with a USB scanner.

GET /desk/<event_id>                               the desk (?session=<id>&desk=<name>)
GET /desk/<event_id>/badge/<registration_id>       a page that opens the badge in the print dialog
GET /desk/<event_id>/badge/<registration_id>.pdf   the badge PDF (91 × 55 mm)
GET /desk/app/<version>/<file>                     the desk's ES modules (static/desk/), cached for a year
GET /desk/sw.js                                    the desk's service worker (scope /desk/)

The desk page decides on the device (the roster it keeps, the pass's signature) and sends what
it did to the JSON API (web/api/) with the staff session and a CSRF header: docs/architecture.md.
Its browser packages (the QR decoder, the signature verifier) come from web/desk_vendor.py.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, abort, flash, render_template, request, send_from_directory, url_for
from flask_login import current_user

from ..domain.errors import DomainError
from ..domain.people import gojuon
from ..domain.reception import checkin
from ..domain.registration import passes
from ..domain.registration.passes import pass_context
from ..extensions import db
from ..models import Event, Registration, ScanResult
from . import documents
from .auth import desk_access
from .error_words import message

bp = Blueprint("reception", __name__, url_prefix="/desk")

DESK_DIR = Path(__file__).resolve().parents[1] / "static" / "desk"
BATCH_RESULTS = ("conflict", "walk_in_overflow")  # answers of the batch API beyond a scan's
SHELL_CACHE = "eventreg-desk-shell-v1"  # the service worker's cache (static/desk/sw.js names it too)


@cache
def _hash_of(files: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _size, _mtime in files:
        digest.update(name.encode() + b"\0" + (DESK_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


def desk_version() -> str:
    """A hash of the desk's modules: in their URLs, so a browser (and the desk's service worker)
    keeps each for a year and still gets the new ones after an upgrade. Recomputed only when a
    file's size or time changes."""
    files = tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in DESK_DIR.iterdir() if p.is_file()))
    return _hash_of(files)


def _static_version(filename: str) -> str:
    path = DESK_DIR.parent / filename
    stat = path.stat()
    return _hash_of_file(str(path), stat.st_size, stat.st_mtime_ns)


@cache
def _hash_of_file(path: str, _size: int, _mtime: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


@bp.context_processor
def _vendor_urls():
    # The version in the URL lets the file be cached for a year and still change on upgrade.
    return {"desk_module": lambda name: url_for("reception.desk_app", version=desk_version(), filename=name),
            "versioned_static": lambda name: url_for("static", filename=name, v=_static_version(name)),
            "shell_cache": SHELL_CACHE}


@bp.get("/app/<version>/<path:filename>")
def desk_app(version: str, filename: str):
    """The desk's modules (and badge.css): public code, so no sign-in (the page loads them as static files)."""
    del version  # any version answers with the files of now; the URL only keeps caches apart
    script = filename.endswith((".js", ".mjs"))  # badge.css is named by badge.js beside it
    return send_from_directory(DESK_DIR, filename, mimetype="text/javascript" if script else None, max_age=31536000)


@bp.get("/sw.js")
def service_worker():
    """The service worker: at /desk/ so that its scope is /desk/ without Service-Worker-Allowed.
    Never cached by HTTP (no-store, web/security.py): the browser checks it on every visit."""
    return send_from_directory(DESK_DIR, "sw.js", mimetype="text/javascript", max_age=0)


def _registration_of(event: Event, registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id or not passes.usable(registration):
        abort(404)
    return registration


@bp.get("/<int:event_id>")
@desk_access
def desk(event: Event):
    session_id = request.args.get("session", type=int)
    if session_id is not None and session_id not in {s.id for s in event.sessions}:
        abort(404)
    try:
        desk_name = checkin.desk_name(request.args.get("desk"), default=current_user.name)
    except DomainError as exc:  # the link named a desk with control or bidi characters: not that one
        flash(message(exc.code), "error")
        desk_name = current_user.name[:checkin.DESK_NAME_LENGTH]
    return render_template("reception/desk.html", event=event, session_id=session_id,
                           desk_name=desk_name, kana_rows=list(gojuon.ROWS), result_words=_result_words())


def _result_words() -> dict[str, str]:
    """The words of every verdict the desk may reach on the device (and of the server's answers)."""
    codes = [result.value for result in ScanResult] + ["not_checked_in", *BATCH_RESULTS]
    return {code: message(code) for code in codes if message(code) != code}


@bp.get("/<int:event_id>/badge/<int:registration_id>")
@desk_access
def badge_page(event: Event, registration_id: int):
    registration = _registration_of(event, registration_id)
    return render_template("reception/badge_print.html", event=event, r=registration)


@bp.get("/<int:event_id>/badge/<int:registration_id>.pdf")
@desk_access
def badge_pdf(event: Event, registration_id: int):
    registration = _registration_of(event, registration_id)
    from ..adapters import badges  # typst-backed: the compiler and its fonts load on the first badge

    # The badge's QR is the entry credential (see domain.registration.passes: it opens nothing, shows nothing).
    ctx = pass_context(registration, badges.NO_LINKS)
    code = documents.pass_symbol(registration)
    ctx["qr_code"] = {"size": code.size, "path": code.path}
    body = badges.render_badge(ctx)
    return body, 200, {"Content-Type": "application/pdf",
                       "Content-Disposition": f'inline; filename="badge-{registration.id}.pdf"'}
