"""Events, sessions and questions in the back office.

GET, POST /admin/events/new                               create (organizer accounts) -> edit page
GET       /admin/events/<id>                              overview: status, sessions, seats, deadlines
GET, POST /admin/events/<id>/edit                         the event's fields (+ "preview" of the Markdown)
POST      /admin/events/<id>/sessions                     add a session
GET, POST /admin/events/<id>/sessions/<sid>               change a session (times: attendees are told)
GET, POST /admin/events/<id>/sessions/<sid>/delete        confirm, then remove a session nobody registered for
POST      /admin/events/<id>/questions                    add a question
GET, POST /admin/events/<id>/questions/<qid>              change a question
POST      /admin/events/<id>/questions/<qid>/hidden       hide / show it again
GET, POST /admin/events/<id>/questions/<qid>/delete       confirm, then delete a question without answers
POST      /admin/events/<id>/status                       publish / close / reopen / back to draft
GET, POST /admin/events/<id>/clone                        copy to a new first date -> the copy's edit page
GET, POST /admin/events/<id>/delete                       confirm, then delete (nobody registered)
GET       /admin/events/<id>/preview                      the public page as attendees will see it

Every check is domain.backoffice.events'; a refusal shows its words and changes nothing (rolled back).
"""

from __future__ import annotations

from dataclasses import replace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from eventreg.domain.backoffice import clone, event_checks, hybrid, questions, sessions
from eventreg.domain.backoffice.event_checks import InvalidValues

from ... import clock
from ...domain.access.permissions import CREATES_EVENTS, Capability
from ...domain.backoffice import events
from ...domain.errors import DomainError
from ...domain.reception import desk_followups
from ...domain.registration import capacity
from ...domain.timing import deadlines
from ...extensions import db
from ...models import AuditEntry, Event, EventSession, EventStatus, Question, Registration, Status
from .. import event_cache
from ..access import account_access, event_access
from ..audit_words import note_words
from ..desk_words import word as desk_word
from ..error_words import words
from ..filters import render_markdown
from ..forms import registration_form
from ..status_words import status_word
from . import bp
from .deadline_preview import resolved_for_event, resolved_for_session
from .event_forms import (
    KIND_CHOICES,
    CloneForm,
    DeleteForm,
    EventForm,
    NewEventForm,
    QuestionForm,
    SessionForm,
    action_words,
    changed_words,
    event_data,
    event_values,
    put_problems,
    question_data,
    question_values,
    refusal,
    rule_words,
    session_data,
    session_values,
)


def _fresh(event: Event) -> None:
    """After a change: this process's public copy goes (others follow within 5 s, display only)."""
    event_cache.forget(event.slug)


def _session_of(event: Event, session_id: int) -> EventSession:
    session = db.session.get(EventSession, session_id)
    if session is None or session.event_id != event.id:
        abort(404)
    return session


def _question_of(event: Event, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.event_id != event.id:
        abort(404)
    return question


def _back(event: Event, anchor: str = ""):
    return redirect(url_for("admin.event_edit", event_id=event.id) + (f"#{anchor}" if anchor else ""), 303)


def _preview(form):
    """The description as the public page will show it (sanitized Markdown); nothing is saved.
    None, with the problems on the form, when the values do not pass."""
    try:
        description = event_checks.clean_event(event_values(form), unique_slug=False)["description_md"]
    except InvalidValues as exc:
        put_problems(form, exc)
        return None
    return render_markdown(description)


# --- create, overview -----------------------------------------------------------------------

@bp.route("/events/new", methods=["GET", "POST"])
@account_access(CREATES_EVENTS)
def event_new():
    form = NewEventForm(request.form if request.method == "POST" else None)
    preview_html = None
    if request.method == "POST" and request.form.get("action") == "preview":
        preview_html = _preview(form)
        return render_template("admin/event_new.html", form=form, preview_html=preview_html), \
            200 if preview_html is not None else 400
    if request.method == "POST":
        try:
            event = events.create_event(event_values(form), actor=current_user, now=clock.utcnow())
        except InvalidValues as exc:
            db.session.rollback()
            put_problems(form, exc)
        else:
            event_id = event.id
            db.session.commit()
            flash(_("The event was saved as a draft. Now add its sessions."))
            return redirect(url_for("admin.event_edit", event_id=event_id) + "#sessions", 303)
    return render_template("admin/event_new.html", form=form), 400 if request.method == "POST" else 200


def _waiting(event: Event) -> dict[int, int]:
    return dict(db.session.execute(
        select(Registration.session_id, func.count()).where(
            Registration.event_id == event.id, Registration.status == Status.waitlisted)
        .group_by(Registration.session_id)).all())


@bp.get("/events/<int:event_id>")
@event_access(Capability.view)
def event_overview(event: Event):
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.event_id == event.id)
                                 .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(15)).all()
    open_tasks, conflicts = desk_followups.open_counts(event.id)
    return render_template("admin/event_overview.html", event=event, waiting=_waiting(event),
                           rule_words=rule_words, entries=entries, now=clock.utcnow(),
                           state=deadlines.state,
                           desk_followups=desk_word("overview", tasks=open_tasks, conflicts=conflicts)
                           if open_tasks or conflicts else None)


