"""Access to staff pages: every view says what it needs, and nothing else gets through.

- ``event_access(capability)``: the view's ``event_id`` (or what ``via`` finds) is loaded into
  ``event``; the signed-in user needs ``capability`` there (domain.permissions). An event the user
  has no role on is a 404, not a 403: staff learn nothing about events they do not work on.
- ``account_access(role=None)``: signed in (and, with ``role``, an account of that kind).

Each wrapped view carries ``.access`` so that tests/web/test_authorization_matrix.py can check
that every staff URL of the app declares one, and walk it with every role.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required

from ..domain import staff
from ..domain.permissions import Capability
from ..extensions import db
from ..models import Event, Role


def _default_via(kwargs: dict) -> int | None:
    return kwargs.pop("event_id")


def event_access(capability: Capability, *, via: Callable[[dict], int | None] = _default_via):
    """``via(kwargs)`` returns the event id the request is about (it may pop or load kwargs)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(**kwargs):
            event_id = via(kwargs)
            event = db.session.get(Event, event_id) if event_id is not None else None
            if event is None or current_user.role_on(event.id) is None:
                abort(404)
            if not staff.can(current_user, event.id, capability):
                abort(403)
            g.event = event
            return view(event=event, **kwargs)

        wrapped.access = capability
        return wrapped

    return decorate


def account_access(role: Role | None = None):
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if role is not None and current_user.role != role:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = f"account:{role.value}" if role else "account"
        return wrapped

    return decorate


def may(capability: Capability, event: Event | None = None) -> bool:
    """For templates: whether to show a link or button (the view checks again)."""
    event = event or g.get("event")
    return bool(event is not None and current_user.is_authenticated and staff.can(current_user, event.id, capability))
