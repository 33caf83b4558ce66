"""One registration in the back office: see it, change it, add one by hand.

GET       /admin/events/<event_id>/registrations/<registration_id>          everything about it
GET, POST /admin/events/<event_id>/registrations/<registration_id>/edit     the person and answers
GET, POST /admin/events/<event_id>/registrations/<registration_id>/cancel   confirm, then cancel
POST      /admin/events/<event_id>/registrations/<registration_id>/move     to another session
POST      /admin/events/<event_id>/registrations/<registration_id>/promote  off the waiting list
POST      /admin/events/<event_id>/registrations/<registration_id>/resend   the pass, emailed again
GET, POST /admin/events/<event_id>/registrations/new                        add by hand

Each change is one domain.backoffice.registration_edits call; a refusal is a message on the page and a
rollback, a success a commit, a flash and a redirect (post/redirect/get).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import InputRequired

from ... import clock
from ...adapters import fonts
from ...domain.access.permissions import Capability
from ...domain.backoffice import registration_edits
from ...domain.backoffice.roster import parse_id
from ...domain.communication import attendee_messages, opt_outs
from ...domain.errors import DomainError
from ...domain.people import fields
from ...domain.registration import capacity
from ...domain.registration.signup import Applicant
from ...extensions import db
from ...models import (
    AuditEntry,
    Event,
    EventSession,
    OutboxMessage,
    OutboxStatus,
    QuestionKind,
    Registration,
    Scan,
    Status,
)
from .. import filters
from ..access import event_access
from ..error_words import message
from ..field_words import SECTORS, field_title, sector_names
from ..forms import PageForm, QuestionSpec, _question_field, error_message
from ..status_words import STATUS_WORDS
from . import bp


def _registration_event(kwargs: dict) -> int | None:
    """A registration's pages are its event's; one of another event is a 404."""
    registration = db.session.get(Registration, kwargs.pop("registration_id"))
    event_id = kwargs.pop("event_id")
    if registration is None or registration.event_id != event_id:
        abort(404)
    kwargs["reg"] = registration
    return event_id


class PersonForm(PageForm):
    """The person's fields as the public form has them; domain.people.fields checks them."""

    family_name = StringField(field_title("family_name"), validators=[InputRequired()])
    given_name = StringField(field_title("given_name"), validators=[InputRequired()])
    family_kana = StringField(field_title("family_kana"))  # required for Japanese names: domain.people.fields
    given_kana = StringField(field_title("given_kana"))
    email = StringField(field_title("email"), validators=[InputRequired()])
    organization = StringField(field_title("organization"))
    department = StringField(field_title("department"))
    sector = RadioField(field_title("sector"), choices=SECTORS, validators=[InputRequired()])
    phone = StringField(field_title("phone"))


class AddForm(PersonForm):
    session_id = RadioField(field_title("session"), coerce=int, validators=[InputRequired()])
    send_confirmation = BooleanField(_l("Send the confirmation email (with the pass)"), default=True)
    waitlist = BooleanField(_l("If the session is full, put the person on the waiting list"))
    override_capacity = BooleanField(_l("Add even if the session is full (raises its capacity by one)"))


def _form(cls, event: Event, *, formdata=None, obj=None, data=None):
    """``cls`` with one field per question (hidden ones too, marked, never required)."""
    extra = {}
    for q in event.questions:
        label = f"{q.label} ({_('hidden from the form')})" if q.hidden else q.label
        spec = QuestionSpec(q.id, q.kind, label, q.help, tuple(q.choices), q.required and not q.hidden)
        extra[f"q_{q.id}"] = _question_field(spec)
    form = type(cls.__name__, (cls,), extra)(formdata=formdata, obj=obj, data=data)
    if obj is not None and formdata is None:
        form.sector.data = obj.sector.value  # the radio buttons compare plain strings
        for q in event.questions:
            form[f"q_{q.id}"].data = (obj.answers or {}).get(str(q.id))
        if obj.walk_in:
            form.email.flags.required = False
    return form


def _posted(form, event: Event) -> dict:
    """The person's fields and the answers as typed (domain.backoffice.registration_edits checks them)."""
    values = {name: request.form.get(name, "") for name in fields.PERSON}
    answers = {}
    for q in event.questions:
        key = f"q_{q.id}"
        if q.kind == QuestionKind.multiple:
            answers[str(q.id)] = request.form.getlist(key)
        elif q.kind == QuestionKind.checkbox:
            answers[str(q.id)] = key in request.form
        else:
            answers[str(q.id)] = request.form.get(key, "" if q.kind == QuestionKind.text else None)
    values["answers"] = answers
    return values


