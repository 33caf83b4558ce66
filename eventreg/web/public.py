"""What attendees see: events, the registration form, their registration and pass.

GET       /                        upcoming events, the next session first
GET       /favicon.ico             redirect to the SVG favicon (browsers ask for it by themselves)
GET, POST /e/<slug>                event page with the registration form
GET       /e/<slug>/sent           "check your inbox" after a repeated sign-up
GET       /r/<token>               the registration and its pass (the link in every email)
GET       /r/<token>/pass.pdf      the pass as PDF
GET       /r/<token>/calendar.ics  the session as a calendar entry
GET, POST /r/<token>/cancel        confirm, then cancel
POST      /r/<token>/switch        a waiting person takes a free seat in another session
GET, POST /r/<token>/confirm/<proof>  confirm the email address (the mail's link; a GET confirms nothing)
POST      /r/<token>/resend-confirmation  that mail again, to the same address
GET, POST /u/<key>                 stop the event's organizer messages (a GET asks; the POST, also
                                   RFC 8058's one-click from the List-Unsubscribe header, does it)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import clock
from ..adapters import ics, qr
from ..domain.backoffice import hybrid_rules
from ..domain.backoffice.roster import parse_id
from ..domain.communication import opt_outs
from ..domain.errors import DomainError
from ..domain.registration import capacity, holds, passes, signup, signup_statement, waitlist
from ..domain.registration.passes import pass_context
from ..domain.registration.signup import Result
from ..domain.timing import deadlines
from ..domain.timing.deadlines import DeadlineState
from ..extensions import csrf, db, limiter
from ..models import Event, EventSession, EventStatus, Status
from . import documents, event_cache, limits
from .error_words import message
from .filters import moment
from .forms import registration_form, session_label
from .links import join_link, registration_links

bp = Blueprint("public", __name__)


def _event_or_404(slug: str) -> Event:
    """The event's display text (title, description, questions) from the per-process cache."""
    event = event_cache.published_event(slug)
    if event is None:
        abort(404)
    return event


def _registration_or_404(token: str):
    registration = passes.find_by_token(token)
    if registration is None:
        abort(404)
    return registration


def _usable_or_404(token: str):
    registration = _registration_or_404(token)
    if not passes.usable(registration):
        abort(404)
    return registration


@bp.get("/")
def index():
    """Published events that still have a session to come, the soonest first (by its next
    session that has not ended); past events are not listed (their pages stay reachable)."""
    now = clock.utcnow()
    next_session = (
        select(EventSession.event_id, func.min(EventSession.starts_at).label("next_at"))
        .where(EventSession.ends_at > now).group_by(EventSession.event_id).subquery()
    )
    events = db.session.scalars(
        select(Event).join(next_session, next_session.c.event_id == Event.id)
        .where(Event.status == EventStatus.published)
        .options(selectinload(Event.sessions))
        .order_by(next_session.c.next_at, Event.id)
    ).all()
    return render_template("public/index.html", events=events, now=now)


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.route("/e/<slug>", methods=["GET", "POST"])
@limits.signup
def event_page(slug: str):
    now = clock.utcnow()
    if request.method == "POST":
        response = _register_at_once(slug, now)
        if response is not None:
            return response
    event, sessions = _event_and_sessions(slug, now)
    open_sessions = [s for s in sessions if s.state == DeadlineState.open]
    form = registration_form(event, open_sessions, request.form if request.method == "POST" else None)
    refusal = None
    if request.method == "POST":
        asked = request.form.get("session_id", type=int)
        chosen = next((s for s in sessions if s.id == asked), None)
        if asked is not None and chosen is None:  # the page showed a replaced version: show the new one
            flash(message("event_changed"), "error")
            return redirect(url_for("public.event_page", slug=slug))
        if chosen is not None and chosen.state != DeadlineState.open:
            refusal = window_refusal(chosen, event.timezone)
            if not form.session_id.choices:  # keep the form, with what they typed, on the page
                form.session_id.choices = [(chosen.id, session_label(chosen, event.timezone))]
        elif open_sessions and form.validate_on_submit():
            response, refusal = _register(event, form, open_sessions, now)
            if response is not None:
                return response
    return _show(event, sessions, form, refusal, 400 if request.method == "POST" else 200)


