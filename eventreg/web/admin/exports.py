"""Exports: the attendee data as CSV (UTF-8 with BOM, or CP932) and XLSX, and the reception list.

GET  /admin/events/<event_id>/exports                        choose the columns and the format
GET  /admin/events/<event_id>/exports/<which>.<fmt>          a file with personal data
                                                               (which: attendees, arrivals, reception;
                                                                fmt: csv, cp932.csv, xlsx)
GET  /admin/events/<event_id>/exports/summary.<fmt>          counts only, no names (viewers too)
POST /admin/events/<event_id>/reception-list                 queue the 受付名簿 PDF -> its job page

The attendee list's filter comes along in the query string (domain.backoffice.roster.ListFilter), so an
export holds exactly the people the organizer was looking at. A CP932 download whose data has
characters Windows-31J cannot carry answers with the report of them (row, column, character)
instead of a file, and offers UTF-8 and XLSX: nothing is ever replaced silently.
"""

from __future__ import annotations

from io import BytesIO
from zoneinfo import ZoneInfo

from flask import redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ... import clock
from ...adapters import sheets
from ...domain.access.permissions import Capability
from ...domain.backoffice import audit, exports, jobs, roster
from ...extensions import db
from ...models import AttendanceMode, Event, Job, JobKind
from ..access import event_access
from ..count_words import COUNT_WORDS
from ..field_words import field_titles, page_language, sector_names
from ..status_words import STATUS_WORDS, registration_words
from . import bp

FORMATS = {
    "csv": ("csv", "text/csv; charset=utf-8"),
    "cp932.csv": ("csv", "text/csv; charset=windows-31j"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
REPORT_LIMIT = 500  # problem characters listed on the page; the count is always complete

# The columns that are not a person's field (those: domain.people.field_words, like every page).
COLUMN_TITLES = {
    "id": _l("ID"), "status": _l("Status"), "walk_in": _l("Walk-in"), "created_at": _l("Signed up at"),
    "cancelled_at": _l("Cancelled at"), "checked_in_at": _l("Checked in at"), "checked_in_desk": _l("Desk"),
    "kana_row": _l("Kana row"), "mode": _l("On site or online"),
}
SET_TITLES = {
    "attendees": _l("Attendees: everything, with every question's answers"),
    "arrivals": _l("Arrivals: who came, by sector (for the funder's report)"),
    "reception": _l("Reception list: confirmed people in 五十音 order"),
    "summary": _l("Summary: counts by session, sector and status (no names)"),
}


def export_labels() -> dict[str, str]:
    """The header texts and code labels of domain.backoffice.exports in the current language."""
    labels = {f"column.{key}": str(title) for key, title in COLUMN_TITLES.items()}
    labels |= {f"column.{key}": title for key, title in field_titles().items()}
    labels |= {f"sector.{code}": name for code, name in sector_names().items()}
    labels |= {f"status.{code}": words for code, words in registration_words().items()}
    labels |= {f"mode.{mode.value}": str(words) for mode, words in STATUS_WORDS[AttendanceMode].items()}
    labels |= {f"count.{name}": str(words) for name, words in COUNT_WORDS.items()}  # the summary's
    labels |= {"yes": _("Yes"), "no": "", "total": _("Total"), "language": page_language()}
    return labels


def _filter() -> roster.ListFilter:
    return roster.ListFilter.from_args(request.args)


@bp.get("/events/<int:event_id>/exports")
@event_access(Capability.view)
def exports_page(event: Event):
    flt = _filter()
    now = clock.utcnow()
    return render_template(
        "admin/exports.html", event=event, flt=flt, args=flt.as_args(), sets=SET_TITLES,
        personal=exports.PERSONAL_SETS, matching=roster.count(event, flt, now=now),
        everyone=roster.count(event, roster.ListFilter(), now=now),
        recent=db.session.scalars(
            select(Job).where(Job.event_id == event.id, Job.kind == JobKind.reception_list)
            .order_by(Job.id.desc()).limit(5)).all(),
    )


@bp.get("/events/<int:event_id>/exports/<any(attendees,arrivals,reception):which>.<any(csv,'cp932.csv',xlsx):fmt>")
@event_access(Capability.export_personal)
def export_people(event: Event, which: str, fmt: str):
    return _download(event, which, fmt)


@bp.get("/events/<int:event_id>/exports/summary.<any(csv,'cp932.csv',xlsx):fmt>")
@event_access(Capability.view)
def export_summary(event: Event, fmt: str):
    return _download(event, "summary", fmt)


class Unmappable(Exception):
    """A CP932 file was asked for, but the data has characters Windows-31J lacks."""

    def __init__(self, problems: list):
        super().__init__("cp932_unmappable")
        self.problems = problems


def export_response(event: Event, which: str, fmt: str, flt: roster.ListFilter, *, actor, now, api: bool = False):
    """One export as a download (the back office and the API): the people ``flt`` selects, in
    ``fmt``; raises Unmappable instead of replacing a character. A personal-data export writes
    an audit entry (``api``: downloaded through the API)."""
    header, body = exports.export(event, which, flt, now=now, labels=export_labels())
    extension, mimetype = FORMATS[fmt]
    if fmt == "cp932.csv":
        problems = sheets.cp932_problems(header, body)
        if problems:
            raise Unmappable(problems)
        data = sheets.csv_bytes(header, body, encoding="cp932")
    elif fmt == "csv":
        data = sheets.csv_bytes(header, body)
    else:
        data = sheets.xlsx_bytes(header, body, sheet=str(SET_TITLES[which]).split(":")[0])
    if which in exports.PERSONAL_SETS:
        audit.record(event.id, "personal_data_exported", actor=actor, now=now,
                     note="export_by_api" if api else "export",
                     params={"set": which, "format": fmt, "people": len(body), "filter": flt.as_args()})
        db.session.commit()
    day = now.astimezone(ZoneInfo(event.timezone)).strftime("%Y%m%d")
    name = f"event-{event.id}-{which}-{day}{'-cp932' if fmt == 'cp932.csv' else ''}.{extension}"
    response = send_file(BytesIO(data), mimetype=mimetype.split(";")[0], as_attachment=True,
                         download_name=name, max_age=0)
    response.headers["Content-Type"] = mimetype
    response.headers["Cache-Control"] = "no-store"
    return response


def _download(event: Event, which: str, fmt: str):
    flt = _filter()
    try:
        return export_response(event, which, fmt, flt, actor=current_user, now=clock.utcnow())
    except Unmappable as exc:
        return _cp932_report(event, which, flt, exc.problems)


def _cp932_report(event: Event, which: str, flt: roster.ListFilter, problems: list):
    rows = [(row, column, ch, f"U+{ord(ch):04X}") for row, column, ch in problems[:REPORT_LIMIT]]
    html = render_template("admin/exports_cp932.html", event=event, which=which, args=flt.as_args(),
                           rows=rows, total=len(problems), title=SET_TITLES[which])
    return html, 200, {"Cache-Control": "no-store"}


@bp.post("/events/<int:event_id>/reception-list")
@event_access(Capability.export_personal)
def start_reception_list(event: Event):
    flt = _filter() if request.args else roster.ListFilter.from_args(request.form)
    job_id = jobs.queue_reception_list(event, flt, clock.utcnow(), requested_by=current_user.id).id
    db.session.commit()
    return redirect(url_for("admin.job_page", job_id=job_id), 303)
