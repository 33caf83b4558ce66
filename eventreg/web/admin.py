"""Organizer pages. The back office grows here; for now the event-day views.

GET /admin/events/<event_id>/checkins     the check-in log (every scan, undo and walk-in)
GET /admin/events/<event_id>/badges.pdf   all confirmed badges, A4 10-up, in furigana order
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..domain.checkin import counts
from ..domain.passes import pass_context
from ..extensions import db
from ..models import Event, Registration, Scan, Status
from .auth import organizer_only
from .links import registration_links

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    return event


@bp.get("/events/<int:event_id>/checkins")
@organizer_only
def checkins(event_id: int):
    event = _event(event_id)
    scans = db.session.scalars(
        select(Scan).where(Scan.event_id == event.id).order_by(Scan.at.desc(), Scan.id.desc()).limit(1000)
        .options(selectinload(Scan.registration), selectinload(Scan.user))
    ).all()
    return render_template("admin/checkins.html", event=event, scans=scans, counts=counts(event.id))


@bp.get("/events/<int:event_id>/badges.pdf")
@organizer_only
def badge_sheet(event_id: int):
    event = _event(event_id)
    people = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == Status.confirmed)
        .order_by(Registration.family_kana, Registration.given_kana, Registration.id)
        .options(selectinload(Registration.session))
    ).all()
    from ..adapters import badges  # WeasyPrint-backed: loaded on the first sheet

    body = badges.render_badge_sheet([pass_context(r, registration_links(r)) for r in people])
    return body, 200, {"Content-Type": "application/pdf",
                       "Content-Disposition": f'attachment; filename="badges-{event.slug}.pdf"'}
