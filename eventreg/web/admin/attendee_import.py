"""Importing attendees from a spreadsheet (CSV or XLSX; Peatix's and connpass's exports too).

GET  /admin/events/<event_id>/import            the upload form
POST /admin/events/<event_id>/import            the file, kept on the server -> its preview
GET  /admin/events/<event_id>/import/preview    ?upload=<key>&col=…&session=…: what each row would become
POST /admin/events/<event_id>/import/commit     the same choices: the import, and what it did

Reading is adapters.spreadsheet_read; every rule (mapping, checks, duplicates, seats, audit) is
domain.backoffice.attendee_import. The preview changes nothing; the commit does exactly what
the preview showed with the choices it showed (the file is read again from the server).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ... import clock
from ...adapters import fonts, spreadsheet_read
from ...domain.access.permissions import Capability
from ...domain.backoffice import attendee_import, attendee_import_uploads
from ...domain.backoffice.attendee_import_layouts import IGNORE, TARGETS, guess, layout
from ...domain.errors import DomainError
from ...extensions import db
from ...models import Event, Sector
from .. import filters
from ..access import event_access
from ..field_words import field_title, sector_names
from ..forms import error_message
from . import bp

PREVIEW_ROWS = 10  # the first rows shown as they will be imported

UNREADABLE = {
    "empty": _l("The file is empty."),
    "encoding": _l("The file could not be read as text: save it as CSV UTF-8 (or Shift_JIS), or as an Excel workbook (.xlsx)."),
    "binary": _l("This is not a spreadsheet: save it as CSV or as an Excel workbook (.xlsx)."),
    "damaged": _l("The Excel workbook could not be opened: it may be damaged or protected. Save it again as .xlsx, or as CSV."),
    "too_many_rows": _l("The file has more than %(max)s rows: split it into several files."),
    "too_many_columns": _l("The file has more than %(max)s columns."),
    "cell_too_long": _l("A cell of the file holds more than %(max)s characters."),
    "no_rows": _l("The file has a header but nobody under it."),
}
# What the import itself says about a row (the form's own checks have their words in error_words).
ROW_WORDS = {
    "name_not_split": _l("Put a space between the family name and the given name (e.g. 山田 太郎)."),
    "unknown_sector": _l("“%(value)s” is none of the sectors."),
    "unknown_session": _l("No session of this event is called “%(value)s”."),
    "no_seat_left": _l("No seat left in this session (allow going above the capacity to import this row)."),
    "cancelled_in_source": _l("Cancelled in the file (%(value)s): not imported."),
    "waiting_in_source": _l("Waiting list in the file (%(value)s): not imported."),
}
TARGET_WORDS = {
    IGNORE: _l("(ignore this column)"),
    "full_name": _l("Name, family and given (split at the space)"),
    "full_kana": _l("Furigana, family and given (split at the space)"),
    "status": _l("Status in the file (cancelled and waiting rows are skipped)"),
}


def _target_title(target: str, event: Event) -> str:
    if target.startswith("q:"):
        label = next((q.label for q in event.questions if f"q:{q.id}" == target), target)
        return _("Question: %(label)s", label=label)
    if target in TARGET_WORDS:
        return str(TARGET_WORDS[target])
    return str(field_title(target))


def problem_words(problem: attendee_import.Problem) -> str:
    if problem.code in ROW_WORDS:
        return str(ROW_WORDS[problem.code]) % {"value": problem.detail}
    return error_message(DomainError(problem.code, problem.detail))


@bp.route("/events/<int:event_id>/import", methods=["GET", "POST"])
@event_access(Capability.manage_registrations)
def attendees_import(event: Event):
    if request.method == "GET":
        return render_template("admin/import.html", event=event, error=None)
    upload = request.files.get("file")
    data = upload.read() if upload is not None else b""
    try:
        spreadsheet_read.read(data)
    except spreadsheet_read.Unreadable as exc:
        error = str(UNREADABLE[exc.code]) % {"max": exc.detail}
        return render_template("admin/import.html", event=event, error=error), 400
    key = attendee_import_uploads.keep(event.id, upload.filename or "", data, clock.utcnow())
    db.session.commit()
    return redirect(url_for("admin.attendees_import_preview", event_id=event.id, upload=key), 303)


def _loaded(event: Event, values):
    """The kept upload named in ``values`` and its table; None when it is gone."""
    stored = attendee_import_uploads.find(event.id, values.get("upload"), clock.utcnow())
    if stored is None:
        return None, None
    try:
        return stored, spreadsheet_read.read(stored.data)
    except spreadsheet_read.Unreadable:  # read once already; a changed reader may refuse it now
        return None, None


def _options(event: Event, table, values) -> attendee_import.Options:
    """The organizer's choices from ``values`` (the query or the form), or the first guesses."""
    mapping = values.getlist("col") or guess(table.headers, [(q.id, q.label) for q in event.questions])
    session_id = values.get("session", type=int) or (event.sessions[0].id if event.sessions else 0)  # none: a 400
    sector = values.get("sector", Sector.other.value)
    return attendee_import.Options(
        mapping=list(mapping), session_id=session_id, sector=sector, merge=values.get("duplicates") == "merge",
        over_capacity=values.get("over") == "1", send_mail=values.get("mail") == "1")


