"""Events created and changed from checked values (domain.backoffice.event_checks), and their status.

The changes (``create_event``, ``update_event``, ``set_status``, ``delete_event``) take the actor
and ``now``, write an audit entry with what changed, flush, and never commit; sessions, questions
and cloning have modules of their own beside this one. Refusals are DomainErrors with stable codes:

- an event that anyone ever registered for (even cancelled) is not deleted (``event_has_registrations``);
- status moves only draft → published → closed, closed → published, and published → draft while
  nobody registered (``status_change_refused``); publishing needs a session (``no_sessions``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from eventreg.domain.access import accounts
from eventreg.domain.backoffice import audit
from eventreg.domain.backoffice.event_checks import TEXT_FIELDS, clean_event, clean_question, clean_session
from eventreg.domain.communication import followups, reminders
from eventreg.domain.errors import DomainError
from eventreg.domain.timing import deadlines, schedule
from eventreg.extensions import db
from eventreg.models import Event, EventRole, EventSession, EventStatus, Question, Registration

# --- building -------------------------------------------------------------------------------

def new_slug() -> str:
    """A free slug: ``e-`` and 8 random hex digits (titles are often Japanese)."""
    while True:
        slug = f"e-{secrets.token_hex(4)}"
        if not db.session.scalar(select(Event.id).where(Event.slug == slug)):
            return slug


def build(event_values: dict, sessions: list[dict], questions: list[dict], *,
          status: EventStatus = EventStatus.draft, reminder_rules=(reminders.DEFAULT_RULE,),
          now: datetime | None = None) -> Event:
    """A new, unsaved Event from values that ``clean_*`` returned; windows resolved. It gets
    the reminder rules given (by default one: the day before at 10:00, domain.communication.reminders)
    and the post-event loop's parts on unless the values say (followups.NEW_EVENT_PARTS),
    created at ``now`` (None, from a caller that has no time to give: the rules' creation time is
    then unknown and stored as 1970-01-01, ``UNKNOWN_TIME``)."""
    values = {**{f"followup_{part}": on for part, on in followups.NEW_EVENT_PARTS.items()}, **event_values}
    slug = values.pop("slug", None) or new_slug()
    event = Event(slug=slug, status=status, pass_key=secrets.token_urlsafe(32), **values)
    for s in sessions:
        event.sessions.append(EventSession(seats_taken=0, sequence=0, **s))
    for position, q in enumerate(questions, 1):
        event.questions.append(Question(position=position, hidden=False, **q))
    for session in event.sessions:
        deadlines.resolve_window(event, session)
    event.reminders.extend(reminders.new_rules(reminder_rules, now or UNKNOWN_TIME))
    return event


UNKNOWN_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if hasattr(value, "value") and not isinstance(value, (str, int, bool)):
        return value.value
    if isinstance(value, (str, int, bool, float, type(None), list, dict)):
        return value
    return str(value)


def snapshot(obj, names) -> dict:
    return {name: _plain(getattr(obj, name)) for name in names}


_EVENT_FIELDS = (*TEXT_FIELDS, "contact_email", "language", "timezone", "waitlist_enabled", "confirm_email", "hold_minutes",
                 "registration_opens_at", *deadlines.NO_EVENT_RULE, "slug")


def create_event(values: Mapping[str, Any], *, actor, now: datetime, sessions: list = (),
                 questions: list = ()) -> Event:
    """A new draft from form values (``clean_event``), with sessions and questions from plain
    values; ``actor`` becomes its owner. Flushes."""
    cleaned = clean_event(values)
    tz_name = cleaned["timezone"]
    event = build(cleaned, [clean_session(s, tz_name) for s in sessions], [clean_question(q) for q in questions],
                  now=now)
    return save_new(event, "event_created", audit.changes({}, snapshot(event, ("title", "slug"))),
                     actor=actor, now=now)


def save_new(event: Event, action: str, changed: dict, *, actor, now: datetime) -> Event:
    """Adds a new event: its tasks scheduled, ``actor`` (a staff user) its owner, the entry written."""
    db.session.add(event)
    db.session.flush()
    schedule.reschedule(event)
    if actor is not None and hasattr(actor, "memberships"):
        accounts.assign(actor, event, EventRole.owner, now=now)
    audit.record(event.id, action, actor=actor, now=now, changed=changed)
    db.session.flush()
    return event


def _resolve_all(event: Event) -> None:
    for session in event.sessions:
        deadlines.resolve_window(event, session)
    schedule.reschedule(event)


def _keep_wall_clock(event: Event, old: ZoneInfo, new: ZoneInfo) -> None:
    """Before anyone registered, a new time zone keeps the sessions' local times (14:00 stays
    14:00, now in the new zone); afterwards it is refused (``timezone_in_use``)."""
    for session in event.sessions:
        for name in ("doors_at", "starts_at", "ends_at"):
            local = getattr(session, name).astimezone(old).replace(tzinfo=None)
            setattr(session, name, local.replace(tzinfo=new).astimezone(timezone.utc))


def update_event(event: Event, values: Mapping[str, Any], *, actor, now: datetime) -> dict:
    """Changes the event's own fields; windows and scheduled tasks follow a changed rule or
    time zone. Returns the changes ({} when nothing changed). The time zone may change only
    while nobody registered, and then the sessions keep their local times."""
    cleaned = clean_event(values, event=event)
    before = snapshot(event, _EVENT_FIELDS)
    if cleaned["timezone"] != event.timezone:
        if registration_count(event.id):
            raise DomainError("timezone_in_use")
        _keep_wall_clock(event, ZoneInfo(event.timezone), ZoneInfo(cleaned["timezone"]))
    for name, value in cleaned.items():
        setattr(event, name, value)
    changed = audit.changes(before, snapshot(event, _EVENT_FIELDS))
    if not changed:
        return {}
    if changed.keys() & {"timezone", "registration_opens_at", *deadlines.NO_EVENT_RULE}:
        _resolve_all(event)
    audit.record(event.id, "event_edited", actor=actor, now=now, changed=changed)
    db.session.flush()
    return changed


# --- status ---------------------------------------------------------------------------------

TRANSITIONS = {
    (EventStatus.draft, EventStatus.published): "event_published",
    (EventStatus.published, EventStatus.closed): "event_closed",
    (EventStatus.closed, EventStatus.published): "event_reopened",
    (EventStatus.published, EventStatus.draft): "event_unpublished",
}


def registration_count(event_id: int, session_id: int | None = None) -> int:
    """Every registration ever made (cancelled ones too)."""
    query = select(func.count()).select_from(Registration).where(Registration.event_id == event_id)
    if session_id is not None:
        query = query.where(Registration.session_id == session_id)
    return db.session.scalar(query) or 0


def set_status(event: Event, target: EventStatus, *, actor, now: datetime) -> None:
    """Moves the event to ``target``; one conditional UPDATE, so two clicks move it once."""
    target = EventStatus(target)
    action = TRANSITIONS.get((event.status, target))
    if action is None:
        raise DomainError("status_change_refused", f"{event.status.value} -> {target.value}")
    if target == EventStatus.published and not event.sessions:
        raise DomainError("no_sessions")
    if target == EventStatus.draft and registration_count(event.id):
        raise DomainError("event_has_registrations", str(registration_count(event.id)))
    before = event.status
    result = db.session.execute(
        update(Event).where(Event.id == event.id, Event.status == before).values(status=target)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise DomainError("status_change_refused", "changed meanwhile")
    db.session.refresh(event)
    audit.record(event.id, action, actor=actor, now=now, changed={"status": [before.value, target.value]})
    db.session.flush()


def delete_event(event: Event, *, actor, now: datetime) -> None:
    """Deletes an event nobody ever registered for (its audit log goes with it)."""
    taken = registration_count(event.id)
    if taken:
        raise DomainError("event_has_registrations", str(taken))
    db.session.delete(event)
    db.session.flush()
