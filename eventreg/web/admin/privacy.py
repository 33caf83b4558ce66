"""Privacy (個人情報): the retention period, the privacy notice, the purge; one person's request.

GET, POST /admin/events/<event_id>/privacy                                        settings, purge status, dry run
GET       /admin/events/<event_id>/registrations/<registration_id>/personal-data  this person's data as JSON
GET, POST /admin/events/<event_id>/registrations/<registration_id>/delete-person  confirm, then delete

The work is domain.privacy.retention's; these views load, check access, call it, commit and answer.
"""

from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ... import clock
from ...domain.access import accounts
from ...domain.access.permissions import Capability
from ...domain.backoffice import audit
from ...domain.errors import DomainError
from ...domain.privacy import person_requests, retention
from ...extensions import db
from ...models import Event, Registration
from ..access import event_access
from ..status_words import registration_words
from . import bp
from .registrations import _registration_event

MAX_NOTICE = 5000

# What the purge counts (domain.privacy.retention.purge's keys, table names) in people's words;
# tests/web/test_backoffice_words.py checks that every key has them.
PURGE_WORDS = {
    "registration": _l("Registrations"), "scan": _l("Check-in scans"),
    "security_list_send": _l("Building-security lists sent"), "stored_file": _l("Stored files"),
    "job": _l("Background jobs"), "outbox_message": _l("Emails"), "invitation": _l("Staff invitations"),
    "audit_entry": _l("Change history entries"), "attendee_message": _l("Messages to attendees"),
    "survey_answer": _l("Free-text survey answers (the scores stay)"),
}


def default_notice(event: Event) -> str:
    """A suggestion for the privacy notice, naming the organizer and the retention period."""
    return _("The personal data you enter (name, furigana, email, organization and answers) is used by "
             "%(organizer)s only to run this event: to confirm your registration, to contact you about it and "
             "for reception on the day. It is not given to anyone else, except the list of attendees that "
             "the venue's building security needs. It is deleted %(days)s days after the event; only "
             "anonymous counts are kept.", organizer=event.organizer or _("the organizer"), days=event.retention_days)


@bp.route("/events/<int:event_id>/privacy", methods=["GET", "POST"])
@event_access(Capability.edit_event)
def privacy(event: Event):
    errors, values = {}, {"retention_days": str(event.retention_days), "privacy_notice": event.privacy_notice}
    if request.method == "POST" and event.purged_at is None:
        values = {"retention_days": request.form.get("retention_days", ""),
                  "privacy_notice": request.form.get("privacy_notice", "").replace("\r\n", "\n").strip()}
        try:
            days = retention.check_days(values["retention_days"])
        except DomainError:
            errors["retention_days"] = _("Enter a whole number of days from %(low)s to %(high)s.",
                                         low=retention.MIN_DAYS, high=retention.MAX_DAYS)
        if len(values["privacy_notice"]) > MAX_NOTICE:
            errors["privacy_notice"] = _("At most %(n)s characters.", n=MAX_NOTICE)
        if not errors:
            changed = audit.changes({"retention_days": event.retention_days, "privacy_notice": event.privacy_notice},
                                    {"retention_days": days, "privacy_notice": values["privacy_notice"]})
            event.retention_days, event.privacy_notice = days, values["privacy_notice"]
            if changed:
                audit.record(event.id, "privacy_settings", actor=current_user, now=clock.utcnow(), changed=changed)
            db.session.commit()
            flash(_("Saved."))
            return redirect(url_for("admin.privacy", event_id=event.id), 303)
    preview = None if event.purged_at else retention.purge(event.id, clock.utcnow(), dry_run=True)
    db.session.rollback()
    return render_template("admin/privacy.html", event=event, values=values, errors=errors, preview=preview,
                           purge_at=retention.purge_at(event), suggestion=default_notice(event),
                           purge_words=PURGE_WORDS), 400 if errors else 200


def _allowed(capability: Capability) -> set[int]:
    """The events the signed-in user may answer a person's request for."""
    return {eid for eid in current_user.event_ids if accounts.can(current_user, eid, capability)}


@bp.get("/events/<int:event_id>/registrations/<int:registration_id>/personal-data")
@event_access(Capability.export_personal, via=_registration_event)
def person_export(event: Event, reg: Registration):
    if not reg.email:
        abort(404)
    data = person_requests.export_person(reg.email, event_ids=_allowed(Capability.export_personal))
    audit.record(event.id, "personal_data_exported", actor=current_user, now=clock.utcnow(),
                 registration_id=reg.id, note="one_person_json")
    db.session.commit()
    response = _json(data)
    response.headers["Content-Disposition"] = f"attachment; filename=personal-data-{reg.id}.json"
    return response


def _json(data):
    return Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json",
                    headers={"Cache-Control": "no-store"})


@bp.route("/events/<int:event_id>/registrations/<int:registration_id>/delete-person", methods=["GET", "POST"])
@event_access(Capability.manage_registrations, via=_registration_event)
def person_delete(event: Event, reg: Registration):
    if not reg.email or reg.anonymised_at:
        abort(404)
    if request.method == "GET":
        found = person_requests.export_person(reg.email, event_ids=_allowed(Capability.manage_registrations))["registrations"]
        return render_template("admin/person_delete.html", event=event, r=reg, found=found,
                               states=registration_words())
    counts = person_requests.delete_person(reg.email, clock.utcnow(), actor=current_user,
                                    event_ids=_allowed(Capability.manage_registrations))
    db.session.commit()
    flash(_("The personal data was deleted (%(n)s registrations).", n=counts["registration"]))
    return redirect(url_for("admin.registration", event_id=event.id, registration_id=reg.id), 303)
