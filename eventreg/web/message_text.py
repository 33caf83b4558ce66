"""What an organizer's message says to one recipient: the placeholders' values, formatted for
people (dates through the Jinja filters' functions), and the filled subject and body.

Used by the worker when it delivers a ``message`` row and by the compose page's preview, so the
preview is the email. domain.communication.attendee_messages does the substitution (plain text, never template code);
the HTML body is escaped here, with its line breaks and its links kept.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from ..domain.communication import attendee_messages
from ..extensions import db
from ..models import AttendeeMessage
from . import filters

_URL = re.compile(r"https?://[^\s<>\"'「」、。()()]+")


def placeholder_values(ctx: dict, lang: str) -> dict[str, str]:
    """The value of each placeholder for the registration of ``ctx`` (domain.registration.passes.pass_context)."""
    event, session, attendee, links = ctx["event"], ctx["session"], ctx["attendee"], ctx["links"]
    tz = event["timezone"]
    venue = " ".join(part for part in (event["venue_name"], event["venue_address"]) if part)
    return {
        "name": attendee["full_name"], "furigana": attendee["full_kana"], "event": event["title"],
        "session": session["title"] or filters.day(session["starts_at"], tz, lang),
        "date": filters.when(session, tz, lang), "venue": venue,
        "pass_link": links["registration"], "cancel_link": links["cancel"],
    }


def html_body(text: str) -> Markup:
    """Plain text as HTML: escaped, each line break a <br>, each http(s) URL a link."""
    out = []
    for line in text.split("\n"):
        pieces, last = [], 0
        for match in _URL.finditer(line):
            url = match.group(0)
            pieces += [escape(line[last:match.start()]), Markup('<a href="{0}">{0}</a>').format(url)]
            last = match.end()
        pieces.append(escape(line[last:]))
        out.append(Markup("").join(pieces))
    return Markup("<br>\n").join(out)


def filled(subject: str, body: str, ctx: dict, lang: str) -> dict:
    """Template values for mail/<lang>/message.*: ``message_subject``, ``message_body``, ``message_html``."""
    values = placeholder_values(ctx, lang)
    text = attendee_messages.fill(body, values)
    return {"message_subject": " ".join(attendee_messages.fill(subject, values).split()), "message_body": text,
            "message_html": html_body(text)}


def for_row(attendee_message_id: int | None, ctx: dict, lang: str) -> dict:
    """For the worker: the message an outbox row delivers, filled in for its registration."""
    message = db.session.get(AttendeeMessage, attendee_message_id) if attendee_message_id else None
    if message is None:
        raise LookupError(f"attendee message #{attendee_message_id} is gone")
    # Organizer messages only carry List-Unsubscribe: mail about the registration itself still goes.
    return {**filled(message.subject, message.body, ctx, lang), "list_unsubscribe": ctx["links"]["unsubscribe"]}
