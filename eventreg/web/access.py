"""Access to staff pages: every view says what it needs, and nothing else gets through.

- ``event_access(capability)``: the view's ``event_id`` (or what ``via`` finds) is loaded into
  ``event``; the signed-in user needs ``capability`` there (domain.access.permissions). An event the user
  has no role on is a 404, not a 403: staff learn nothing about events they do not work on.
  With ``account=``, the user's account must also be of that kind (a copy of an event needs the
  right to create events: ``.account`` says so to the matrix).
- ``account_access(role=None)``: signed in (and, with ``role``, an account of that kind).
- ``api_event_access(capability)``: the same rule for the JSON API, for whoever the API
  authenticated (``g.api_user``: a bearer token's Principal, limited to the token's event and
  role, or the signed-in user of the desk page). The API's error handler words the 404 / 403.

Each wrapped view carries ``.access`` so that tests/web/test_authorization_matrix.py can check
that every staff URL of the app declares one, and walk it with every role. Each decision is
also left in ``g.access_decision`` ("allowed", "not_found", "forbidden"), so the matrix can
tell a 404 for access from a 404 for an object that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required

from ..domain.access import accounts
from ..domain.access.permissions import Capability
from ..extensions import db
from ..models import Event, Role


def _default_via(kwargs: dict) -> int | None:
    return kwargs.pop("event_id")


def _decide(who, event_id: int | None, capability: Capability) -> None:
    """Aborts with 404 (no role on the event, or no event) or 403 (a role without it)."""
    if event_id is None or not accounts.has_role(who, event_id):
        g.access_decision = "not_found"
        abort(404)
    if not accounts.can(who, event_id, capability):
        g.access_decision = "forbidden"
        abort(403)
    g.access_decision = "allowed"


def event_access(capability: Capability, *, via: Callable[[dict], int | None] = _default_via,
                 account: Role | None = None):
    """``via(kwargs)`` returns the event id the request is about (it may pop or load kwargs);
    ``account``: the kind of account the view needs besides the capability (403 otherwise)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(**kwargs):
            event_id = via(kwargs)
            event = db.session.get(Event, event_id) if event_id is not None else None
            _decide(current_user, event.id if event is not None else None, capability)
            if account is not None and current_user.role != account:
                g.access_decision = "forbidden"
                abort(403)
            g.event = event
            return view(event=event, **kwargs)

        wrapped.access, wrapped.account = capability, account
        return wrapped

    return decorate


def api_event_access(capability: Capability, *, load: bool = True):
    """For API views ``view(event, **kwargs)`` under ``/events/<event_id>/…``; the blueprint's
    before_request has put the caller in ``g.api_user`` (or answered 401).

    ``load=False``: the view gets the event's id and reads what it needs itself (the desk's scan,
    whose one statement reads the event too). The decision is the same: a role on an event comes
    from its memberships, read at this request, which go with the event when it is deleted."""

    def decorate(view):
        @wraps(view)
        def wrapped(event_id: int, **kwargs):
            if not load:
                _decide(g.api_user, event_id, capability)
                return view(event_id, **kwargs)
            # From the database (one primary-key query): nothing here comes from a per-process copy.
            event = db.session.get(Event, event_id)
            _decide(g.api_user, event.id if event is not None else None, capability)
            return view(event, **kwargs)

        wrapped.access = capability
        return wrapped

    return decorate


def account_access(role: Role | None = None):
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if role is not None and current_user.role != role:
                g.access_decision = "forbidden"
                abort(403)
            g.access_decision = "allowed"
            return view(*args, **kwargs)

        wrapped.access = f"account:{role.value}" if role else "account"
        return wrapped

    return decorate


def may(capability: Capability, event: Event | None = None, account: Role | None = None) -> bool:
    """For templates: whether to show a link or button (the view checks again)."""
    event = event or g.get("event")
    return bool(event is not None and current_user.is_authenticated and accounts.can(current_user, event.id, capability)
                and (account is None or current_user.role == account))
