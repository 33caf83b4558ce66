"""Reminders (リマインダー): an event's reminder rules, what each sent per session, a preview.

GET  /admin/events/<event_id>/reminders                      the rules and, per session, send time and state
POST /admin/events/<event_id>/reminders                      add a rule ("N days before at HH:MM" / "N hours before")
POST /admin/events/<event_id>/reminders/<rule_id>/delete     remove a rule (and its pending tasks)
GET  /admin/events/<event_id>/reminders/preview              the email as one real registration would get it

The worker sends the reminders by itself (domain.communication.reminders, domain.timing.periodic).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ... import clock
from ...adapters import mail
from ...domain.access.permissions import Capability
from ...domain.backoffice.roster import parse_id
from ...domain.communication import outbox, reminders
from ...domain.errors import DomainError
from ...domain.registration import passes
from ...domain.timing.rules import parse
from ...extensions import db
from ...models import Event, Status
from ..access import event_access
from ..error_words import message
from ..links import masked_links
from ..rule_words import rule_words
from . import bp

# Which field of the form a refusal belongs to.
_FIELD = {"reminder_days": "days", "reminder_time": "at", "reminder_hours": "hours"}


def _page(event: Event, values: dict | None = None, errors: dict | None = None, status: int = 200):
    values = values or {"kind": "days", "days": "1", "at": "10:00", "hours": "2"}
    return render_template("admin/reminders.html", event=event, rules=reminders.overview(event),
                           words=lambda rule: rule_words(rule, event.timezone), values=values, errors=errors or {},
                           max_rules=reminders.MAX_RULES), status


@bp.get("/events/<int:event_id>/reminders")
@event_access(Capability.view)
def reminders_page(event: Event):
    return _page(event)


@bp.post("/events/<int:event_id>/reminders")
@event_access(Capability.edit_event)
def reminder_add(event: Event):
    form = request.form
    values = {name: form.get(name, "")[:10] for name in ("kind", "days", "at", "hours")}
    try:
        text = reminders.rule_from_parts(values["kind"], days=values["days"], at=values["at"], hours=values["hours"])
        reminders.add(event, text, actor=current_user, now=clock.utcnow())
    except DomainError as exc:
        db.session.rollback()
        return _page(event, values, {_FIELD.get(exc.code, "kind"): message(exc.code)}, 422)
    db.session.commit()
    flash(_("The reminder was added: %(rule)s.", rule=rule_words(parse(text), event.timezone)))
    return redirect(url_for("admin.reminders_page", event_id=event.id), 303)


@bp.post("/events/<int:event_id>/reminders/<int:rule_id>/delete")
@event_access(Capability.edit_event)
def reminder_delete(event: Event, rule_id: int):
    try:
        text = reminders.remove(event, rule_id, actor=current_user, now=clock.utcnow())
    except DomainError:  # reminder_not_found: no rule of this event has this id (now), as a wrong URL
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash(_("The reminder %(rule)s was removed; what it sent stays in the history.",
            rule=rule_words(parse(text), event.timezone)))
    return redirect(url_for("admin.reminders_page", event_id=event.id), 303)


@bp.get("/events/<int:event_id>/reminders/preview")
@event_access(Capability.view)
def reminder_preview(event: Event):
    asked = request.args.get("registration", "")
    wanted = parse_id(asked)  # None for "", and for what no row can be (20 digits, 0, -1)
    registration = reminders.preview_registration(event, wanted) if wanted or not asked else None
    if registration is None:
        return render_template("admin/reminder_preview.html", event=event, registration=None, asked=asked), (
            404 if asked else 200)
    ctx = passes.pass_context(registration, masked_links(registration))
    lang = outbox.language(registration.language, event.language)
    try:
        built = mail.build_message(kind="reminder", lang=lang, values=ctx, to=(registration.full_name,
                                   registration.email or "nobody@invalid"), message_id_left="preview",
                                   date=clock.utcnow())
    except ValueError:  # an address that is not one (a hand-made walk-in): no reminder goes there
        built = None
    body = built.message.get_body(("plain",)).get_content() if built else ""
    return render_template("admin/reminder_preview.html", event=event, registration=registration,
                           subject=built.message["Subject"] if built else "", body=body,
                           attached=registration.status == Status.confirmed, asked=asked)
