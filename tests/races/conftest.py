"""Race fixtures: the app on a real HTTP port, so every attempt goes through the edge users hit.

``http_server`` serves the session's ``app`` from a threaded werkzeug server (one thread per
request, as many at once as clients send): each request gets its own app context, database
session and connection, and POSTs declare their write intent exactly as in production.
``scanner_token`` is a bearer token of an organizer, for the scanner API.
"""

from __future__ import annotations

import pytest

from eventreg import clock
from eventreg.domain.access import accounts, api_tokens
from eventreg.extensions import db
from eventreg.models import EventRole

from .. import factories
from ..threaded_server import served


@pytest.fixture
def http_server(app):
    with served(app) as base:
        yield base
    with app.app_context():
        db.session.remove()


@pytest.fixture
def dialect(app) -> str:
    """"postgresql" or "sqlite": what a race proves differs (tests/races/test_guards_matter.py)."""
    with app.app_context():
        return db.engine.dialect.name


@pytest.fixture
def scanner_user(ctx):
    return factories.make_staff("organizer")


@pytest.fixture
def make_event(ctx, scanner_user):
    """Events of race tests belong to the scanner's organizer (roles are per event)."""

    def make(**overrides):
        event = factories.make_event(**overrides)
        accounts.assign(scanner_user, event, EventRole.owner, now=clock.utcnow())
        db.session.commit()
        return event

    return make


@pytest.fixture
def scanner_token(scanner_user) -> str:
    token = api_tokens.create_api_token(scanner_user, "race scanner", now=clock.utcnow())
    db.session.commit()
    return token
