"""Development only: the mail catcher's inbox and the development clock (never registered in
production: web/__init__.py registers this blueprint only when ENV is development).

GET /_dev/mail          messages caught by ``flask --app wsgi mailcatcher``, newest first
GET /_dev/mail/<name>   one message: headers, text, HTML and attachments
GET, POST /_dev/clock   the app's time (eventreg/clock.py): set to a local time, shift, back to real

The blueprint also puts the clock banner on every page while the clock is not real time.
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from .. import clock
from .filters import hm, zone

bp = Blueprint("dev", __name__, url_prefix="/_dev")


def _folder() -> Path:
    return Path(current_app.config["MAILBOX_DIR"])


def _message_path(name: str) -> Path:
    path = (_folder() / name).resolve()
    if path.parent != _folder().resolve() or path.suffix != ".eml" or not path.is_file():
        abort(404)
    return path


@bp.get("/mail")
def mailbox():
    files = sorted(_folder().glob("*.eml"), reverse=True)[:200] if _folder().is_dir() else []
    messages = []
    for path in files:
        with path.open("rb") as fh:
            msg = email.message_from_binary_file(fh, policy=email.policy.default)
        messages.append({"name": path.name, "subject": msg["subject"], "to": msg["to"], "date": msg["date"]})
    return render_template("dev/mailbox.html", messages=messages, folder=_folder())


@bp.get("/mail/<name>")
def message(name: str):
    with _message_path(name).open("rb") as fh:
        msg = email.message_from_binary_file(fh, policy=email.policy.default)
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    attachments = [(part.get_filename(), part.get_content_type()) for part in msg.iter_attachments()]
    return render_template(
        "dev/message.html", name=name, msg=msg, attachments=attachments,
        text=text.get_content() if text else "", html=html.get_content() if html else "",
    )


@bp.get("/mail/<name>/raw")
def raw(name: str):
    return send_file(_message_path(name), mimetype="message/rfc822", as_attachment=True)


# ---- the development clock ---------------------------------------------------------------------

def _zone() -> str:
    return current_app.config["DEFAULT_TIMEZONE"]


@bp.app_context_processor
def _clock_banner():
    """``dev_clock``: the banner text while the clock is not real time (base.html shows it)."""
    if clock.current() is None:
        return {"dev_clock": None}
    now = clock.utcnow()
    return {"dev_clock": _("Development clock: %(time)s", time=_stamp(now, _zone()))}


def _stamp(moment: datetime, tz: str) -> str:
    """2019-02-07 12:01 (JST): the same in every language, short enough for a phone's banner."""
    local = moment.astimezone(ZoneInfo(tz))
    return f"{local:%Y-%m-%d} {hm(moment, tz)} ({zone(moment, tz, 'en')})"


@bp.get("/clock")
def clock_page():
    return _render_clock()


def _render_clock(error: str = "", status: int = 200):
    now, tz = clock.utcnow(), _zone()
    override = clock.current()
    kind = "real" if override is None else ("fixed" if isinstance(override, datetime) else "shift")
    local = now.astimezone(ZoneInfo(tz))
    return render_template(
        "dev/clock.html", now=now, tz=tz, kind=kind, setting=clock.setting() if override is not None else "",
        local_text=f"{local:%Y-%m-%d %H:%M:%S} ({zone(now, tz, 'en')})", utc_text=f"{now:%Y-%m-%d %H:%M:%S} UTC",
        local_value=f"{local:%Y-%m-%dT%H:%M}", error=error, form=request.form,
    ), status


@bp.post("/clock")
def clock_change():
    action = request.form.get("action", "")
    try:
        if action == "set":
            setting = _set_to(request.form.get("at", ""), run=request.form.get("mode") == "run")
        elif action == "shift":
            setting = clock.shifted(request.form.get("by", ""))
        elif action == "reset":
            setting = ""
        else:
            return _render_clock(_("Choose what to do with the clock."), 400)
        clock.set_setting(setting)
    except clock.BadClock:
        words = {"set": _("Enter a date and time, e.g. 2019-02-07 12:01."),
                 "shift": _("Enter a shift such as +1d, -2h or +30m.")}
        return _render_clock(words[action], 400)
    flash(_("The clock now shows %(time)s.", time=_stamp(clock.utcnow(), _zone())))
    return redirect(url_for("dev.clock_page"))


def _set_to(text: str, *, run: bool) -> str:
    """A date-time typed in the default time zone (``2019-02-07T12:01``): a fixed setting, or
    with ``run`` the shift that starts the clock there and lets it run on."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise clock.BadClock(text) from None
    if naive.tzinfo is not None:
        moment = naive
    else:
        try:
            moment = naive.replace(tzinfo=ZoneInfo(_zone()))
        except (ValueError, OverflowError):
            raise clock.BadClock(text) from None
    try:
        setting = clock.running_from(moment) if run else moment.isoformat()
    except OverflowError:
        raise clock.BadClock(text) from None
    clock.parse(setting)  # within the bounds
    return setting
