"""A per-process cache of published events for the public pages: display text only.

What it serves: the title, description, venue, contact, questions and time zone of an event,
which change rarely and cost about 2 ms of CPU to load with their questions. Entries live
EVENT_CACHE_SECONDS (default 5): an edit shows up within that time.

**It decides nothing.** Seats left, 満席, the waiting list switch, opening and deadline come from
the database on every request (``domain.registration.capacity.availability``), and the registration itself is
decided by the conditional seat UPDATE and one fresh query (``domain.registration.signup.register``).
So a stale copy on one server, or ``forget`` clearing only this process, can only show an old
description for a few seconds, never accept or refuse anyone.
"""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..extensions import db
from ..models import Event, EventStatus

_MAX_ENTRIES = 256
_entries: dict[tuple, tuple[float, Event]] = {}


def _cached(key: tuple, *where) -> Event | None:
    """The event, attached to the current database session, or None. Its sessions are not
    part of the copy: read them with domain.registration.capacity.availability."""
    ttl = float(current_app.config["EVENT_CACHE_SECONDS"])
    if ttl <= 0:
        return db.session.scalars(_statement(*where)).one_or_none()
    event = _copy(key, ttl, lambda: where)
    return None if event is None else db.session.merge(event, load=False)


def _statement(*where):
    return select(Event).where(*where).options(selectinload(Event.questions))


def _copy(key: tuple, ttl: float, where) -> Event | None:
    """This process's detached copy, loaded when missing or older than ``ttl``. ``where`` makes
    the query's conditions, on a miss only (a hit builds no SQL expression: the sign-up POST's path)."""
    hit = _entries.get(key)
    if hit is not None and time.monotonic() - hit[0] < ttl:
        return hit[1]
    statement = _statement(*where())
    # Loaded in a session of its own, so the copy never takes an object from the request's.
    with Session(db.engine) as own:
        event = own.scalars(statement).one_or_none()
        own.expunge_all()
    if event is None:
        return None
    if len(_entries) >= _MAX_ENTRIES:
        _entries.clear()
    _entries[key] = (time.monotonic(), event)  # detached: a page merges its own, the POST reads it as is
    return event


def published_event(slug: str) -> Event | None:
    """For the public pages (display text)."""
    return _cached(("slug", slug), Event.slug == slug, Event.status != EventStatus.draft)


def published_copy(slug: str) -> Event | None:
    """The shared detached copy itself, for the sign-up POST: read only (id, slug, time zone,
    questions), never changed and never added to a session. Session.merge costs more than the
    rest of what the POST reads from it. The page (and a refused POST) uses ``published_event``."""
    ttl = float(current_app.config["EVENT_CACHE_SECONDS"])
    if ttl <= 0:
        return published_event(slug)
    return _copy(("slug", slug), ttl, lambda: (Event.slug == slug, Event.status != EventStatus.draft))


def forget(slug: str) -> None:
    """Drops this process's copy (a replaced event shows at once here; elsewhere within
    EVENT_CACHE_SECONDS, which only affects display)."""
    _entries.pop(("slug", slug), None)
