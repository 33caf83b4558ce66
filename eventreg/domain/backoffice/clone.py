"""Cloning an event: a new draft whose dates move by whole calendar days in the event's zone."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from eventreg.domain.access import accounts
from eventreg.domain.backoffice.event_checks import (
    TEXT_FIELDS,
    InvalidValues,
    Problem,
    clean_copy_names,
    in_range,
    parse_date,
)
from eventreg.domain.backoffice.events import new_slug, save_new
from eventreg.domain.communication import reminders
from eventreg.domain.errors import DomainError
from eventreg.domain.insight import surveys
from eventreg.domain.timing import deadlines
from eventreg.extensions import db
from eventreg.models import Event, EventMember, EventSession, EventStatus, Question


def _shift(moment: datetime | None, days: int, zone: ZoneInfo) -> datetime | None:
    """The same wall-clock time ``days`` later on the calendar of ``zone`` (DST-proof)."""
    if moment is None:
        return None
    local = moment.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=days), local.time(), tzinfo=zone).astimezone(timezone.utc)


def clone_event(event: Event, first_date, *, actor, now: datetime, slug: str | None = None,
                title: str | None = None, keep_team: bool = False) -> Event:
    """A new draft copy (sessions, questions, settings, the survey's definition; no registrations,
    no survey answers, a new pass key) whose first session falls on ``first_date``; every date
    moves by the same number of days on the event's calendar, so 14:00 stays 14:00 and 前日12:00
    stays 前日12:00, also across a DST change. ``actor`` becomes its owner. ``title`` (None: the same) and ``slug`` (None or empty:
    a random one) are checked like an event's; with ``keep_team`` everyone with a role on the
    event has the same role on the copy (pending invitations are not copied)."""
    day = parse_date(first_date)
    problems = [] if day is not None and in_range(day) else [
        Problem("first_date", "invalid_date" if day is None else "date_out_of_range")]
    try:
        names = clean_copy_names({"title": event.title if title is None else title, "slug": slug})
    except InvalidValues as exc:
        problems += exc.problems
    if problems:
        raise InvalidValues(problems)
    if not event.sessions:
        raise DomainError("no_sessions")
    zone = ZoneInfo(event.timezone)
    days = (day - min(s.starts_at for s in event.sessions).astimezone(zone).date()).days
    values = {name: getattr(event, name) for name in (*TEXT_FIELDS, "contact_email", "language", "timezone",
                                                      "waitlist_enabled", "confirm_email", "hold_minutes",
                                                      "deadline_days_before", "deadline_time",
                                                      "deadline_business_days", "deadline_hours_before",
                                                      "security_email", "security_format", "security_send_rule",
                                                      # the post-event loop; not its materials link
                                                      "followup_rule", "followup_survey", "followup_noshow",
                                                      "followup_certificate", "noshow_text")}
    values["title"] = names["title"]
    copy = Event(
        slug=names["slug"] or new_slug(), status=EventStatus.draft, pass_key=secrets.token_urlsafe(32),
        registration_opens_at=_shift(event.registration_opens_at, days, zone),
        deadline_at=_shift(event.deadline_at, days, zone),
        security_columns=list(event.security_columns or []), **values,
    )
    for s in event.sessions:
        copy.sessions.append(EventSession(
            title=s.title, doors_at=_shift(s.doors_at, days, zone), starts_at=_shift(s.starts_at, days, zone),
            ends_at=_shift(s.ends_at, days, zone), capacity=s.capacity, seats_taken=0, sequence=0,
            deadline_at=_shift(s.deadline_at, days, zone), deadline_rule=s.deadline_rule))
    for q in event.questions:
        copy.questions.append(Question(position=q.position, kind=q.kind, label=q.label, help=q.help,
                                       choices=list(q.choices or []), required=q.required, hidden=q.hidden))
    for session in copy.sessions:
        deadlines.resolve_window(copy, session)
    copy.reminders.extend(reminders.new_rules([r.rule for r in event.reminders], now))
    copy = save_new(copy, "event_cloned", {"cloned_from": [None, event.id], "days_shifted": [None, days]},
                    actor=actor, now=now)
    survey = surveys.survey_of(event.id)
    if survey is not None:  # its definition only: never a response
        surveys.copy_definition(survey, copy, shift=lambda moment: _shift(moment, days, zone), actor=actor, now=now)
    if keep_team:
        for member in db.session.scalars(select(EventMember).where(EventMember.event_id == event.id)).all():
            if member.user_id != getattr(actor, "id", None):
                accounts.assign(member.user, copy, member.role, now=now)
        db.session.flush()
    return copy