def _show_errors(form, exc: DomainError) -> None:
    """Puts each refused field's words on its field (the error summary lists them)."""
    refused = exc.errors if isinstance(exc, fields.InvalidFields) else {"email": exc}
    for name, error in refused.items():
        field_name = f"q_{name.split('.', 1)[1]}" if name.startswith("answers.") else name
        target = form[field_name] if field_name in form else None
        if target is None:
            flash(message(error.code), "error")
            continue
        target.errors = list(target.errors) + [error_message(error)]


def _back(event: Event, reg: Registration):
    return redirect(url_for("admin.registration", event_id=event.id, registration_id=reg.id), 303)


@bp.get("/events/<int:event_id>/registrations/<int:registration_id>")
@event_access(Capability.view, via=_registration_event)
def registration(event: Event, reg: Registration):
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.registration_id == reg.id)
                               .order_by(OutboxMessage.id.desc())).all()
    scans = db.session.scalars(select(Scan).where(Scan.registration_id == reg.id).options(selectinload(Scan.user))
                               .order_by(Scan.at.desc(), Scan.id.desc())).all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.registration_id == reg.id)
                                 .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())).all()
    sessions = capacity.availability(event.id, clock.utcnow())
    subjects = attendee_messages.subjects(m.attendee_message_id for m in mails)  # an organizer's message
    return render_template("admin/registration.html", event=event, r=reg, mails=mails, scans=scans, subjects=subjects,
                           entries=entries, sessions=sessions, labels=_labels(event), words=WORDS, sectors=sector_names(),
                           messages_stopped=opt_outs.stopped(reg),
                           current=next((s for s in sessions if s.id == reg.session_id), None))


@bp.route("/events/<int:event_id>/registrations/<int:registration_id>/edit", methods=["GET", "POST"])
@event_access(Capability.manage_registrations, via=_registration_event)
def edit_registration(event: Event, reg: Registration):
    if request.method == "GET":
        return render_template("admin/registration_form.html", event=event, r=reg, form=_form(PersonForm, event, obj=reg))
    form = _form(PersonForm, event, formdata=request.form)
    try:
        changed = registration_edits.edit(reg, _posted(form, event), actor=current_user, now=clock.utcnow(),
                                     covers=fonts.covers)
    except DomainError as exc:
        db.session.rollback()
        _show_errors(form, exc)
        return render_template("admin/registration_form.html", event=event, r=reg, form=form), 400
    db.session.commit()
    flash(_("Saved: %(n)s changes.", n=len(changed)) if changed else _("Nothing was changed."))
    return _back(event, reg)


@bp.route("/events/<int:event_id>/registrations/<int:registration_id>/cancel", methods=["GET", "POST"])
@event_access(Capability.manage_registrations, via=_registration_event)
def cancel_registration(event: Event, reg: Registration):
    if request.method == "GET":
        return render_template("admin/registration_cancel.html", event=event, r=reg)
    notify = request.form.get("notify") == "y"
    try:
        promoted = registration_edits.cancel(reg, actor=current_user, now=clock.utcnow(), notify=notify)
    except DomainError as exc:
        return _refused(event, reg, exc)
    db.session.commit()
    flash(_("The registration was cancelled.") + " " + (
        _("The attendee will be told by email.") if notify else _("The attendee was not told.")))
    if promoted:
        flash(_("%(n)s people got a seat from the waiting list.", n=len(promoted)))
    return _back(event, reg)


def _refused(event: Event, reg: Registration, exc: DomainError):
    db.session.rollback()
    flash(message(exc.code), "error")
    return _back(event, reg)


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/move")
@event_access(Capability.manage_registrations, via=_registration_event)
def move_registration(event: Event, reg: Registration):
    target = db.session.get(EventSession, parse_id(request.form.get("session_id")) or 0)
    if target is None or target.event_id != event.id:
        return _refused(event, reg, DomainError("invalid_request"))
    return _act(event, reg, registration_edits.move, _(
        "Moved to %(session)s. The attendee will get the new pass by email; the old one no longer works.",
        session=filters.session_name(target, event.timezone)), target)


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/promote")
@event_access(Capability.manage_registrations, via=_registration_event)
def promote_registration(event: Event, reg: Registration):
    return _act(event, reg, registration_edits.promote,
                _("Confirmed from the waiting list. The attendee will get the pass by email."))


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/resend")
@event_access(Capability.manage_registrations, via=_registration_event)
def resend_pass(event: Event, reg: Registration):
    return _act(event, reg, registration_edits.resend_pass, _("The pass will be emailed again."))


def _act(event: Event, reg: Registration, action, done: str, *args):
    """One staff action: refused -> rollback and the reason; done -> commit and ``done``."""
    try:
        action(reg, *args, actor=current_user, now=clock.utcnow())
    except DomainError as exc:
        return _refused(event, reg, exc)
    db.session.commit()
    flash(done)
    return _back(event, reg)