def _gone(event: Event):
    flash(_("The uploaded file is no longer kept (it is kept for two hours, until it is imported). Please upload it again."),
          "error")
    return redirect(url_for("admin.attendees_import", event_id=event.id), 303)


@bp.get("/events/<int:event_id>/import/preview")
@event_access(Capability.manage_registrations)
def attendees_import_preview(event: Event):
    return _with_upload(event, request.args, "admin/import_preview.html",
                        lambda table, options, stored: attendee_import.plan(event, table.rows, options, covers=fonts.covers))


@bp.post("/events/<int:event_id>/import/commit")
@event_access(Capability.manage_registrations)
def attendees_import_commit(event: Event):
    def run(table, options, stored):
        result = attendee_import.run(event, table.rows, options, actor=current_user, now=clock.utcnow(),
                                     filename=attendee_import_uploads.original_name(stored), covers=fonts.covers)
        attendee_import_uploads.forget(stored)
        db.session.commit()
        return result

    return _with_upload(event, request.form, "admin/import_done.html", run)


def _with_upload(event: Event, values, template: str, action):
    """The kept upload and the choices in ``values``, given to ``action``; its plan shown with
    ``template``. Choices that are not the page's (a field that does not exist …) are a 400."""
    stored, table = _loaded(event, values)
    if stored is None:
        return _gone(event)
    options = _options(event, table, values)
    try:
        plan = action(table, options, stored)
    except DomainError:
        db.session.rollback()
        abort(400)
    return render_template(template, **_page(event, stored, table, options, plan))


def _page(event: Event, stored, table, options, plan) -> dict:
    targets = [IGNORE, *TARGETS, *(f"q:{q.id}" for q in event.questions)]
    samples = [next((row[i] for row in table.rows if row[i].strip()), "") for i in range(len(table.headers))]
    return dict(
        event=event, upload=attendee_import_uploads.upload_key(stored),
        filename=attendee_import_uploads.original_name(stored), table=table, layout=layout(table.headers),
        options=options, plan=plan, columns=list(zip(table.headers, samples, options.mapping, strict=True)),
        targets=[(t, _target_title(t, event)) for t in targets], sectors=sector_names(),
        sessions={s.id: filters.session_name(s, event.timezone) for s in event.sessions},
        first=[r for r in plan.rows if r.action in ("create", "merge")][:PREVIEW_ROWS],
        refused=[r for r in plan.rows if r.action not in ("create", "merge")],
        field_title=lambda name: _target_title(name, event), problem_words=problem_words,
    )