# --- the edit page --------------------------------------------------------------------------

def _edit_page(event: Event, *, form=None, session_form=None, question_form=None, preview_html=None,
               status: int = 200):
    form = form or EventForm(data=event_data(event))
    return render_template(
        "admin/event_edit.html", event=event, form=form,
        session_form=session_form or SessionForm(), question_form=question_form or QuestionForm(),
        deadline_resolved=Markup(render_template("admin/_deadline_resolved.html", **resolved_for_event(event, form))),
        preview_html=preview_html, rule_words=rule_words, waiting=_waiting(event),
        registrations=events.registration_count(event.id), EventStatus=EventStatus,
    ), status


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@event_access(Capability.edit_event)
def event_edit(event: Event):
    if request.method == "GET":
        return _edit_page(event)
    form = EventForm(request.form)
    if request.form.get("action") == "deadline_preview":  # "check the deadlines" without JavaScript: nothing saved
        return _edit_page(event, form=form)
    if request.form.get("action") == "preview":
        preview_html = _preview(form)
        return _edit_page(event, form=form, preview_html=preview_html, status=200 if preview_html is not None else 400)
    try:
        changed = events.update_event(event, event_values(form), actor=current_user, now=clock.utcnow())
    except InvalidValues as exc:
        db.session.rollback()
        put_problems(form, exc)
        return _edit_page(event, form=form, status=400)
    except DomainError as exc:
        db.session.rollback()
        form.timezone.errors = [refusal(exc)]
        return _edit_page(event, form=form, status=400)
    db.session.commit()
    _fresh(event)
    flash(_("Saved.") if changed else _("Nothing was changed."))
    return _back(event)


# --- sessions -------------------------------------------------------------------------------

@bp.post("/events/<int:event_id>/sessions")
@event_access(Capability.edit_event)
def session_add(event: Event):
    form = SessionForm(request.form)
    try:
        values, now = session_values(form), clock.utcnow()
        added = sessions.add_session(event, values, actor=current_user, now=now)
        hybrid.apply_mode(added, values, actor=current_user, now=now)
    except InvalidValues as exc:
        db.session.rollback()
        put_problems(form, exc)
        return _edit_page(event, session_form=form, status=400)
    db.session.commit()
    flash(_("The session was added."))
    return _back(event, "sessions")


@bp.route("/events/<int:event_id>/sessions/<int:session_id>", methods=["GET", "POST"])
@event_access(Capability.edit_event)
def session_edit(event: Event, session_id: int):
    session = _session_of(event, session_id)
    if session.hybrid_of_id is not None:  # an online twin is changed with its on-site session
        return redirect(url_for("admin.session_edit", event_id=event.id, session_id=session.hybrid_of_id), 303)
    if request.method == "GET":
        return _session_page(event, session, SessionForm(data=session_data(session, event.timezone)))
    form = SessionForm(request.form)
    try:
        values, now = session_values(form), clock.utcnow()
        was = (hybrid.mode_of(session), hybrid.meeting_url_set(session))
        changed = sessions.update_session(session, values, actor=current_user, now=now)
        hybrid.apply_mode(session, values, actor=current_user, now=now)
        if not changed and (was != (hybrid.mode_of(session), hybrid.meeting_url_set(session))
                            or (values.get("meeting_url") or "").strip()):
            changed = {"attendance": True}
    except InvalidValues as exc:
        db.session.rollback()
        put_problems(form, exc)
        return _session_page(event, session, form, 400)
    except DomainError as exc:
        db.session.rollback()
        # The twin cannot go once people signed up online; its seats are the online capacity's.
        target = {"session_has_registrations": form.mode, "capacity_below_taken": form.capacity}.get(exc.code, form.capacity)
        if exc.code == "capacity_below_taken" and form.mode.data == "both" and session.seats_taken <= int(form.capacity.data or 0):
            target = form.online_capacity
        target.errors = [refusal(exc)]
        return _session_page(event, session, form, 400)
    db.session.commit()
    if "notified" in changed:
        flash(_("The session was changed; %(n)s registered people will be emailed the new time.",
                n=changed["notified"][1]))
    else:
        flash(_("The session was changed.") if changed else _("Nothing was changed."))
    return _back(event, "sessions")


