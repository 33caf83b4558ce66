"""The attendee list and its bulk actions.

GET  /admin/events/<event_id>/attendees            counts, the filter form (GET: bookmarkable), one page
POST /admin/events/<event_id>/attendees/bulk       the confirmation: the action, the count, the names
POST /admin/events/<event_id>/attendees/bulk/run   does it in one transaction, or changes nothing

The filter is domain.backoffice.roster.ListFilter, read from the query string (or, for "all N matching",
from the posted form). Selected ids are looked up within the event: an id of another event
refuses the whole request. Every check is made again when the action runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from ... import clock
from ...domain.access.permissions import Capability
from ...domain.backoffice import bulk_actions, roster
from ...domain.backoffice.bulk_actions import Action, BulkRefused
from ...domain.backoffice.roster import ListFilter
from ...domain.insight.counts import Counts, per_session, summed
from ...domain.people import gojuon
from ...extensions import db
from ...models import Event, Registration
from .. import filters
from ..access import event_access, may
from ..count_words import COUNT_WORDS
from ..error_words import message
from ..field_words import field_title, sector_names
from . import bp

PER_PAGE = 100
MAX_PAGE = 10_000
PREVIEW = 30  # names listed on the confirmation page

# The filter's words are the counters' (the list filter "no_show" selects the no-shows).
STATUS_CHOICES = [(value, COUNT_WORDS[name]) for value, name in (
    ("", "active"), ("confirmed", "confirmed"), ("held", "held"), ("waitlisted", "waitlisted"),
    ("cancelled", "cancelled"), ("checked_in", "checked_in"), ("not_arrived", "not_arrived"), ("no_show", "no_shows"))]
SORT_CHOICES = [
    ("kana", _l("Furigana (五十音)")),
    ("organization", field_title("organization")),
    ("created", _l("Sign-up time (newest first)")),
    ("arrival", _l("Arrival")),
]
ACTION_LABELS = {
    Action.cancel: _l("Cancel"),
    Action.move: _l("Move to another session"),
    Action.promote: _l("Promote from the waiting list"),
    Action.resend: _l("Resend the pass"),
}


def _page_number(value) -> int:
    """1 unless a page number is given; a huge one is the last page (the view clamps it)."""
    value = value.strip() if isinstance(value, str) else ""
    if not (value.isascii() and value.isdigit()):
        return 1
    return max(1, min(int(value) if len(value) <= 6 else MAX_PAGE, MAX_PAGE))


@bp.get("/events/<int:event_id>/attendees")
@event_access(Capability.view)
def attendees(event: Event):
    now = clock.utcnow()
    flt = ListFilter.from_args(request.args)
    page = _page_number(request.args.get("page"))
    found, total = _page_of(event, flt, page, now)
    pages = max(1, -(-total // PER_PAGE))
    if page > pages:  # past the end (an old link): the last page
        page = pages
        found, total = _page_of(event, flt, page, now)
    show_answers = request.args.get("answers") == "1"
    per = per_session(event.id, now=now)
    return render_template(
        "admin/attendees.html", event=event, flt=flt, total=total, page=page, pages=pages,
        first=(page - 1) * PER_PAGE + 1, rows=_with_headings(found, flt), counts=summed(per.values()),
        session_counts={s.id: per.get(s.id, Counts()) for s in event.sessions},
        sessions={s.id: s for s in event.sessions}, show_answers=show_answers,
        can_bulk=may(Capability.manage_registrations, event),
        status_choices=STATUS_CHOICES, sort_choices=SORT_CHOICES, sectors=sector_names(),
        actions=ACTION_LABELS, link=_linker(event), answer_text=answer_text, stamp=_stamper(event),
        session_labels={s.id: session_label(s, event) for s in event.sessions}, select_label=_select_label(),
        list_url=lambda **changes: _list_url(event, flt, **{"page": page, "answers": show_answers, **changes}),
        now=now,
    )


def _page_of(event: Event, flt: ListFilter, page: int, now) -> tuple[list[Registration], int]:
    """One page and the number of all matching rows, in one query (a window count)."""
    rows = db.session.execute(
        roster.matching(event, flt, now=now).add_columns(func.count().over())
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    if not rows:
        return [], roster.count(event, flt, now=now) if page > 1 else 0
    return [row[0] for row in rows], rows[0][1]


def session_label(session, event: Event) -> str:
    return filters.session_name(session, event.timezone)


def _stamper(event: Event):
    """「11月2日(月) 22:45」 in the event's time zone (the page names the zone once)."""
    lang = str(get_locale() or "ja")
    return lambda value: f"{filters.day(value, event.timezone, lang, year=False)} {filters.hm(value, event.timezone)}"


def _select_label():
    template = _("Select %(name)s")  # looked up once; formatted per row
    return lambda name: template % {"name": name}


def _linker(event: Event):
    if "admin.registration" not in current_app.view_functions:
        return lambda registration: None
    return lambda registration: url_for("admin.registration", event_id=event.id, registration_id=registration.id)


def _list_url(event: Event, flt: ListFilter, **extra) -> str:
    args = flt.as_args()
    if extra.get("page", 1) != 1:
        args["page"] = extra["page"]
    if extra.get("answers"):
        args["answers"] = "1"
    return url_for("admin.attendees", event_id=event.id, **args)


