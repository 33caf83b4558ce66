"""The building-security list (入館者リスト): its settings, what was sent, preview and send now.

GET  /admin/events/<event_id>/security                          settings and, per session, what was sent
POST /admin/events/<event_id>/security                          save the settings
GET  /admin/events/<event_id>/security/<session_id>/preview     the list as it would go now
POST /admin/events/<event_id>/security/<session_id>/send        send the whole list now (confirmed)
GET  /admin/events/<event_id>/security/sends/<send_id>/file     a sent list's file

The worker sends the lists by itself (domain.communication.building_list); these pages never render a file
except the download of a list that was queued and not yet delivered.
"""

from __future__ import annotations

from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from eventreg.domain.backoffice import hybrid_rules
from eventreg.domain.communication import building_list_sheet

from ... import clock
from ...adapters import mail, sheets
from ...domain.access.permissions import Capability
from ...domain.communication import building_list
from ...domain.errors import DomainError
from ...domain.people import text
from ...domain.timing import rules
from ...extensions import db
from ...models import Event, EventSession, SecurityFormat, SecurityListSend, StoredFile
from ..access import event_access
from ..error_words import message
from . import bp

FORMATS = [
    (SecurityFormat.xlsx.value, _l("Excel (XLSX)")),
    (SecurityFormat.csv.value, _l("CSV (UTF-8 with BOM)")),
    (SecurityFormat.csv_cp932.value, _l("CSV (Shift_JIS / CP932, for older Excel)")),
]


def _session_of(event: Event, session_id: int) -> EventSession:
    session = db.session.get(EventSession, session_id)
    # An online session has no visitor list: nobody of it comes into the building.
    if session is None or session.event_id != event.id or not hybrid_rules.on_site(session):
        abort(404)
    return session


def _page(event: Event, values: dict | None = None, errors: dict | None = None, status: int = 200):
    values = values or {
        "email": event.security_email, "columns": building_list_sheet.columns_of(event),
        "format": SecurityFormat(event.security_format).value, "rule": event.security_send_rule or "",
    }
    order = values["columns"] + [c for c in building_list_sheet.COLUMNS if c not in values["columns"]]
    sessions = [{"session": s, "send_time": building_list.send_time(event, s),
                 "history": building_list.history(s.id)} for s in event.sessions
                if hybrid_rules.on_site(s)]
    return render_template("admin/building_list.html", event=event, values=values, errors=errors or {},
                           order=order, names=building_list_sheet.labels(event.language), formats=FORMATS, sessions=sessions,
                           label=building_list_sheet.session_label), status


@bp.get("/events/<int:event_id>/security")
@event_access(Capability.edit_event)
def security_settings(event: Event):
    return _page(event)


def _read_form(form) -> tuple[dict, dict, dict]:
    """(values as typed, clean values, errors by field) of the settings form."""
    chosen = [c for c in building_list_sheet.COLUMNS if form.get(f"col_{c}")]

    def position(c):
        try:
            return (int(form.get(f"order_{c}", "")), building_list_sheet.COLUMNS.index(c))
        except ValueError:
            return (99, building_list_sheet.COLUMNS.index(c))

    chosen.sort(key=position)
    rule_kind = form.get("rule_kind", "deadline")
    typed = {"email": form.get("email", "")[:300], "columns": chosen, "format": form.get("format", ""),
             "rule": form.get("rule", "")[:60] if rule_kind == "rule" else ""}
    clean, errors = {}, {}
    try:
        clean["email"] = text.normalize_email(typed["email"]) if typed["email"].strip() else ""
    except DomainError as exc:
        errors["email"] = message(exc.code)
    try:
        clean["columns"] = building_list_sheet.check_columns(chosen)
    except DomainError as exc:
        errors["columns"] = message(exc.code)
    try:
        clean["format"] = SecurityFormat(typed["format"])
    except ValueError:
        errors["format"] = _("Please choose a file format.")
    try:
        clean["rule"] = rules.parse(typed["rule"]).text() if rule_kind == "rule" else None
    except DomainError as exc:
        errors["rule"] = message(exc.code)
    return typed, clean, errors


@bp.post("/events/<int:event_id>/security")
@event_access(Capability.edit_event)
def save_security_settings(event: Event):
    typed, clean, errors = _read_form(request.form)
    if errors:
        return _page(event, typed, errors, 422)
    building_list.configure(event, email=clean["email"], columns=clean["columns"], fmt=clean["format"],
                            rule=clean["rule"], actor=current_user, now=clock.utcnow())
    db.session.commit()
    flash(_("The building-security list settings were saved."))
    return redirect(url_for("admin.security_settings", event_id=event.id), 303)


@bp.get("/events/<int:event_id>/security/<int:session_id>/preview")
@event_access(Capability.export_personal)
def security_preview(event: Event, session_id: int):
    session = _session_of(event, session_id)
    header, rows = building_list_sheet.preview(session)
    problems = sheets.cp932_problems(header, rows) if event.security_format == SecurityFormat.csv_cp932 else []
    return render_template("admin/building_list_preview.html", event=event, session=session, header=header,
                           rows=rows, problems=problems, last=building_list.last_sent(session.id),
                           label=building_list_sheet.session_label(event, session))


@bp.post("/events/<int:event_id>/security/<int:session_id>/send")
@event_access(Capability.export_personal)
def security_send_now(event: Event, session_id: int):
    session = _session_of(event, session_id)
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm, then send."), "error")
        return redirect(url_for("admin.security_preview", event_id=event.id, session_id=session.id), 303)
    try:
        sent = building_list.send_full(session, trigger=building_list.MANUAL, actor=current_user, now=clock.utcnow())
    except DomainError as exc:
        flash(message(exc.code), "error")
        return redirect(url_for("admin.security_settings", event_id=event.id), 303)
    if sent is None:
        db.session.rollback()
        flash(_("Another list was sent for this session at the same moment. Look at the status, then try again if needed."), "error")
        return redirect(url_for("admin.security_settings", event_id=event.id), 303)
    count, recipient = sent.count, sent.recipient
    db.session.commit()
    flash(_("The list of %(count)s people is queued for %(email)s.", count=count, email=recipient))
    return redirect(url_for("admin.security_settings", event_id=event.id) + f"#session-{session.id}", 303)


def _send_event(kwargs: dict) -> int | None:
    send = db.session.get(SecurityListSend, kwargs.pop("send_id"))
    if send is None or send.event_id != kwargs.pop("event_id"):
        abort(404)
    kwargs["send"] = send
    return send.event_id


@bp.get("/events/<int:event_id>/security/sends/<int:send_id>/file")
@event_access(Capability.export_personal, via=_send_event)
def security_file(event: Event, send: SecurityListSend):
    if send.file_id is not None:  # the file as it was delivered
        stored = db.session.get(StoredFile, send.file_id)
        body, content_type, name = stored.data, stored.content_type, stored.filename
    else:  # queued, not delivered yet: the same file, made from the frozen list
        frozen = building_list.frozen_sheet(send.id, building_list.format_of(send))
        file, _problems = mail.security_list_file(frozen["format"], frozen["header"], frozen["rows"],
                                                  frozen["filename"])
        body, content_type, name = file.data, file.content_type, file.filename
    return send_file(BytesIO(body), mimetype=content_type, as_attachment=True, download_name=name, max_age=0)
