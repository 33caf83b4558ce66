"""Messages to attendees (domain.communication.attendee_messages): compose, preview, send now or at a time, history.

GET       /admin/events/<event_id>/messages                         every message, its status and counts
GET, POST /admin/events/<event_id>/messages/new                     compose (the filter from the query string)
GET       /admin/events/<event_id>/messages/count                   how many a filter selects now (JSON, for compose)
GET       /admin/events/<event_id>/messages/<message_id>            preview and send (a draft), or its history
GET, POST /admin/events/<event_id>/messages/<message_id>/edit       change a draft
POST      /admin/events/<event_id>/messages/<message_id>/send       now, or at a time (event's time zone)
POST      /admin/events/<event_id>/messages/<message_id>/cancel     take back a scheduled message or a draft

Reading needs Capability.view; writing and sending Capability.manage_registrations.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, get_template_attribute, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ... import clock
from ...domain.access.permissions import Capability
from ...domain.backoffice import roster
from ...domain.backoffice.roster import ListFilter
from ...domain.communication import attendee_messages
from ...domain.errors import DomainError
from ...domain.registration import passes
from ...extensions import db
from ...models import AttendeeMessage, Event, MessageStatus
from .. import message_text
from ..access import event_access
from ..error_words import words
from ..field_words import sector_names
from ..links import masked_links
from ..status_words import STATUS_WORDS
from . import bp
from .attendees import STATUS_CHOICES, session_label

PER_PAGE = 200
HELP = {
    "name": _l("the attendee's name"), "furigana": _l("the name's furigana"), "event": _l("the event's title"),
    "session": _l("the session (e.g. 第2回)"), "date": _l("the session's date and time"),
    "venue": _l("the venue and its address"), "pass_link": _l("the link to the attendee's entry pass"),
    "cancel_link": _l("the link to cancel the registration"),
}
# A message's state as people read it: a queued one is 送信中 until its last outbox row is done.
MESSAGE_WORDS = {**{s.value: words for s, words in STATUS_WORDS[MessageStatus].items()},
                 "sending": _l("Sending"), "sent": STATUS_WORDS[MessageStatus][MessageStatus.queued]}


def _message_event(kwargs: dict) -> int | None:
    message = db.session.get(AttendeeMessage, kwargs.pop("message_id"))
    event_id = kwargs.pop("event_id")
    if message is None or message.event_id != event_id:
        abort(404)
    kwargs["msg"] = message
    return event_id


def _errors(exc: attendee_messages.MessageProblems) -> dict[str, list[str]]:
    return {field: [words(p.code, token=p.token, line=p.line, max=p.token) for p in found]
            for field, found in exc.problems.items()}


def _compose(event: Event, flt: ListFilter, subject: str, body: str, errors=None, msg=None, status=200):
    now = clock.utcnow()
    return render_template(
        "admin/messages_compose.html", event=event, flt=flt, subject=subject, body=body, errors=errors or {},
        msg=msg, count=attendee_messages.recipient_count(event, flt, now=now),
        stopped=attendee_messages.stopped_count(event, flt, now=now), placeholders=attendee_messages.PLACEHOLDERS,
        aliases={v: k for k, v in reversed(list(attendee_messages.ALIASES.items()))}, help=HELP,
        status_choices=STATUS_CHOICES, sectors=sector_names(),
    ), status


@bp.get("/events/<int:event_id>/messages")
@event_access(Capability.view)
def messages_list(event: Event):
    found = attendee_messages.event_messages(event.id)
    counts = attendee_messages.delivery_counts([m.id for m in found])
    return render_template("admin/messages.html", event=event, found=found, words=MESSAGE_WORDS, counts=counts,
                           progress={m.id: attendee_messages.progress(m, counts[m.id]) for m in found})


@bp.get("/events/<int:event_id>/messages/count")
@event_access(Capability.manage_registrations)
def message_count(event: Event):
    """What the compose page says of its filter, as the filter changes: the same count as sending
    (attendee_messages.recipient_count) and the same words as the page (messages_macros.html)."""
    now, flt = clock.utcnow(), ListFilter.from_args(request.args)
    count = attendee_messages.recipient_count(event, flt, now=now)
    stopped = attendee_messages.stopped_count(event, flt, now=now)
    words = get_template_attribute("admin/messages_macros.html", "recipient_words")(count, stopped)
    return jsonify(count=count, stopped=stopped, words=" ".join(str(words).split()))


@bp.route("/events/<int:event_id>/messages/new", methods=["GET", "POST"])
@event_access(Capability.manage_registrations)
def message_new(event: Event):
    source = request.form if request.method == "POST" else request.args
    flt = ListFilter.from_args(source)
    subject, body = source.get("subject", "")[:1000], source.get("body", "")[:40_000]
    if request.method == "GET" or "recount" in request.form:  # without JavaScript: count again, save nothing
        return _compose(event, flt, subject, body)
    try:
        msg = attendee_messages.save_draft(event, subject=subject, body=body, flt=flt, actor=current_user, now=clock.utcnow())
    except attendee_messages.MessageProblems as exc:
        return _compose(event, flt, subject, body, _errors(exc), status=422)
    db.session.commit()
    return redirect(url_for("admin.message_page", event_id=event.id, message_id=msg.id), 303)


@bp.route("/events/<int:event_id>/messages/<int:message_id>/edit", methods=["GET", "POST"])
@event_access(Capability.manage_registrations, via=_message_event)
def message_edit(event: Event, msg: AttendeeMessage):
    if msg.status != MessageStatus.draft:
        flash(words("message_not_draft"), "error")
        return redirect(url_for("admin.message_page", event_id=event.id, message_id=msg.id), 303)
    if request.method == "GET":
        return _compose(event, attendee_messages.filter_of(msg), msg.subject, msg.body, msg=msg)
    flt = ListFilter.from_args(request.form)
    subject, body = request.form.get("subject", "")[:1000], request.form.get("body", "")[:40_000]
    if "recount" in request.form:  # without JavaScript: count again, save nothing
        return _compose(event, flt, subject, body, msg=msg)
    try:
        attendee_messages.save_draft(event, subject=subject, body=body, flt=flt, actor=current_user, now=clock.utcnow(),
                            message=msg)
    except attendee_messages.MessageProblems as exc:
        db.session.rollback()
        return _compose(event, flt, subject, body, _errors(exc), msg=msg, status=422)
    except DomainError:  # sent or scheduled by someone else while this page was open
        db.session.rollback()
        flash(words("message_edit_lost"), "error")
        return redirect(url_for("admin.message_page", event_id=event.id, message_id=msg.id), 303)
    db.session.commit()
    return redirect(url_for("admin.message_page", event_id=event.id, message_id=msg.id), 303)


def _preview(event: Event, msg: AttendeeMessage, flt: ListFilter, now) -> dict | None:
    """The email one real recipient would get (the chosen one, else the first), its secret masked."""
    who = attendee_messages.sample_recipient(event, flt, now=now, registration_id=roster.parse_id(request.args.get("to")))
    if who is None:
        return None
    ctx = passes.pass_context(who, masked_links(who))
    lang = event.language if event.language in ("ja", "en") else "ja"
    ctx.update(message_text.filled(msg.subject, msg.body, ctx, lang), kind="message", lang=lang)
    return {"who": who, "subject": ctx["message_subject"], "choices": attendee_messages.first_recipients(event, flt, now=now),
            "text": render_template(f"mail/{lang}/message.txt", ctx=ctx, **ctx)}


def _page_number(value) -> int:
    value = value if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 6 else "1"
    return max(1, int(value))


@bp.get("/events/<int:event_id>/messages/<int:message_id>")
@event_access(Capability.view, via=_message_event)
def message_page(event: Event, msg: AttendeeMessage):
    now = clock.utcnow()
    flt = attendee_messages.filter_of(msg)
    page = _page_number(request.args.get("page"))
    counts = attendee_messages.delivery_counts([msg.id])[msg.id]
    sent_rows = attendee_messages.deliveries(msg.id, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    pending = msg.status in (MessageStatus.draft, MessageStatus.scheduled)
    return render_template(
        "admin/message.html", event=event, msg=msg, flt=flt, words=MESSAGE_WORDS, counts=counts, rows=sent_rows,
        progress=attendee_messages.progress(msg, counts),
        page=page, pages=max(1, -(-sum(counts.values()) // PER_PAGE)), now=now,
        count=attendee_messages.recipient_count(event, flt, now=now) if pending else msg.recipient_count,
        stopped=attendee_messages.stopped_count(event, flt, now=now) if pending else 0,
        preview=_preview(event, msg, flt, now) if pending else None,
        filter_words=_filter_words(event, flt), local_now=now.astimezone(ZoneInfo(event.timezone)),
    )


def _filter_words(event: Event, flt: ListFilter) -> list[str]:
    words = [str(dict(STATUS_CHOICES)[flt.status])]
    if flt.session_id:
        words += [session_label(s, event) for s in event.sessions if s.id == flt.session_id]
    if flt.sector:
        words.append(sector_names().get(flt.sector, flt.sector))
    if flt.walk_in is not None:
        words.append(_("Walk-ins only") if flt.walk_in else _("Registered in advance"))
    if flt.q:
        words.append(f"「{flt.q}」")
    if flt.question_id:
        words.append(_("an answer"))
    return words


def _send_at(event: Event, value: str) -> datetime | None:
    """A datetime-local value ("2026-12-20T10:00") in the event's time zone, as UTC; None if unreadable."""
    try:
        local = datetime.strptime((value or "").strip()[:16], "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return local.replace(tzinfo=ZoneInfo(event.timezone))


@bp.post("/events/<int:event_id>/messages/<int:message_id>/send")
@event_access(Capability.manage_registrations, via=_message_event)
def message_send(event: Event, msg: AttendeeMessage):
    now = clock.utcnow()
    back = redirect(url_for("admin.message_page", event_id=event.id, message_id=msg.id), 303)
    if request.form.get("when") == "later":
        send_at = _send_at(event, request.form.get("send_at", ""))
        if send_at is None:
            flash(_("Enter the date and time to send."), "error")
            return back
        try:
            attendee_messages.schedule(msg, send_at, actor=current_user, now=now)
        except DomainError as exc:
            db.session.rollback()
            flash(words(exc.code), "error")
            return back
        db.session.commit()
        flash(_("The message will be sent at the time you chose."))
        return back
    expected = request.form.get("expected", "")
    count = attendee_messages.recipient_count(event, attendee_messages.filter_of(msg), now=now)
    if expected != str(count):
        flash(_("The number of recipients changed to %(n)s since the page was shown. Check, then send again.", n=count),
              "error")
        return back
    made = attendee_messages.queue(msg.id, now, actor=current_user)
    if made is None:
        db.session.rollback()
        flash(words("message_not_draft"), "error")
        return back
    db.session.commit()
    flash(_("The message is on its way to %(n)s people.", n=made))
    return back


@bp.post("/events/<int:event_id>/messages/<int:message_id>/cancel")
@event_access(Capability.manage_registrations, via=_message_event)
def message_cancel(event: Event, msg: AttendeeMessage):
    try:
        attendee_messages.cancel(msg, actor=current_user, now=clock.utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(words(exc.code), "error")
    else:
        db.session.commit()
        flash(_("The message was cancelled; it will not be sent."))
    return redirect(url_for("admin.message_page", event_id=event.id, message_id=msg.id), 303)
