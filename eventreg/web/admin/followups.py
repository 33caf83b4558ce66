"""After the event (開催後): the post-event loop's rule, its three parts, previews, what was sent.

GET  /admin/events/<event_id>/followups                          the rule, resolved per session; parts; n/N sent
POST /admin/events/<event_id>/followups                          save the rule, the parts, the no-show text, materials link
POST /admin/events/<event_id>/followups/<session_id>/send        after the end: send what has not gone yet
GET  /admin/events/<event_id>/followups/preview/<part>           one part's email as a person would get it (no secrets)
POST /admin/events/<event_id>/registrations/<registration_id>/followups/<part>/resend   one more copy to one person

The worker sends the loop by itself (domain.communication.followups, domain.timing.periodic).
Organizers only: the page and previews need edit_event, a resend manage_registrations.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ... import clock
from ...adapters import mail
from ...domain.access.permissions import Capability
from ...domain.backoffice.roster import parse_id
from ...domain.communication import followups, outbox
from ...domain.errors import DomainError
from ...domain.registration import passes
from ...domain.timing import schedule
from ...extensions import db
from ...models import Event, EventSession, Registration
from .. import followup_values
from ..access import event_access
from ..error_words import message
from ..links import masked_links
from ..rule_words import rule_words
from . import bp

PART_NAMES = {"survey": _l("Survey invitation to those who came"),
              "noshow": _l("Note to confirmed people who did not come"),
              "certificate": _l("Certificate of attendance to those who came")}
PART_ROUTE = "<any(survey, noshow, certificate):part>"
_FIELD = {"followup_rule": "rule", "materials_url": "materials_url", "noshow_text_too_long": "noshow_text"}


def _values(event: Event) -> dict:
    return {"rule": event.followup_rule or schedule.FOLLOWUP_DEFAULT, "noshow_text": event.noshow_text,
            "materials_url": event.materials_url,
            **{part: followups.enabled(event, part) for part in followups.PARTS}}


def _page(event: Event, values: dict | None = None, errors: dict | None = None, status: int = 200):
    return render_template("admin/followups.html", event=event, loops=followups.overview(event), now=clock.utcnow(),
                           rule=schedule.followup_rule(event), words=lambda rule: rule_words(rule, event.timezone),
                           values=values or _values(event), errors=errors or {}, part_names=PART_NAMES,
                           survey_ready=followups.survey_ready(event)), status


@bp.get("/events/<int:event_id>/followups")
@event_access(Capability.edit_event)
def followups_page(event: Event):
    return _page(event)


@bp.post("/events/<int:event_id>/followups")
@event_access(Capability.edit_event)
def followups_save(event: Event):
    form = request.form
    values = {"rule": form.get("rule", "")[:60], "noshow_text": form.get("noshow_text", "")[:followups.MAX_NOSHOW_TEXT + 1],
              "materials_url": form.get("materials_url", "")[:followups.MAX_URL + 1],
              **{part: form.get(part) == "y" for part in followups.PARTS}}
    try:
        changed = followups.update(event, rule=values["rule"], parts=values, noshow_text=values["noshow_text"],
                                   materials_url=values["materials_url"], actor=current_user, now=clock.utcnow())
    except DomainError as exc:
        db.session.rollback()
        return _page(event, values, {_FIELD.get(exc.code, "rule"): message(exc.code, exc.detail)}, 422)
    db.session.commit()
    flash(_("Saved.") if changed else _("Nothing was changed."))
    return redirect(url_for("admin.followups_page", event_id=event.id), 303)


@bp.post("/events/<int:event_id>/followups/<int:session_id>/send")
@event_access(Capability.edit_event)
def followups_send(event: Event, session_id: int):
    session = db.session.get(EventSession, session_id)
    if session is None or session.event_id != event.id:
        abort(404)
    try:
        added = followups.send_missing(event, session, actor=current_user, now=clock.utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(message(exc.code, exc.detail), "error")
    else:
        db.session.commit()
        flash(_("%(count)s emails queued.", count=added) if added else _("Everyone has had what is on: nothing to send."))
    return redirect(url_for("admin.followups_page", event_id=event.id), 303)


@bp.get(f"/events/<int:event_id>/followups/preview/{PART_ROUTE}")
@event_access(Capability.edit_event)
def followup_preview(event: Event, part: str):
    asked = request.args.get("registration", "")
    wanted = parse_id(asked)
    registration = followups.preview_registration(event, part, wanted) if wanted or not asked else None
    shown = {"event": event, "part": part, "part_name": PART_NAMES[part], "registration": registration, "asked": asked}
    if registration is None:
        return render_template("admin/followup_preview.html", **shown), (404 if asked else 200)
    ctx = passes.pass_context(registration, masked_links(registration))
    lang = outbox.language(ctx["language"])
    ctx.update(followup_values.values(registration, followups.KINDS[part].value, ctx, lang=lang, preview=True))
    try:
        built = mail.build_message(kind=followups.KINDS[part].value, lang=lang, values=ctx,
                                   to=(registration.full_name, registration.email or "nobody@invalid"),
                                   message_id_left="preview", date=clock.utcnow())
    except ValueError:  # an address that is not one (a hand-made walk-in): nothing goes there
        built = None
    return render_template("admin/followup_preview.html", **shown, subject=built.message["Subject"] if built else "",
                           body=built.message.get_body(("plain",)).get_content() if built else "",
                           goes=registration.id in followups.recipients(event, registration.session_id, part),
                           sample=_sample_certificate(event, registration) if part == "certificate" else None)


def _sample_certificate(event: Event, registration: Registration) -> str:
    """The certificate's own preview (the Certificates tab's: marked SAMPLE, issues nothing)."""
    return url_for("admin.certificate_preview", event_id=event.id, registration_id=registration.id)


def _registration_event(kwargs: dict) -> int | None:
    """A registration's actions are its event's; one of another event is a 404."""
    registration = db.session.get(Registration, kwargs.pop("registration_id"))
    if registration is None or registration.event_id != kwargs["event_id"]:
        abort(404)
    kwargs["reg"] = registration
    return kwargs.pop("event_id")


@bp.post(f"/events/<int:event_id>/registrations/<int:registration_id>/followups/{PART_ROUTE}/resend")
@event_access(Capability.manage_registrations, via=_registration_event)
def followup_resend(event: Event, reg: Registration, part: str):
    try:
        followups.resend(reg, part, actor=current_user, now=clock.utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(message(exc.code, exc.detail), "error")
    else:
        db.session.commit()
        flash(_("%(part)s: one more copy will be emailed to this person.", part=PART_NAMES[part]))
    return redirect(url_for("admin.registration", event_id=event.id, registration_id=reg.id), 303)
