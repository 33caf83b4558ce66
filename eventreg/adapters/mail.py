"""Outgoing email: build a Flask-Mail message from plain values, and send it over SMTP.

Templates live in templates/mail/<lang>/ (subject.txt, <kind>.txt, <kind>.html; the HTML
extends mail/layout.html). The Message-ID is derived from the outbox row, so every retry of
one message carries the same ID and a mail client can drop a duplicate.

What SMTP can promise: a 250 reply to DATA means the receiving server took responsibility for
the message. It cannot tell us it reached the inbox, and if the connection breaks after DATA but
before the reply we cannot know either way; the worker then retries and the recipient may get
the same message (same Message-ID) twice. At least once, never "exactly once".
"""

from __future__ import annotations

import re
import smtplib
from email.utils import parseaddr

from flask import current_app, render_template
from flask_mail import Connection, Message

from ..extensions import mail
from . import ics, pdf

SMTP_TIMEOUT = 30  # seconds, for connecting and for every read/write on the socket
LANGUAGES = ("ja", "en")
WITH_PASS = ("confirmation", "promoted")  # kinds that attach the pass PDF and the .ics


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def build_message(ctx: dict, kind: str, message_id_left: str) -> Message:
    """The email of ``kind`` for the registration described by ``ctx`` (domain.passes.pass_context)."""
    lang = ctx["event"]["language"] if ctx["event"]["language"] in LANGUAGES else "ja"
    values = dict(ctx, ctx=ctx, kind=kind, lang=lang)
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    message = Message(
        subject=_one_line(render_template(f"mail/{lang}/subject.txt", **values)),
        recipients=[(ctx["attendee"]["full_name"], ctx["attendee"]["email"])],
        body=render_template(f"mail/{lang}/{kind}.txt", **values),
        html=render_template(f"mail/{lang}/{kind}.html", **values),
        sender=sender,
        reply_to=ctx["event"]["contact_email"] or None,
        extra_headers={"Auto-Submitted": "auto-generated"},  # RFC 3834: no vacation replies
    )
    message.msgId = f"<{message_id_left}@{_domain(sender)}>"
    if kind in WITH_PASS:
        message.attach("pass.pdf", "application/pdf", pdf.render_pass(ctx))
        message.attach("calendar.ics", "text/calendar; charset=utf-8", ics.session_event(ctx))
    return message


class _TimedConnection(Connection):
    """Flask-Mail 0.10 opens smtplib.SMTP without a timeout; a stuck server would hang forever."""

    def configure_host(self):
        state = self.mail
        smtp_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp_class(state.server, state.port, timeout=SMTP_TIMEOUT)
        try:
            if state.use_tls:
                host.starttls()
            if state.username and state.password:
                host.login(state.username, state.password)
        except BaseException:
            host.close()
            raise
        return host

    def __exit__(self, exc_type, exc_value, tb):
        if self.host is None:
            return
        if exc_type is not None:
            self.host.close()
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            # The message was accepted already; a failed QUIT must not make us send it again.
            self.host.close()


def send(message: Message) -> None:
    """Sends one message. Raises smtplib.SMTPException or OSError when delivery fails.

    The SMTP settings are read from the current app's config at each call (Flask-Mail copies
    them once in init_app), so a changed MAIL_SERVER/MAIL_PORT takes effect. Unlike Flask-Mail,
    TESTING does not suppress sending; MAIL_SUPPRESS_SEND=True still does.
    """
    app = current_app._get_current_object()
    state = mail.init_mail(app.config, app.debug, testing=False)
    with _TimedConnection(state) as connection:
        connection.send(message)
