"""The reception desk: a page for phones, tablets and laptops with a USB scanner.

GET /desk/<event_id>                               the desk (?session=<id>&desk=<name>)
GET /desk/<event_id>/badge/<registration_id>       a page that opens the badge in the print dialog
GET /desk/<event_id>/badge/<registration_id>.pdf   the badge PDF (91 × 55 mm)

The desk page talks to the JSON API (web/api.py) with the staff session and a CSRF header.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request
from flask_login import current_user

from ..domain.errors import DomainError
from ..domain.people import gojuon
from ..domain.reception import checkin
from ..domain.registration import passes
from ..domain.registration.passes import pass_context
from ..extensions import db
from ..models import Event, Registration
from .auth import desk_access
from .error_words import message
from .links import masked_links

bp = Blueprint("reception", __name__, url_prefix="/desk")

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
                           desk_name=desk_name, kana_rows=list(gojuon.ROWS))


@bp.get("/<int:event_id>/badge/<int:registration_id>")
@desk_access
def badge_page(event: Event, registration_id: int):
    registration = _registration_of(event, registration_id)
    return render_template("reception/badge_print.html", event=event, r=registration)


@bp.get("/<int:event_id>/badge/<int:registration_id>.pdf")
@desk_access
def badge_pdf(event: Event, registration_id: int):
    registration = _registration_of(event, registration_id)
    from ..adapters import badges  # WeasyPrint-backed: loaded on the first badge

    # The badge's QR is the entry credential (see domain.registration.passes: it opens nothing, shows nothing).
    body = badges.render_badge(pass_context(registration, masked_links(registration)))  # staff print it
    return body, 200, {"Content-Type": "application/pdf",
                       "Content-Disposition": f'inline; filename="badge-{registration.id}.pdf"'}
