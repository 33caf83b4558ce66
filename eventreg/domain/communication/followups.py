"""The post-event loop (開催後のフォロー): after each session, one tick sends three things, each once.

**The rule.** When the loop runs is a domain.timing.rules text on the event (``followup_rule``,
"end+30m": 30 minutes after the session ends, the default), resolved per session by
domain.timing.schedule into one ScheduledTask of kind ``followup``: it moves with its session, and
turning every part off removes the pending tasks. The periodic tick (domain.timing.periodic) does
the task once: its conditional "done" UPDATE runs in the same transaction as ``queue``.

**The three parts**, each on or off per event (``followup_survey``, ``followup_noshow``,
``followup_certificate``), to the session's *confirmed* registrations with an email address
(never the waiting list, the cancelled, an unconfirmed hold):

- ``survey``: the survey invitation with the person's own link, to those who came
  (``checked_in_at IS NOT NULL``: the desk on site, the join link online). Only when the event
  has a survey (domain.insight.surveys).
- ``noshow``: a separate note to those who did not come: the organizer's words and the
  materials link if the event has one.
- ``certificate``: the certificate of attendance (PDF attached), to those who came; it is
  issued here (domain.registration.certificates.issue, once per registration) and rendered by
  the worker at delivery. Never to someone whose certificate was withdrawn (nor resent to them).

**Opt-outs.** The survey invitation and the no-show note are organizer messages: people who
stopped the event's organizer messages (domain.communication.opt_outs) do not get them. The
certificate is about the person's own registration, like its confirmation: it goes to them too.

**Exactly once, however many workers.** Each row is keyed ``followup:<part>:<registration id>``
and inserted with the outbox's ``INSERT … ON CONFLICT (idempotency_key) DO NOTHING``: the task's
guard keeps the effect to one worker, and the key keeps a second run (another worker, a restart,
"send what is missing", a rescheduled task) from adding a second copy. A resend by staff is a
row of its own (key ``followup:<part>:<registration id>:resend:<n>``), counted apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from eventreg.domain.backoffice import audit
from eventreg.domain.communication import opt_outs, outbox
from eventreg.domain.errors import DomainError
from eventreg.domain.insight import surveys
from eventreg.domain.registration import certificates
from eventreg.domain.timing import schedule
from eventreg.domain.timing.rules import parse
from eventreg.extensions import db
from eventreg.models import (
    Event,
    EventSession,
    MailKind,
    OutboxMessage,
    OutboxStatus,
    Registration,
    ScheduledTask,
    Status,
    TaskKind,
)

PARTS = ("survey", "noshow", "certificate")
# A new event has every part on (events.build): the loop is what a seminar ends with, and the
# organizer turns off what this one does not need on the 開催後 tab (or ``after_event`` in a
# YAML file). Events made before the loop existed keep all three off (migration 0015): their
# attendees were never told of a survey or a certificate.
NEW_EVENT_PARTS = {part: True for part in PARTS}
KINDS = {"survey": MailKind.followup_survey, "noshow": MailKind.followup_noshow,
         "certificate": MailKind.followup_certificate}
# Parts that are organizer messages: left out for people who stopped them.
ORGANIZER_MESSAGES = ("survey", "noshow")
MAX_NOSHOW_TEXT = 5000
MAX_URL = 500
_URL = re.compile(r"https?://[^\s<>\"'\\]+", re.ASCII)


def enabled(event: Event, part: str) -> bool:
    return bool(getattr(event, f"followup_{part}"))


def check_rule(value: str) -> str:
    """The loop's rule as normal text ("end+30m"); DomainError ``followup_rule`` for anything
    that is not a time after the session's end."""
    try:
        rule = parse(value, after_end=True)
    except DomainError:
        raise DomainError("followup_rule", (value or "")[:40]) from None
    if rule.kind != "after_end":
        raise DomainError("followup_rule", (value or "")[:40])
    return rule.text()


def check_url(value: str) -> str:
    """A materials link: "" or one http(s) URL; DomainError ``materials_url`` otherwise."""
    value = (value or "").strip()
    if value and (len(value) > MAX_URL or not _URL.fullmatch(value)):
        raise DomainError("materials_url", value[:40])
    return value


