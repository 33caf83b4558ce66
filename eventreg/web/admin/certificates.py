"""Certificates of attendance in the back office.

GET  /admin/events/<event_id>/certificates                    what a certificate says, a preview, the job
GET  /admin/events/<event_id>/certificates/preview.pdf        a preview (SAMPLE across it, a code that
                                                              verifies nothing): a made-up attendee, or
                                                              ?registration_id= one of the event's people
POST /admin/events/<event_id>/certificates                    every attendee's certificate as one PDF: a job
GET, POST /admin/events/<event_id>/certificates/<certificate_id>/withdraw  confirm (with an optional
                                                              reason), then withdraw one certificate
POST /admin/events/<event_id>/registrations/<registration_id>/certificate      issue it (once), then download
GET  /admin/events/<event_id>/registrations/<registration_id>/certificate.pdf  the issued certificate

A certificate names a person: the export_personal capability, as the badges. Previews write
nothing; issuing is a POST (domain.registration.certificates.issue, idempotent). A withdrawn
certificate (domain.registration.certificates.withdraw) is not issued, downloaded or printed again.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ... import clock
from ...domain.access.permissions import Capability
from ...domain.errors import DomainError
from ...domain.registration import certificates
from ...extensions import db
from ...models import Certificate, Event, Job, JobKind, Registration
from .. import certificates as documents
from ..access import event_access
from ..error_words import message
from . import bp
from .event_day import job_state
from .registrations import _registration_event


@bp.app_template_global()
def issued_certificate(registration: Registration) -> dict | None:
    """For the registration page (templates/admin/_certificate_panel.html): its certificate's
    issue time and printed code, or None."""
    row = db.session.execute(select(Certificate.issued_at, Certificate.code, Certificate.revoked_at)
                             .where(Certificate.registration_id == registration.id)).first()
    return {"issued_at": row.issued_at, "code": certificates.formatted(row.code),
            "revoked_at": row.revoked_at} if row else None


def _pdf(body: bytes, filename: str):
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/events/<int:event_id>/certificates")
@event_access(Capability.export_personal)
def certificates_page(event: Event):
    came = db.session.scalar(select(func.count()).select_from(certificates.attendees(event.id).subquery()))
    issued = db.session.scalar(select(func.count()).select_from(Certificate).where(Certificate.event_id == event.id))
    recent = db.session.scalars(select(Job).where(Job.event_id == event.id, Job.kind == JobKind.certificates)
                                .order_by(Job.id.desc()).limit(10)).all()
    issued_list = db.session.scalars(select(Certificate).where(Certificate.event_id == event.id)
                                     .order_by(Certificate.issued_at, Certificate.id)).all()
    return render_template("admin/certificates.html", event=event, came=came, issued=issued, jobs=recent,
                           state=job_state, certificates=issued_list, formatted=certificates.formatted)


def _certificate_event(kwargs: dict) -> int | None:
    """A certificate's pages are its event's; one of another event is a 404."""
    found = db.session.get(Certificate, kwargs.pop("certificate_id"))
    event_id = kwargs.pop("event_id")
    if found is None or found.event_id != event_id:
        abort(404)
    kwargs["certificate"] = found
    return event_id


@bp.route("/events/<int:event_id>/certificates/<int:certificate_id>/withdraw", methods=["GET", "POST"])
@event_access(Capability.export_personal, via=_certificate_event)
def withdraw_certificate(event: Event, certificate: Certificate):
    back = url_for("admin.certificates_page", event_id=event.id)
    reason = request.form.get("reason", "")
    if request.method == "POST" and request.form.get("confirm") == "yes":
        try:
            took = certificates.withdraw(certificate, reason=reason, actor=current_user, now=clock.utcnow())
        except DomainError as exc:
            db.session.rollback()
            return _withdraw_page(event, certificate, reason, message(exc.code, exc.detail), 400)
        db.session.commit()
        if took:
            flash(_("Certificate %(code)s was withdrawn.", code=certificates.formatted(certificate.code)))
        else:
            flash(message("certificate_already_withdrawn"), "error")
        return redirect(back, 303)
    return _withdraw_page(event, certificate, reason, "", 200)


def _withdraw_page(event: Event, certificate: Certificate, reason: str, problem: str, status: int):
    return render_template("admin/certificate_withdraw.html", event=event, certificate=certificate,
                           code=certificates.formatted(certificate.code), reason=reason, problem=problem,
                           max_reason=certificates.MAX_REASON), status


@bp.get("/events/<int:event_id>/certificates/preview.pdf")
@event_access(Capability.export_personal)
def certificate_preview(event: Event):
    person = None
    if request.args.get("registration_id"):
        wanted = request.args.get("registration_id", "")
        person = db.session.get(Registration, int(wanted)) if wanted.isdigit() and len(wanted) < 10 else None
        if person is None or person.event_id != event.id:
            abort(404)
    return _pdf(documents.sample_pdf(event, person, clock.utcnow()), "certificate-sample.pdf")


@bp.post("/events/<int:event_id>/certificates")
@event_access(Capability.export_personal)
def start_certificates(event: Event):
    job_id = certificates.queue_job(event.id, clock.utcnow(), requested_by=current_user.id).id
    db.session.commit()
    return redirect(url_for("admin.job_page", job_id=job_id), 303)


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/certificate")
@event_access(Capability.export_personal, via=_registration_event)
def issue_certificate(event: Event, reg: Registration):
    try:
        certificates.to_hand_out(reg, clock.utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(message(exc.code), "error")
        return redirect(url_for("admin.registration", event_id=event.id, registration_id=reg.id), 303)
    db.session.commit()
    return redirect(url_for("admin.certificate_pdf", event_id=event.id, registration_id=reg.id), 303)


@bp.get("/events/<int:event_id>/registrations/<int:registration_id>/certificate.pdf")
@event_access(Capability.export_personal, via=_registration_event)
def certificate_pdf(event: Event, reg: Registration):
    issued = db.session.scalar(select(Certificate).where(Certificate.registration_id == reg.id))
    if issued is None or issued.revoked_at is not None:  # a withdrawn one is not handed out again
        abort(404)
    return _pdf(documents.certificate_pdf(issued), f"certificate-{certificates.formatted(issued.code)}.pdf")
