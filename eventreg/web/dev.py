"""Development only: the mail catcher's inbox (never registered in production).

GET /_dev/mail          messages caught by ``flask --app wsgi mailcatcher``, newest first
GET /_dev/mail/<name>   one message: headers, text, HTML and attachments
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, send_file

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
