"""An online registrant's join link (domain.registration.join_links).

GET /j/<key>   before doors open: a countdown page; from doors-open to the end: a 303 to the
               meeting (the first opening is the person's online check-in); after the end: "this
               session has ended"; after a cancellation or a move: refused. Every opening is a
               row of the check-in log.

Public: the key is the credential. The meeting URL leaves the server only in the Location of the
redirect inside the window (no-store, no-referrer); the pages name the registrant, so a forwarded
link shows whose it is.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import gettext as _

from .. import clock
from ..domain.registration import join_links
from ..extensions import db
from ..sqlite import writing

bp = Blueprint("join", __name__)

# The join link's answers that are pages of their own, not refusals (410).
PAGES = ("too_early", "join_ended")


def materials_url(event) -> str | None:
    """The event's materials link (the post-event loop's ``Event.materials_url``) for the "ended" page."""
    return event.materials_url or None


def countdown(left: timedelta) -> str:
    """The time until the link opens, as the countdown script writes it: "2 d 03:04:05", "00:10:00"."""
    seconds = max(int(left.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{_('%(days)s d', days=days)} {clock}" if days else clock


def _private(response, status: int | None = None):
    response = current_app.make_response(response if status is None else (response, status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/j/<key>")
def join(key: str):
    with writing():  # an opening writes (the log, the check-in): SQLite's write lock up front
        found = join_links.find(key, current_app.config["SECRET_KEY"])
        if found is None:
            abort(404)
        now = clock.utcnow()
        opening = join_links.open_link(found, now=now)
        registration = opening.registration
        session, event = registration.session, registration.event
        meeting = session.meeting_url if opening.result == join_links.REDIRECT else None
        db.session.commit()
    if opening.result == join_links.REDIRECT:
        if not meeting:  # the organizer has not set it yet: say so, never a redirect to nowhere
            return _private(render_template("public/join.html", registration=registration, session=session,
                                            event=event, now=now, state="no_meeting", countdown=countdown))
        # No body: werkzeug's redirect() would repeat the URL in an HTML page.
        return _private(Response(status=303, headers={"Location": meeting}))
    status = 200 if opening.result in PAGES else 410
    return _private(render_template("public/join.html", registration=registration, session=session, event=event, now=now,
                                    state=opening.result, materials_url=materials_url(event),
                                    countdown=countdown), status)