def _session_page(event: Event, session: EventSession, form: SessionForm, status: int = 200):
    resolved = Markup(render_template("admin/_deadline_resolved.html", **resolved_for_session(event, form)))
    return render_template("admin/event_session.html", event=event, session=session, form=form,
                           session_resolved=resolved, meeting_url_set=hybrid.meeting_url_set(session)), status


@bp.route("/events/<int:event_id>/sessions/<int:session_id>/delete", methods=["GET", "POST"])
@event_access(Capability.edit_event)
def session_delete(event: Event, session_id: int):
    session = _session_of(event, session_id)
    if not _confirmed():
        return _confirm_page(event, _("Remove this session?"), session.title or _("Session without a name"),
                             _("Remove"), "sessions", when=session)
    return _apply(event, lambda: hybrid.remove(session, actor=current_user, now=clock.utcnow()),
                  _("The session was removed."), "sessions")


def _confirmed() -> bool:
    """A delete happens only from its confirmation page's button (a page, so it works without JS)."""
    return request.method == "POST" and request.form.get("confirm") == "yes"


def _confirm_page(event: Event, question: str, what: str, button: str, anchor: str, when=None):
    return render_template("admin/confirm_delete.html", event=event, question=question, what=what, when=when,
                           button=button, back=url_for("admin.event_edit", event_id=event.id, _anchor=anchor))


def _apply(event: Event, change, done: str, anchor: str):
    """Runs one change; its refusal is flashed, nothing changed."""
    try:
        change()
    except DomainError as exc:
        db.session.rollback()
        flash(refusal(exc), "error")
    else:
        db.session.commit()
        _fresh(event)
        flash(done)
    return _back(event, anchor)


# --- questions ------------------------------------------------------------------------------

@bp.post("/events/<int:event_id>/questions")
@event_access(Capability.edit_event)
def question_add(event: Event):
    form = QuestionForm(request.form)
    try:
        questions.add_question(event, question_values(form), actor=current_user, now=clock.utcnow())
    except InvalidValues as exc:
        db.session.rollback()
        put_problems(form, exc)
        return _edit_page(event, question_form=form, status=400)
    db.session.commit()
    _fresh(event)
    flash(_("The question was added."))
    return _back(event, "questions")


@bp.route("/events/<int:event_id>/questions/<int:question_id>", methods=["GET", "POST"])
@event_access(Capability.edit_event)
def question_edit(event: Event, question_id: int):
    question = _question_of(event, question_id)
    answered = questions.has_answers(question)
    if request.method == "GET":
        form = QuestionForm(data=question_data(question))
        return render_template("admin/event_question.html", event=event, question=question, form=form,
                               answered=answered)
    form = QuestionForm(request.form)
    try:
        questions.update_question(question, question_values(form), actor=current_user, now=clock.utcnow())
    except InvalidValues as exc:
        db.session.rollback()
        put_problems(form, exc)
    except DomainError as exc:
        db.session.rollback()
        target = form.kind if exc.code == "question_kind_in_use" else form.choices
        target.errors = [refusal(exc)]
    else:
        db.session.commit()
        _fresh(event)
        flash(_("The question was changed."))
        return _back(event, "questions")
    return render_template("admin/event_question.html", event=event, question=question, form=form,
                           answered=answered), 400


@bp.post("/events/<int:event_id>/questions/<int:question_id>/hidden")
@event_access(Capability.edit_event)
def question_hide(event: Event, question_id: int):
    question = _question_of(event, question_id)
    hide = request.form.get("hidden") == "1"
    return _apply(event, lambda: questions.set_question_hidden(question, hide, actor=current_user, now=clock.utcnow()),
                  _("The question is hidden: no longer asked, its answers are kept.") if hide
                  else _("The question is asked again."), "questions")


