"""Staff login (Flask-Login) and the access rules of staff pages.

GET, POST /login     sign in (rate-limited per email and per address)
POST      /logout    sign out
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from .. import clock
from ..domain import staff
from ..domain.errors import DomainError
from ..extensions import db, login_manager
from ..models import Event, Role, StaffUser
from .forms import PageForm
from .messages import message

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to continue.")
# "basic", not "strong": strong binds a session to the IP address, and reception phones hop between
# the venue's Wi-Fi and mobile data mid-queue. It also clears the (unused) remember cookie on every
# anonymous page view. Staff sessions are permanent and end after PERMANENT_SESSION_LIFETIME.
login_manager.session_protection = "basic"


@login_manager.user_loader
def _load_user(user_id: str):
    user = db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None


class LoginForm(PageForm):
    email = StringField(_l("Email"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else url_for("auth.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = staff.authenticate(form.email.data, form.password.data, request.remote_addr or "",
                                      now=clock.utcnow())
        except DomainError as exc:
            db.session.commit()  # keep the failed attempt: it counts toward the limit
            form.password.errors.append(message(exc.code))
            status = 429 if exc.code == "login_blocked" else 401
        else:
            db.session.commit()
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


@bp.get("/staff")
@login_required
def home():
    """Where staff land: the events they may work on."""
    if current_user.role == Role.organizer:
        events = db.session.scalars(select(Event).order_by(Event.id.desc())).all()
    else:
        events = current_user.events
    return render_template("auth/home.html", events=events)


def desk_access(view):
    """Loads ``event_id`` into ``event``; only organizers and reception staff assigned to it."""

    @wraps(view)
    @login_required
    def wrapped(event_id: int, **kwargs):
        event = db.session.get(Event, event_id)
        if event is None or not staff.can_use_desk(current_user, event.id):
            abort(404)  # not 403: staff learn nothing about events they do not work on
        return view(event=event, **kwargs)

    return wrapped


def organizer_only(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role != Role.organizer:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