def _event_and_sessions(slug: str, now):
    """The event (display text, cached) and its sessions: the words of the page and of a refused
    POST come from the sessions read now (seats, window and waiting list, never from the cache)."""
    event = _event_or_404(slug)
    sessions = capacity.availability(event.id, now)
    if not sessions or sessions[0].event_status == EventStatus.draft:
        # This process's copy is of a replaced or unpublished event: load the current one.
        event_cache.forget(slug)
        event = _event_or_404(slug)
        sessions = capacity.availability(event.id, now)
        if sessions and sessions[0].event_status == EventStatus.draft:
            abort(404)
    return event, sessions


def _show(event: Event, sessions, form, refusal, status: int):
    open_sessions = [s for s in sessions if s.state == DeadlineState.open]
    ended = bool(sessions) and sessions[0].event_status == EventStatus.closed  # fresh, not cached
    closed_note = None if open_sessions or not sessions else window_refusal(
        min((s for s in sessions if s.state == DeadlineState.not_open), key=lambda s: s.opens_at, default=None)
        or max(sessions, key=lambda s: s.closes_at), event.timezone)
    # A new one-time key on every page shown, also after a refusal: a copy of that POST changes nothing.
    return render_template("public/event.html", event=event, form=form, sessions=sessions, refusal=refusal,
                           ended=ended, closed_note=closed_note, signup_key=signup.new_signup_key()), status


@bp.errorhandler(RateLimitExceeded)
def signup_refused_for_now(exc: RateLimitExceeded):
    """A sign-up POST over a limit (web/limits.py): the form again with what was typed, and when
    to try again; 429, with Retry-After added by Flask-Limiter."""
    now = clock.utcnow()
    event, sessions = _event_and_sessions((request.view_args or {}).get("slug", ""), now)
    form = registration_form(event, [s for s in sessions if s.state == DeadlineState.open], request.form)
    counted = limiter.current_limit
    retry_at = datetime.fromtimestamp(max(counted.reset_at if counted else 0, time.time() + 60), timezone.utc)
    refusal = _("Too many sign-ups from your connection, for this event or with this email address, so this "
                "one was not registered. What you typed is kept below: please send it again after %(when)s.",
                when=moment(retry_at, event.timezone))
    return _show(event, sessions, form, refusal, 429)


def window_refusal(s, tz: str) -> str:
    """「受付は 12月1日(火) 10:00(日本時間) に始まります。」 or 「… に終了しました。」: which, and when."""
    if s.state == DeadlineState.not_open and s.opens_at is not None:
        return _("Registration opens on %(when)s.", when=moment(s.opens_at, tz))
    if s.state == DeadlineState.closed and s.event_status == EventStatus.published:
        return _("Registration closed on %(when)s.", when=moment(s.closes_at, tz))
    return message(deadlines.REFUSALS.get(s.state, "registration_closed"))


def _register_at_once(slug: str, now):
    """A sign-up POST without reading the event's sessions first: the seat UPDATE checks the
    session's event, window, capacity and the event's status itself. The redirect, or None when
    anything was refused (the form, the seat, the key): nothing is kept, and the page decides
    again from the sessions read then, so every refusal reads as before."""
    asked = request.form.get("session_id", type=int)
    event = event_cache.published_copy(slug)  # display text only: the UPDATE checks the rules
    if asked is None or event is None:
        return None
    form = registration_form(event, [], request.form)
    form.session_id.choices = [(asked, "")]  # which session is the seat UPDATE's to check
    if not form.validate_on_submit():
        return None
    chosen = _Chosen(asked, event.id)
    if signup_statement.usable() and not db.session().in_transaction():
        response = _register_in_one_statement(event, form, chosen, now)
        if response is not None:
            return response
    response, _refusal = _register(event, form, [chosen], now, at_once=True)
    return response