@bp.route("/events/<int:event_id>/questions/<int:question_id>/delete", methods=["GET", "POST"])
@event_access(Capability.edit_event)
def question_delete(event: Event, question_id: int):
    question = _question_of(event, question_id)
    if not _confirmed():
        return _confirm_page(event, _("Delete this question?"), question.label, _("Delete"), "questions")
    return _apply(event, lambda: questions.delete_question(question, actor=current_user, now=clock.utcnow()),
                  _("The question was deleted."), "questions")


# --- status, clone, delete, preview -----------------------------------------------------------

STATUS_DONE = {
    "published": lambda: _("The event is published: its page is public and sign-up follows its window."),
    "closed": lambda: _("The event is closed: its page stays, nobody can sign up."),
    "draft": lambda: _("The event is a draft again: its public page is gone."),
}


@bp.post("/events/<int:event_id>/status")
@event_access(Capability.edit_event)
def event_status(event: Event):
    target = request.form.get("status", "")
    if target not in STATUS_DONE:
        flash(words("status_change_refused"), "error")
        return _back(event, "status")
    return _apply(event, lambda: events.set_status(event, EventStatus(target), actor=current_user, now=clock.utcnow()),
                  STATUS_DONE[target](), "status")


@bp.route("/events/<int:event_id>/clone", methods=["GET", "POST"])
@event_access(Capability.edit_event, account=CREATES_EVENTS)  # the maker owns the copy
def event_clone(event: Event):
    form = CloneForm(request.form if request.method == "POST" else None, data={"title": event.title})
    if request.method == "POST":
        try:
            copy = clone.clone_event(event, form.first_date.data, actor=current_user, now=clock.utcnow(),
                                     title=form.title.data, slug=form.slug.data, keep_team=bool(form.keep_team.data))
        except InvalidValues as exc:
            db.session.rollback()
            put_problems(form, exc)
        except DomainError as exc:
            db.session.rollback()
            form.first_date.errors = [refusal(exc)]
        else:
            copy_id = copy.id
            db.session.commit()
            flash(_("This is the copy, saved as a draft. Check it, then publish it."))
            return redirect(url_for("admin.event_edit", event_id=copy_id), 303)
    return render_template("admin/event_clone.html", event=event, form=form), 400 if request.method == "POST" else 200


@bp.route("/events/<int:event_id>/delete", methods=["GET", "POST"])
@event_access(Capability.delete_event)
def event_delete(event: Event):
    form = DeleteForm(request.form if request.method == "POST" else None)
    taken = events.registration_count(event.id)
    if request.method == "POST":
        if not form.confirm.data:
            form.confirm.errors = [_("Tick the box to confirm.")]
        else:
            slug = event.slug
            try:
                events.delete_event(event, actor=current_user, now=clock.utcnow())
            except DomainError as exc:
                db.session.rollback()
                form.confirm.errors = [refusal(exc)]
            else:
                db.session.commit()
                event_cache.forget(slug)
                flash(_("The event was deleted."))
                return redirect(url_for("auth.home"), 303)
    return (render_template("admin/event_delete.html", event=event, form=form, taken=taken),
            400 if request.method == "POST" else 200)


@bp.get("/events/<int:event_id>/preview")
@event_access(Capability.view)
def event_preview(event: Event):
    """The public page from the same template, for a draft too; the form cannot be sent."""
    now = clock.utcnow()
    sessions = [replace(s, state=deadlines.window_state(s.opens_at, s.closes_at, now))
                for s in capacity.availability(event.id, now)]
    open_sessions = [s for s in sessions if s.state == deadlines.DeadlineState.open]
    return render_template("public/event.html", event=event, sessions=sessions, refusal=None, preview=True,
                           ended=event.status == EventStatus.closed,
                           form=registration_form(event, open_sessions or sessions))


def status_words(status) -> str:
    return status_word(EventStatus(status))


def role_words(role) -> str:
    return {"owner": _("Owner"), "editor": _("Editor"), "reception": _("Reception"),
            "viewer": _("Viewer")}.get(getattr(role, "value", role), "")


@bp.app_context_processor
def _event_words():
    """For every template (the staff home lists statuses and roles too)."""
    return {"status_words": status_words, "role_words": role_words, "kind_words": kind_words,
            "action_words": action_words, "changed_words": changed_words, "note_words": note_words}


def kind_words(kind) -> str:
    return str(dict(KIND_CHOICES).get(getattr(kind, "value", kind), ""))