def _with_headings(found: list[Registration], flt: ListFilter) -> list[tuple[str | None, Registration]]:
    """Each row with the 五十音 heading that starts before it (furigana order only)."""
    rows, current = [], None
    for registration in found:
        heading = None
        if flt.sort == "kana":
            row = gojuon.heading(registration.sort_key)
            heading, current = (row if row != current else None), row
        rows.append((heading, registration))
    return rows


def answer_text(value) -> str:
    if value is True:
        return _("Yes")
    if value is False or value is None:
        return ""
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


# --- bulk actions -------------------------------------------------------------------------


@dataclass
class Bulk:
    """What the form asks for, resolved within the event."""

    action: Action
    scope: str  # "selected" or "all"
    flt: ListFilter
    ids: list[int]
    registrations: list[Registration]
    target: object  # EventSession | None
    notify: bool


class BadBulk(Exception):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _read_bulk(event: Event, form, now) -> Bulk:
    try:
        action = Action(form.get("action", ""))
    except ValueError:
        raise BadBulk(_("Choose an action.")) from None
    scope = "all" if form.get("scope") == "all" else "selected"
    flt = ListFilter.from_args(form)
    target = None
    if action == Action.move:
        target_id = roster.parse_id(form.get("target"))
        target = next((s for s in event.sessions if s.id == target_id), None)
        if target is None:
            raise BadBulk(_("Choose the session to move them to."))
    if scope == "all":
        found = db.session.scalars(roster.matching(event, flt, now=now).limit(bulk_actions.MAX_ROWS + 1)).all()
        ids = [r.id for r in found]
    else:
        raw = form.getlist("ids")
        ids = [roster.parse_id(v) for v in raw[: bulk_actions.MAX_ROWS + 1]]
        if None in ids or len(raw) > bulk_actions.MAX_ROWS:
            raise BadBulk(_("The selection is not valid. Please select the rows again."))
        ids = sorted(set(ids))
        found = db.session.scalars(
            select(Registration).where(Registration.event_id == event.id, Registration.id.in_(ids))
        ).all() if ids else []
        if len(found) != len(ids):  # an id of another event, or of nobody: never acted on
            raise BadBulk(_("Some of the selected registrations are not registrations of this event. Nothing was changed."))
    if not found:
        raise BadBulk(_("Select at least one registration."))
    if len(found) > bulk_actions.MAX_ROWS:
        raise BadBulk(_("At most %(n)s registrations can be changed at once. Please narrow the filter.", n=bulk_actions.MAX_ROWS))
    return Bulk(action, scope, flt, ids, sorted(found, key=lambda r: r.id), target, form.get("notify") == "1")


def _refusal_rows(refusals) -> list[dict]:
    return [{"id": r.registration.id, "name": r.registration.full_name, "kana": r.registration.full_kana,
             "why": message(r.code)} for r in refusals]


def _confirm_page(event: Event, bulk: Bulk, refusals: list[dict], status: int = 200, changed: bool = False):
    return render_template(
        "admin/attendees_bulk.html", event=event, bulk=bulk, refusals=refusals, changed=changed,
        preview=bulk.registrations[:PREVIEW], count=len(bulk.registrations), action_label=ACTION_LABELS[bulk.action],
        sessions={s.id: s for s in event.sessions}, back=_list_url(event, bulk.flt),
    ), status


def _bad_bulk(event: Event, text: str):
    flash(text, "error")
    return redirect(_list_url(event, ListFilter.from_args(request.form)), 303)


@bp.post("/events/<int:event_id>/attendees/bulk")
@event_access(Capability.manage_registrations)
def bulk_confirm(event: Event):
    try:
        bulk = _read_bulk(event, request.form, clock.utcnow())
        refusals = _refusal_rows(bulk_actions.check(bulk.registrations, bulk.action, target=bulk.target))
    except BadBulk as exc:
        return _bad_bulk(event, exc.text)
    return _confirm_page(event, bulk, refusals, 409 if refusals else 200)


@bp.post("/events/<int:event_id>/attendees/bulk/run")
@event_access(Capability.manage_registrations)
def bulk_run(event: Event):
    now = clock.utcnow()
    try:
        bulk = _read_bulk(event, request.form, now)
    except BadBulk as exc:
        return _bad_bulk(event, exc.text)
    if bulk.scope == "all" and request.form.get("expected") != str(len(bulk.registrations)):
        # The list changed between the confirmation and now: show the new count first.
        flash(_("The list changed since you confirmed: please check the count again."), "error")
        return _confirm_page(event, bulk, _refusal_rows(bulk_actions.check(bulk.registrations, bulk.action, target=bulk.target)), 409)
    try:
        done = bulk_actions.run(bulk.registrations, bulk.action, target=bulk.target, notify=bulk.notify,
                                actor=current_user, now=now)
    except BulkRefused as exc:
        refusals = _refusal_rows(exc.refusals)
        db.session.rollback()
        return _confirm_page(event, bulk, refusals, 409)
    db.session.commit()
    flash(_("%(action)s: done for %(n)s registrations.", action=ACTION_LABELS[bulk.action], n=done), "ok")
    return redirect(_list_url(event, bulk.flt), 303)