def update(event: Event, *, rule: str, parts: dict[str, bool], noshow_text: str, materials_url: str,
           actor, now: datetime) -> dict[str, list]:
    """Saves the loop's settings and moves (or adds, or removes) its tasks; returns what changed.
    DomainError ``followup_rule``, ``materials_url``, ``noshow_text_too_long``; nothing is changed then."""
    text = (noshow_text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > MAX_NOSHOW_TEXT:
        raise DomainError("noshow_text_too_long", str(MAX_NOSHOW_TEXT))
    values = {"followup_rule": check_rule(rule), "noshow_text": text, "materials_url": check_url(materials_url),
              **{f"followup_{part}": bool(parts.get(part)) for part in PARTS}}
    if values["followup_rule"] == schedule.FOLLOWUP_DEFAULT:
        values["followup_rule"] = None
    changed = {}
    for name, value in values.items():
        if getattr(event, name) != value:
            changed[name] = [getattr(event, name), value]
            setattr(event, name, value)
    if changed:
        db.session.flush()
        schedule.reschedule(event)
        audit.record(event.id, "followup_settings", actor=actor, now=now,
                     changed={k: v for k, v in changed.items() if k != "noshow_text"})
    return changed


# --- who gets what ------------------------------------------------------------------------


def _who(event_id: int, session_id: int, part: str) -> tuple:
    """The conditions on Registration for ``part`` of one session's loop."""
    conditions = [Registration.session_id == session_id, Registration.status == Status.confirmed,
                  Registration.email.is_not(None), Registration.email != ""]
    came = Registration.checked_in_at.is_not(None)
    conditions.append(~came if part == "noshow" else came)
    if part in ORGANIZER_MESSAGES:
        conditions.append(opt_outs.receives_messages(event_id))
    if part == "certificate":  # a withdrawn certificate is never mailed again
        conditions.append(certificates.not_withdrawn())
    return tuple(conditions)


def survey_ready(event: Event) -> bool:
    """Whether the event has a survey to invite people to."""
    return surveys.survey_of(event.id) is not None


def available(event: Event, part: str) -> bool:
    """Whether ``part`` can be sent for this event now (on, and what it needs exists)."""
    if not enabled(event, part):
        return False
    return survey_ready(event) if part == "survey" else True


def recipients(event: Event, session_id: int, part: str) -> list[int]:
    """Registration ids ``part`` of the session's loop goes to (whether or not it is on)."""
    return list(db.session.scalars(select(Registration.id).where(*_who(event.id, session_id, part))
                                   .order_by(Registration.id)))


def has_work(event: Event, session: EventSession | None) -> bool:
    """Whether the session's loop would send anything (a part on, and someone it goes to)."""
    if session is None:
        return False
    return any(available(event, part) and db.session.scalar(
        select(Registration.id).where(*_who(event.id, session.id, part)).limit(1)) is not None for part in PARTS)


def key(part: str, registration_id: int) -> str:
    """The outbox idempotency key of one person's copy of one part."""
    return f"followup:{part}:{registration_id}"


def queue(event: Event, session: EventSession, now: datetime) -> dict[str, int]:
    """Queues each part that is on for everyone it goes to, skipping the keys queued already;
    returns how many rows each part added. Issues the certificates it sends (flushes)."""
    added = {}
    for part in PARTS:
        if not available(event, part):
            continue
        people = db.session.execute(select(Registration.id, Registration.language)
                                    .where(*_who(event.id, session.id, part)).order_by(Registration.id)).all()
        if part == "certificate":
            certificates.issue_for([registration_id for registration_id, _ in people], now)
        rows = [outbox.attendee_row(registration_id, KINDS[part], now,
                                    language=lang if lang in outbox.LANGUAGES else None,
                                    context={"session_id": session.id}, idempotency_key=key(part, registration_id))
                for registration_id, lang in people]
        added[part] = outbox.insert_once(rows)
    db.session.flush()
    return added


def send_missing(event: Event, session: EventSession, *, actor, now: datetime) -> int:
    """After the session has ended: queues each part that is on for whoever it goes to and has
    not had it yet (a part turned on after the loop ran, a late check-in), keyed as the loop's own
    rows, so nobody gets a second copy; returns how many were queued. DomainError
    ``followup_too_early`` before the session's end (the loop itself will send)."""
    if now < session.ends_at:
        raise DomainError("followup_too_early")
    added = sum(queue(event, session, now).values())
    if added:
        audit.record(event.id, "followup_sent_by_hand", actor=actor, now=now,
                     changed={"session_id": [None, session.id], "queued": [None, added]})
    return added


def resend(registration: Registration, part: str, *, actor, now: datetime) -> None:
    """One more copy of ``part`` to this one person (staff, from the registration page).
    DomainError: ``followup_part`` (no such part), ``no_email``, ``followup_not_confirmed``, ``followup_not_attended``
    (a survey or certificate for someone who did not come), ``followup_attended`` (a no-show note to
    someone who came), ``followup_unavailable`` (a survey invitation when the event has no survey),
    ``certificate_withdrawn`` (the person's certificate was withdrawn: never mailed again)."""
    if part not in PARTS:
        raise DomainError("followup_part", str(part)[:20])
    if registration.status != Status.confirmed:
        raise DomainError("followup_not_confirmed")
    if not registration.email:
        raise DomainError("no_email")
    came = registration.checked_in_at is not None
    if part == "noshow" and came:
        raise DomainError("followup_attended")
    if part != "noshow" and not came:
        raise DomainError("followup_not_attended")
    if part == "survey" and not survey_ready(registration.event):
        raise DomainError("followup_unavailable")
    if part == "certificate":
        certificates.to_hand_out(registration, now)
    earlier = db.session.scalar(select(func.count()).where(
        OutboxMessage.idempotency_key.startswith(key(part, registration.id) + ":resend:"))) or 0
    outbox.enqueue(registration.id, KINDS[part], now, context={"session_id": registration.session_id, "resent": True},
                   idempotency_key=f"{key(part, registration.id)}:resend:{earlier + 1}")
    audit.record(registration.event_id, f"followup_{part}_resent", actor=actor, now=now,
                 registration_id=registration.id)
    db.session.flush()


# --- the back office's view ---------------------------------------------------------------


@dataclass(frozen=True)
class PartCount:
    part: str
    on: bool
    sent: int  # accepted by the SMTP server
    queued: int  # rows made by the loop (not resends)
    eligible: int  # people it goes to now


@dataclass(frozen=True)
class SessionLoop:
    session: EventSession
    due_at: datetime  # the rule resolved for this session
    state: str  # "pending" | "done" | "missed" | "skipped" | "off" (no task: every part off)
    done_at: datetime | None
    parts: list[PartCount]


def _sent_counts(session_id: int) -> dict[MailKind, tuple[int, int]]:
    rows = db.session.execute(
        select(OutboxMessage.kind, func.count(), func.count().filter(OutboxMessage.status == OutboxStatus.sent))
        .join(Registration, Registration.id == OutboxMessage.registration_id)
        .where(Registration.session_id == session_id, OutboxMessage.kind.in_(list(KINDS.values())),
               OutboxMessage.idempotency_key.not_like("%:resend:%"))
        .group_by(OutboxMessage.kind)).all()
    return {kind: (queued, sent) for kind, queued, sent in rows}


def overview(event: Event) -> list[SessionLoop]:
    """Each session with its loop's time and state, and per part: sent n of N."""
    tasks = {task.session_id: task for task in db.session.scalars(select(ScheduledTask).where(
        ScheduledTask.event_id == event.id, ScheduledTask.kind == TaskKind.followup))}
    found = []
    for session in event.sessions:
        task = tasks.get(session.id)
        counts = _sent_counts(session.id)
        parts = []
        for part in PARTS:
            queued, sent = counts.get(KINDS[part], (0, 0))
            eligible = db.session.scalar(select(func.count()).select_from(Registration)
                                         .where(*_who(event.id, session.id, part))) or 0
            parts.append(PartCount(part, enabled(event, part), sent, queued, eligible))
        if task is None:
            state, done_at = "off", None
        elif task.done_at is None:
            state, done_at = "pending", None
        else:
            state, done_at = {"done": "done", "missed": "missed"}.get(task.outcome or "", "skipped"), task.done_at
        found.append(SessionLoop(session, schedule.due_at(TaskKind.followup, event, session), state, done_at, parts))
    return found


def preview_registration(event: Event, part: str, registration_id: int | None = None) -> Registration | None:
    """The person a preview of ``part`` is shown for: the one asked for (if it is this event's),
    else the first it goes to in the first session that has one, else anyone confirmed."""
    if registration_id is not None:
        registration = db.session.get(Registration, registration_id)
        return registration if registration is not None and registration.event_id == event.id else None
    for session in event.sessions:
        found = recipients(event, session.id, part)
        if found:
            return db.session.get(Registration, found[0])
    return db.session.scalar(select(Registration).where(Registration.event_id == event.id,
                                                        Registration.status == Status.confirmed)
                             .order_by(Registration.id).limit(1))
