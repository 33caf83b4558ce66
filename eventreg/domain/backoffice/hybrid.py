"""A session's attendance mode: on site, online, or both (a hybrid date).

A hybrid date is two sessions (models.AttendanceMode): the on-site one and its online twin
(``hybrid_of_id``), each with its own capacity, seats, waiting list and deadline, so the seat,
waiting-list, move and cancel code serves both unchanged. The organizer edits the on-site session;
``apply_mode`` creates the twin, keeps its title, times and deadline equal to the on-site
session's (through domain.backoffice.sessions, so a moved twin tells its people too) and sets its
own capacity and meeting URL.

The meeting URL is a secret: staff can set or replace it, never read it back (``meeting_url_set``
says whether there is one). An empty value keeps the one stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from eventreg.domain.backoffice import sessions
from eventreg.domain.backoffice.event_checks import InvalidValues, Problem
from eventreg.extensions import db
from eventreg.models import AttendanceMode, EventSession

MODES = ("onsite", "online", "both")
MAX_MEETING_URL = 2000


def twin_of(session: EventSession) -> EventSession | None:
    """The online twin of an on-site session, or None."""
    if session.id is None:
        return None
    return db.session.scalar(select(EventSession).where(EventSession.hybrid_of_id == session.id))


def mode_of(session: EventSession) -> str:
    """What the session form shows: onsite, online or both."""
    if session.attendance_mode == AttendanceMode.online:
        return "online"
    return "both" if twin_of(session) is not None else "onsite"


def meeting_url_set(session: EventSession) -> bool:
    """Whether the online part of this date has a meeting URL (staff see this, never the URL)."""
    online = session if session.attendance_mode == AttendanceMode.online else twin_of(session)
    return bool(online is not None and online.meeting_url)


def _clean_url(value: Any, problems: list[Problem]) -> str | None:
    """The meeting URL given, or None for "keep the one stored" (empty)."""
    text = str(value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if (len(text) > MAX_MEETING_URL or parts.scheme not in ("https", "http") or not parts.netloc
            or any(c.isspace() or ord(c) < 0x20 for c in text)):
        problems.append(Problem("meeting_url", "meeting_url_invalid"))
        return None
    return text


def apply_mode(session: EventSession, values: Mapping[str, Any], *, actor, now: datetime) -> None:
    """After the session itself was added or changed from ``values`` (the session form's): its
    mode (``mode``), the online twin's capacity (``online_capacity``) and the meeting URL
    (``meeting_url``). Raises InvalidValues (nothing changed by this step)."""
    mode = values.get("mode") or "onsite"
    problems: list[Problem] = []
    if mode not in MODES:
        problems.append(Problem("mode", "invalid_choice"))
    url = _clean_url(values.get("meeting_url"), problems)
    if problems:
        raise InvalidValues(problems)
    twin = twin_of(session)
    if mode == "both":
        _keep_twin(session, twin, values, url, actor=actor, now=now)
        session.attendance_mode = AttendanceMode.onsite
        session.meeting_url = None
    else:
        if twin is not None:  # refused (session_has_registrations) once anyone signed up for it
            sessions.remove_session(twin, actor=actor, now=now)
        session.attendance_mode = AttendanceMode(mode)
        if mode == "onsite":
            session.meeting_url = None
        elif url is not None:
            session.meeting_url = url
    db.session.flush()


def _twin_values(values: Mapping[str, Any]) -> dict:
    twin = {name: values[name] for name in ("title", "date", "doors", "start", "end", "deadline") if name in values}
    twin["capacity"] = values.get("online_capacity")
    return twin


def _keep_twin(session: EventSession, twin: EventSession | None, values: Mapping[str, Any], url: str | None,
               *, actor, now: datetime) -> None:
    try:
        if twin is None:
            twin = sessions.add_session(session.event, _twin_values(values), actor=actor, now=now)
            twin.attendance_mode = AttendanceMode.online
            twin.hybrid_of_id = session.id
        else:
            sessions.update_session(twin, _twin_values(values), actor=actor, now=now)
    except InvalidValues as exc:  # the twin's capacity is the form's online capacity
        raise InvalidValues([Problem("online_capacity" if p.field == "capacity" else p.field, p.code, p.params)
                             for p in exc.problems]) from None
    if url is not None:
        twin.meeting_url = url



def remove(session: EventSession, *, actor, now: datetime) -> None:
    """Removes a session and its online twin (the twin first: the database would otherwise delete
    it, and its people, by the foreign key's cascade). Refused as domain.backoffice.sessions
    refuses, for either of them, with nothing removed."""
    twin = twin_of(session)
    if twin is not None:
        sessions.remove_session(twin, actor=actor, now=now)
    sessions.remove_session(session, actor=actor, now=now)
