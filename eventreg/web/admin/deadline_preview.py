"""The deadline editor's live answer: the deadline each session would get.

POST /admin/events/<id>/deadline-preview     scope=event: the event's settings form (its deadline parts)
                                             scope=session: a session form (date, start, its own deadline)

Answers an HTML fragment (templates/admin/_deadline_resolved.html) that deadline_editor.js puts
under the editor; nothing is saved. The deadlines come from domain.timing.deadlines, the rule the
seat UPDATE's stored window comes from, so the preview cannot disagree with what saving stores.
"""

from __future__ import annotations

from flask import render_template, request

from ...domain.access.permissions import Capability
from ...domain.backoffice import event_checks
from ...domain.backoffice.event_checks import InvalidValues
from ...domain.timing import deadlines
from ...models import Event, EventSession
from ..access import event_access
from . import bp
from .event_forms import EventForm, SessionForm, deadline_parts, problem_words, session_values


def resolved_for_event(event: Event, form: EventForm) -> dict:
    """The fragment's values for the event form's deadline parts (its problem, or each session's deadline)."""
    try:
        rule = event_checks.clean_deadline(deadline_parts(form), event.timezone)
    except InvalidValues as exc:
        return {"problem": problem_words(exc.problems[0]), "items": [], "tz": event.timezone}
    return {"problem": None, "items": deadlines.resolved(event, rule, event.sessions), "tz": event.timezone}


def resolved_for_session(event: Event, form: SessionForm) -> dict:
    """The fragment's values for one session form: the deadline its date, start and own rule give."""
    try:
        cleaned = event_checks.clean_session(session_values(form), event.timezone)
    except InvalidValues as exc:
        return {"problem": problem_words(exc.problems[0]), "items": [], "tz": event.timezone}
    # A session that is never added to the database: only its times and own deadline are read.
    candidate = EventSession(title=cleaned["title"], starts_at=cleaned["starts_at"],
                             deadline_at=cleaned.get("deadline_at"), deadline_rule=cleaned.get("deadline_rule"))
    own = deadlines.session_rule(candidate) is not None
    return {"problem": None, "items": [(candidate, deadlines.deadline_for(event, candidate), own)], "tz": event.timezone}


@bp.post("/events/<int:event_id>/deadline-preview")
@event_access(Capability.edit_event)
def deadline_preview(event: Event):
    if request.form.get("scope") == "session":
        values = resolved_for_session(event, SessionForm(request.form))
    else:
        values = resolved_for_event(event, EventForm(request.form))
    return render_template("admin/_deadline_resolved.html", **values), 200, {"Cache-Control": "no-store"}