@bp.route("/events/<int:event_id>/registrations/new", methods=["GET", "POST"])
@event_access(Capability.manage_registrations)
def new_registration(event: Event):
    sessions = capacity.availability(event.id, clock.utcnow())
    form = _form(AddForm, event, formdata=request.form if request.method == "POST" else None)
    form.session_id.choices = [(s.id, _session_choice(s, event)) for s in sessions]
    if len(sessions) == 1 and form.session_id.data is None:
        form.session_id.data = sessions[0].id
    if request.method == "GET":
        return render_template("admin/registration_form.html", event=event, r=None, form=form)
    session = next((s for s in event.sessions if s.id == request.form.get("session_id", type=int)), None)
    try:
        reg = _add(event, form, session)
    except DomainError as exc:
        db.session.rollback()
        if exc.code == "session_full":
            form.session_id.errors = [message("session_full_staff")]
        else:
            _show_errors(form, exc)
        return render_template("admin/registration_form.html", event=event, r=None, form=form), 400
    db.session.commit()
    flash(_("Added.") + ("" if form.send_confirmation.data else " " + _("No confirmation email was sent.")))
    return _back(event, reg)


def _add(event: Event, form, session: EventSession | None) -> Registration:
    values, person, errors = _posted(form, event), {}, {}
    try:  # every refusal at once (add_by_hand stops at the first group)
        person = fields.clean_person(values, covers=fonts.covers)
    except fields.InvalidFields as exc:
        errors.update(exc.errors)
    try:
        fields.clean_answers(event.questions, values["answers"], complete=True)
    except fields.InvalidFields as exc:
        errors.update(exc.errors)
    if session is None:
        errors["session_id"] = DomainError("choose_session")
    if errors:
        raise fields.InvalidFields(errors)
    applicant = Applicant(**person, answers=values["answers"], language=event.language)
    return registration_edits.add_by_hand(
        session, applicant, actor=current_user, now=clock.utcnow(), covers=fonts.covers,
        override_capacity=form.override_capacity.data, send_confirmation=form.send_confirmation.data,
        waitlist=form.waitlist.data)


def _session_choice(s, event: Event) -> str:
    return _("%(title)s — %(taken)s of %(capacity)s seats taken", title=filters.session_name(s, event.timezone), taken=s.seats_taken,
             capacity=s.capacity)


def _labels(event: Event) -> dict:
    """What each audited field is called on the page (answers by their question)."""
    labels = {name: str(getattr(PersonForm, name).args[0]) for name in fields.PERSON}
    labels.update({f"answers.{q.id}": q.label for q in event.questions})
    labels.update({str(key): str(value) for key, value in WORDS["fields"].items()})
    return labels


WORDS = {
    "actions": {
        "registration_edited": _l("Edited"), "registration_added": _l("Added by hand"),
        "cancelled_by_staff": _l("Cancelled by staff"), "moved": _l("Moved to another session"),
        "promoted": _l("Confirmed from the waiting list"), "pass_resent": _l("Pass emailed again"),
        "capacity_override": _l("Added above capacity"),
        "email_confirmed": _l("Email address confirmed"), "hold_expired": _l("Not confirmed in time: cancelled"),
        "messages_stopped": _l("Stopped the organizer's messages (unsubscribe link)"),
        "followup_survey_resent": _l("Survey invitation emailed again"),
        "followup_noshow_resent": _l("Note for people who did not come emailed again"),
        "followup_certificate_resent": _l("Certificate of attendance emailed again"),
        "certificate_withdrawn": _l("Certificate of attendance withdrawn"),
    },
    "mails": {
        "confirmation": _l("Confirmation"), "waitlisted": _l("Waiting list"), "promoted": _l("Seat offered from the waiting list"),
        "cancelled": _l("Cancellation"), "pass_resent": _l("Pass sent again"), "session_changed": _l("Session changed"),
        "message": _l("Message from the organizer"), "reminder": _l("Reminder"),
        "confirm_email": _l("Please confirm your email"), "hold_expired": _l("Not confirmed in time"),
        "followup_survey": _l("Survey invitation"), "followup_noshow": _l("Note after the event (did not come)"),
        "followup_certificate": _l("Certificate of attendance"),
    },
    "mail_status": {s.value: words for s, words in STATUS_WORDS[OutboxStatus].items()},
    "status": {s.value: words for s, words in STATUS_WORDS[Status].items()},
    "fields": {
        "status": _l("Status"), "session_id": _l("Session"), "entry_version": _l("Pass version"),
        "checked_in_at": _l("Checked in"), "capacity": _l("Capacity"), "seats_taken": _l("Seats taken"),
    },
}
