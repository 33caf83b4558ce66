"""Staff login (Flask-Login) and the access rules of staff pages.

GET, POST /login     sign in (rate-limited: see domain/staff.py)
POST      /logout    sign out (the session ends on the server, so a saved cookie is worthless)

The session cookie carries only a StaffSession's random secret (Flask-Login's user id is that
secret); every request loads the session row with its user in one query.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from .. import clock
from ..domain import staff
from ..domain.errors import DomainError
from ..domain.permissions import Capability
from ..extensions import db, login_manager
from .access import account_access, event_access
from .forms import PageForm
from .messages import message
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
    return staff.user_for_session(session_secret, now=clock.utcnow())


class LoginForm(PageForm):
    email = StringField(_l("Email"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        now = clock.utcnow()
        attempt = staff.reserve_login_attempt(form.email.data, request.remote_addr or "", now=now)
        db.session.commit()  # visible to parallel attempts before anyone's password is checked
        try:
            user = staff.authenticate(attempt, form.password.data, now=now)
        except DomainError as exc:
            db.session.commit()  # the failed attempt stays: it counts toward the limit
            form.password.errors.append(message(exc.code))
            status = 429 if exc.code == "login_blocked" else 401
        else:
            staff.start_session(user, now=now, lifetime=current_app.permanent_session_lifetime)
            db.session.commit()
            session.permanent = True  # the cookie expires with the server's session row
            login_user(user)
            return redirect(safe_next(request.args.get("next"), url_for("auth.home")))
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        staff.end_session(current_user.session_secret, now=clock.utcnow())
        db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.get("/staff")
@account_access()
def home():
    """Where staff land: the events they have a role on."""
    events = sorted((m.event for m in current_user.memberships), key=lambda e: e.id, reverse=True)
    return render_template("auth/home.html", events=events)


def desk_access(view):
    """The desk's pages: ``event_id`` loaded into ``event``, for staff whose role has the desk."""
    return event_access(Capability.desk)(view)
