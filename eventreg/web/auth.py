"""Staff login (Flask-Login) and the access rules of staff pages.

GET, POST /login            sign in (rate-limited: see domain/access/accounts.py)
POST      /logout           sign out (the session ends on the server, so a saved cookie is worthless)
GET       /staff            the signed-in user's events
GET, POST /staff/password   change one's password (current + new); the user's other browsers are signed out
GET, POST /login/forgot     a forgotten password: the address; a link goes out by email (the same answer for any address)
GET, POST /login/reset/<token>  the emailed link: choose a new password, then signed in
GET, POST /invite/<secret>  an invitation to an event's staff: choose a name and a password, or
                            accept with the signed-in account of the invited address

The session cookie carries only a StaffSession's random secret (Flask-Login's user id is that
secret); every request loads the session row with its user in one query.
"""

from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from eventreg.domain.access import sign_in

from .. import clock
from ..domain.access import accounts, invitations, password_reset
from ..domain.access.permissions import Capability
from ..domain.errors import DomainError
from ..domain.insight import counts
from ..domain.people import text
from ..extensions import db, login_manager
from ..models import Event
from .access import account_access, event_access
from .admin.team import ROLE_NAMES
from .error_words import message
from .forms import Normalized, PageForm, error_message
from .security import safe_next

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to continue.")
# "basic", not "strong": strong binds a session to the IP address, and reception phones hop between
# the venue's Wi-Fi and mobile data mid-queue. It also clears the (unused) remember cookie on every
# anonymous page view. Staff sessions are permanent and end after PERMANENT_SESSION_LIFETIME.
login_manager.session_protection = "basic"


@login_manager.user_loader
def _load_user(session_secret: str):
    return sign_in.user_for_session(session_secret, now=clock.utcnow())


