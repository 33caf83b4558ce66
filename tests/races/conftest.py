"""Race fixtures: the app on a real HTTP port, so every attempt goes through the edge users hit.

``http_server`` serves the session's ``app`` from a threaded werkzeug server (one thread per
request, as many at once as clients send): each request gets its own app context, database
session and connection, and POSTs declare their write intent exactly as in production.
``scanner_token`` is a bearer token of an organizer, for the scanner API.
"""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from eventreg import clock
from eventreg.domain.access import accounts, api_tokens
from eventreg.extensions import db
from eventreg.models import EventRole

from .. import factories


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # hundreds of request lines would bury a failure
        pass


@pytest.fixture
def http_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    server.daemon_threads = True
    # shutdown() waits for the loop's next poll: 0.5 s by default, on every race test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="race-server",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
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