def _register_in_one_statement(event: Event, form, chosen: _Chosen, now):
    """PostgreSQL: the usual sign-up is one statement (signup.register_confirmed), run in
    autocommit, so no BEGIN and COMMIT round trips go with it. The redirect, or None: nothing
    was written, and ``_register`` decides in a transaction as on any database."""
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    outcome = signup.register_confirmed(chosen, _applicant(form, event), now=now,
                                        signup_key=form.signup_key.data or None)
    if outcome is None:
        db.session.rollback()  # ends the autocommit: the next statement begins a transaction
        return None
    # No commit: the statement committed itself (a COMMIT here would cost CPU and send nothing);
    # the request's end gives the connection back to the pool, out of autocommit.
    return redirect(url_for("public.registration", token=outcome.token, welcome=1))


@dataclass(frozen=True)
class _Chosen:
    """The session a POST names; signup.register reads only these two."""

    id: int
    event_id: int


def _register(event: Event, form, open_sessions, now, at_once: bool = False):
    """The sign-up: (the redirect, None), or (None, a refusal for the top of the form) with the
    form's own field errors set."""
    session = next(s for s in open_sessions if s.id == form.session_id.data)
    try:
        outcome = signup.register(session, _applicant(form, event), now=now, signup_key=form.signup_key.data or None)
    except DomainError as exc:
        slug = event.slug  # read before the rollback expires it
        db.session.rollback()
        if at_once:  # the page decides again, with the sessions (the words of every refusal)
            return None, None
        if exc.code == "event_changed":  # the page showed a replaced version: show the new one
            event_cache.forget(slug)
            flash(message(exc.code), "error")
            return redirect(url_for("public.event_page", slug=slug)), None
        if exc.code == "signup_key_used":  # the form is shown again, with a new key
            return None, message(exc.code)
        form.session_id.errors.append(message(exc.code))
        return None, None
    if outcome.result == Result.repeated:
        db.session.rollback()  # nothing of this copy is kept (a seat it took goes back)
        limits.give_back_counts()
    else:
        db.session.commit()
    if outcome.result == Result.duplicate:
        return redirect(url_for("public.resent", slug=event.slug)), None
    # The welcome is a query flag, not a flash: the session cookie stays unchanged (and unsigned).
    return redirect(url_for("public.registration", token=outcome.token, welcome=1)), None


def _applicant(form, event: Event) -> signup.Applicant:
    return signup.Applicant(
        **{name: form[name].data for name in (
            "family_name", "given_name", "family_kana", "given_kana", "email",
            "organization", "department", "phone")},
        sector=form.sector.data, answers=form.answers(event), language=str(get_locale()),
    )


@bp.get("/e/<slug>/sent")
def resent(slug: str):
    return render_template("public/resent.html", event=_event_or_404(slug))


@bp.get("/r/<token>")
def registration(token: str):
    registration = _registration_or_404(token)
    # The QR carries the entry credential, never the management secret in this page's URL; an
    # online registrant has none (their join link instead: domain.backoffice.hybrid_rules).
    entry_pass = hybrid_rules.entry_pass(registration)
    code = documents.pass_symbol(registration) if passes.usable(registration) and entry_pass else None
    svg = qr.svg_markup(code.size, code.path) if code else None
    position = waitlist.queue_position(registration)
    # A waiting person may switch to a session of the event that has a seat and is open.
    free = [s for s in capacity.availability(registration.event_id, clock.utcnow())
            if s.id != registration.session_id and s.state == DeadlineState.open and not s.full
            ] if position is not None else []
    google = (ics.google_calendar_url(pass_context(registration, registration_links(registration)))
              if passes.usable(registration) else None)
    return render_template("public/registration.html", r=registration, qr_svg=svg, google_calendar=google,
                           entry_pass=entry_pass,
                           reference=passes.reference_number(registration.id),
                           welcome=request.args.get("welcome") == "1", position=position, free_sessions=free,
                           join=join_link(registration) if registration.status == Status.confirmed else "")


@bp.post("/r/<token>/switch")
def switch(token: str):
    registration = _registration_or_404(token)
    to_session = db.session.get(EventSession, parse_id(request.form.get("session_id")) or 0)
    if to_session is None:
        abort(404)
    return _attendee_action(token, lambda: waitlist.switch_from_waitlist(
        registration, to_session, now=clock.utcnow()),
        _("You now have a seat in this session. Your new entry pass is on its way by email."))