class LoginForm(PageForm):
    email = StringField(_l("Email"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        now = clock.utcnow()
        attempt = sign_in.reserve_login_attempt(form.email.data, request.remote_addr or "", now=now)
        db.session.commit()  # visible to parallel attempts before anyone's password is checked
        try:
            user = sign_in.authenticate(attempt, form.password.data, now=now)
        except DomainError as exc:
            db.session.commit()  # the failed attempt stays: it counts toward the limit
            form.password.errors.append(message(exc.code))
            status = 429 if exc.code == "login_blocked" else 401
        else:
            _sign_in(user, now)
            return redirect(safe_next(request.args.get("next"), url_for("auth.home")))
    return render_template("auth/login.html", form=form), status


def _sign_in(user, now) -> None:
    """A new server-side session for ``user`` (committed), and its cookie."""
    sign_in.start_session(user, now=now, lifetime=current_app.permanent_session_lifetime)
    db.session.commit()
    session.permanent = True  # the cookie expires with the server's session row
    login_user(user)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        sign_in.end_session(current_user.session_secret, now=clock.utcnow())
        db.session.commit()
    logout_user()
    response = redirect(safe_next(request.args.get("next"), url_for("auth.login")))
    # An offline desk's roster (IndexedDB) and cached pages go with the session: the desk page
    # deletes them itself before it posts this form, and this covers a browser that did not.
    response.headers["Clear-Site-Data"] = '"storage"'
    return response


@bp.get("/staff")
@account_access()
def home():
    """Where staff land: the events they have a role on, upcoming first (soonest first), then
    past (latest first), each with its counts (domain.insight.counts, the one rule)."""
    now = clock.utcnow()
    events = [m.event for m in current_user.memberships]
    upcoming, past = _upcoming_then_past(events, now)
    return render_template("auth/home.html", events=events, upcoming=upcoming, past=past,
                           counts=counts.per_event([e.id for e in events], now=now), empty=counts.Counts())


def _upcoming_then_past(events, now):
    """An event is past once its last session has ended; one without sessions (a new draft) is
    upcoming, after the dated ones."""
    def last_end(event):
        return max((s.ends_at for s in event.sessions), default=None)

    upcoming = [e for e in events if last_end(e) is None or last_end(e) > now]
    past = [e for e in events if e not in upcoming]
    upcoming.sort(key=lambda e: (not e.sessions, min((s.starts_at for s in e.sessions), default=now), -e.id))
    past.sort(key=last_end, reverse=True)
    return upcoming, past


def desk_access(view):
    """The desk's pages: ``event_id`` loaded into ``event``, for staff whose role has the desk."""
    return event_access(Capability.desk)(view)


def _min_length(form, field):
    try:
        accounts.check_password(field.data)
    except DomainError as exc:
        raise ValidationError(error_message(exc)) from None


class PasswordForm(PageForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"), description=_l("At least %(min)s characters.", min=accounts.MIN_PASSWORD_LENGTH),
                                 validators=[InputRequired(), _min_length])
    confirm = PasswordField(_l("New password (again)"), validators=[
        InputRequired(), EqualTo("new_password", _l("The two new passwords are not the same."))])


@bp.route("/staff/password", methods=["GET", "POST"])
@account_access()
def password():
    """The current password is checked like a sign-in (it counts toward the same limits), so a
    borrowed session cannot guess it; the new one ends every other session of the user."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/password.html", form=form), 400 if request.method == "POST" else 200
    now = clock.utcnow()
    attempt = sign_in.reserve_login_attempt(current_user.email, request.remote_addr or "", now=now)
    db.session.commit()
    try:
        user = sign_in.authenticate(attempt, form.current_password.data, now=now)
    except DomainError as exc:
        db.session.commit()  # the failed attempt counts
        form.current_password.errors.append(
            message(exc.code) if exc.code == "login_blocked" else _("The current password is not correct."))
        return render_template("auth/password.html", form=form), 429 if exc.code == "login_blocked" else 400
    accounts.set_password(user, form.new_password.data)  # deletes all of the user's sessions
    _sign_in(user, now)  # … and this browser gets a new one
    flash(_("Your password was changed. Your other browsers and devices are signed out."))
    return redirect(url_for("auth.home"), 303)


class InviteForm(PageForm):
    name = StringField(_l("Your name"), description=_l("Shown to the other staff, at the desk and in the logs."),
                       validators=[Normalized(lambda v: text.clean_name(v, max_length=100), True)])
    new_password = PasswordField(_l("Password"), description=_l("At least %(min)s characters.", min=accounts.MIN_PASSWORD_LENGTH),
                                 validators=[InputRequired(), _min_length])
    confirm = PasswordField(_l("Password (again)"), validators=[
        InputRequired(), EqualTo("new_password", _l("The two passwords are not the same."))])


GONE_STATUS = {invitations.UNKNOWN: 404}  # accepted, revoked, expired: 410 Gone


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str):
    """Public: the link's 256-bit secret is the credential. A dead link's page names no event
    and no address, so it tells nothing about anyone's account."""
    now = clock.utcnow()
    found = invitations.lookup(token, now=now)
    if found.state != invitations.PENDING:
        return render_template("auth/invite_gone.html", state=found.state), GONE_STATUS.get(found.state, 410)
    invitation = found.invitation
    event = db.session.get(Event, invitation.event_id)
    form, error, error_code = InviteForm(), None, None
    if request.method == "POST":
        try:
            if current_user.is_authenticated:
                invitations.accept_existing(token, current_user, now=now)
                user = current_user
            elif form.validate():
                user = invitations.accept_new(token, name=form.name.data, password=form.new_password.data, now=now)
            else:
                user = None
        except DomainError as exc:
            db.session.rollback()
            error, error_code = error_message(exc), exc.code
        else:
            if user is not None:
                db.session.commit()
                if not current_user.is_authenticated:
                    _sign_in(user, now)
                flash(_("Welcome: you are now on the staff of “%(event)s”.", event=event.title))
                return redirect(url_for("auth.home"), 303)
    return render_template("auth/invite.html", invitation=invitation, event=event, form=form, error=error,
                           error_code=error_code,                           role_name=ROLE_NAMES[invitation.role]), 400 if request.method == "POST" else 200


class ForgotForm(PageForm):
    email = StringField(_l("Email"), validators=[InputRequired(), Length(max=254)])


def reset_link(token: str) -> str:
    """The emailed URL, always from BASE_URL (never from the Host header of this request)."""
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for("auth.reset_password", token=token, _external=True)


@bp.route("/login/forgot", methods=["GET", "POST"])
def forgot_password():
    """The same page, status and time for every address (known, unknown, deactivated): the
    request counts like a sign-in attempt, and the answer waits for ANSWER_FLOOR_SECONDS."""
    form = ForgotForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form), 400 if request.method == "POST" else 200
    answer_at = time.monotonic() + password_reset.ANSWER_FLOOR_SECONDS
    now = clock.utcnow()
    attempt = sign_in.reserve_login_attempt(form.email.data, request.remote_addr or "", now=now)
    db.session.commit()  # counted by parallel requests, as at login
    try:
        password_reset.request_link(attempt, secret_key=current_app.secret_key, now=now, link=reset_link,
                                    language=str(get_locale()))
    except DomainError as exc:  # login_blocked: the counts are the same for any address
        db.session.commit()
        form.email.errors.append(message(exc.code))
        page, status = render_template("auth/forgot.html", form=form), 429
    else:
        db.session.commit()
        page, status = render_template("auth/forgot_sent.html", email=form.email.data, minutes=RESET_MINUTES), 200
    time.sleep(max(0.0, answer_at - time.monotonic()))
    return page, status


class ResetForm(PageForm):
    new_password = PasswordField(_l("New password"), description=_l("At least %(min)s characters.", min=accounts.MIN_PASSWORD_LENGTH),
                                 validators=[InputRequired(), _min_length])
    confirm = PasswordField(_l("New password (again)"), validators=[
        InputRequired(), EqualTo("new_password", _l("The two new passwords are not the same."))])


RESET_MINUTES = int(password_reset.LIFETIME.total_seconds() // 60)  # stated on the pages and in the mail
RESET_GONE_STATUS = {password_reset.INVALID: 404}  # expired, used: 410 Gone


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Public: the signed link is the credential. Like Indico (and like an accepted invitation
    here), the person is signed in once the password is set; their other browsers are signed out."""
    now, key = clock.utcnow(), current_app.secret_key
    found = password_reset.read(token, secret_key=key, now=now)
    form = ResetForm()
    if found.state == password_reset.VALID and form.validate_on_submit():
        found = password_reset.complete(token, form.new_password.data, secret_key=key, now=now)
        if found.state == password_reset.VALID:
            if current_user.is_authenticated:  # someone else's session in this browser ends first
                sign_in.end_session(current_user.session_secret, now=now)
            _sign_in(found.user, now)  # commits the new password with the new session
            current_app.logger.info("staff user #%s set a new password with an emailed link", found.user.id)
            flash(_("Your new password is set, and you are signed in. Your other browsers and devices are signed out."))
            return redirect(url_for("auth.home"), 303)
        db.session.rollback()
    if found.state != password_reset.VALID:
        return render_template("auth/reset_gone.html", state=found.state, minutes=RESET_MINUTES), RESET_GONE_STATUS.get(found.state, 410)
    return render_template("auth/reset.html", form=form, user=found.user), 400 if request.method == "POST" else 200