def _attendee_action(token: str, do, done: str):
    """An attendee's POST on their registration page: one domain call, then back to the page
    with what happened (a refusal changes nothing and says why)."""
    try:
        do()
    except DomainError as exc:
        db.session.rollback()
        flash(message(exc.code), "error")
        return redirect(url_for("public.registration", token=token))
    db.session.commit()
    flash(done)
    return redirect(url_for("public.registration", token=token))


@bp.get("/r/<token>/pass.pdf")
def pass_pdf(token: str):
    registration = _usable_or_404(token)
    if not hybrid_rules.entry_pass(registration):
        abort(404)  # an online registrant joins by link: no entry pass to print
    body = documents.pass_pdf(pass_context(registration, registration_links(registration)), documents.pass_symbol(registration))
    return body, 200, {"Content-Type": "application/pdf",
                       "Content-Disposition": 'inline; filename="pass.pdf"'}


@bp.get("/r/<token>/calendar.ics")
def calendar(token: str):
    registration = _registration_or_404(token)
    if registration.status != Status.cancelled and not passes.usable(registration):
        abort(404)  # a waiting-list place is no calendar entry yet; a cancelled one gets METHOD:CANCEL
    body = ics.session_event(pass_context(registration, registration_links(registration)), now=clock.utcnow())
    return body, 200, {"Content-Type": "text/calendar; charset=utf-8",
                       "Content-Disposition": 'attachment; filename="event.ics"'}


@bp.route("/r/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str):
    registration = _registration_or_404(token)
    if request.method == "POST":
        return _attendee_action(token, lambda: signup.cancel(registration, now=clock.utcnow()),
                                _("Your registration has been cancelled."))
    return render_template("public/cancel.html", r=registration)


@bp.route("/r/<token>/confirm/<proof>", methods=["GET", "POST"])
def confirm_email(token: str, proof: str):
    """The link in the confirm_email mail. The proof is in the mail only (the page after the
    sign-up knows the token, not the proof). GET shows a button (mail scanners that fetch links
    confirm nothing); POST confirms with one conditional UPDATE (domain.registration.holds.confirm)."""
    registration = _registration_or_404(token)
    if not holds.proof_matches(token, current_app.config["SECRET_KEY"], proof):
        abort(404)
    now = clock.utcnow()
    if request.method == "POST" and holds.pending(registration):
        confirmed = holds.confirm(registration, now=now)
        db.session.commit()
        if confirmed:
            flash(_("Thank you: your email address is confirmed."))
            return redirect(url_for("public.registration", token=token), 303)
    expired_at = holds.expired_at(registration)
    db.session.rollback()
    late = holds.pending(registration) and registration.hold_expires_at <= now
    return render_template("public/confirm.html", r=registration, expired_at=expired_at, late=late,
                           pending=holds.pending(registration) and not late)


@bp.post("/r/<token>/resend-confirmation")
def resend_confirmation(token: str):
    """The confirmation mail again, to the address given at sign-up (the form names none)."""
    registration = _registration_or_404(token)
    return _attendee_action(token, lambda: holds.resend_confirmation(registration, now=clock.utcnow()),
                            _("We sent the email again. Open the link in it to confirm your email address."))


@bp.route("/u/<key>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail provider's one-click POST carries no cookie; the key is the secret
def unsubscribe(key: str):
    """The unsubscribe link of an organizer's message (its footer and its List-Unsubscribe header).
    GET asks (link scanners fetch links and stop nothing); POST stops the event's organizer
    messages for this person and changes nothing else. The same POST again answers the same."""
    registration = opt_outs.find(key, current_app.config["SECRET_KEY"])
    if registration is None:
        abort(404)
    if request.method == "POST":
        opt_outs.stop(registration, clock.utcnow())
        db.session.commit()
    stopped = opt_outs.stopped(registration)
    db.session.rollback()
    return render_template("public/unsubscribe.html", event=registration.event, stopped=stopped)
