"""Shared fixtures. The database is SQLite or PostgreSQL, chosen by EVENTREG_TEST_DB.

The schema is built by running the migrations once per run; tests commit for real and every
table is emptied after each test, so race tests and live-server tests see what users would.
"""

from __future__ import annotations

import os
import signal

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from eventreg import clock, create_app
from eventreg.extensions import db

from . import factories, processes
from .pg import fresh_database
from .web.clients import IsolatedClient

# Development mode is opt-in (production is the default); the suite, and the servers it starts, opt in.
os.environ.setdefault("EVENTREG_ENV", "development")

@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    kind = os.environ.get("EVENTREG_TEST_DB", "sqlite")
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    elif kind == "postgresql":
        url, drop = fresh_database()
        yield url
        drop()
    else:
        raise pytest.UsageError(f"EVENTREG_TEST_DB must be sqlite or postgresql, not {kind!r}")


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20} if "postgresql" in database_url else {},
        "BASE_URL": "http://testserver",
        "MAILBOX_DIR": str(tmp_path_factory.mktemp("mail")),
        "MAIL_PORT": 1,  # nothing listens there unless a test starts an SMTP server
        "OUTBOX_LEASE_SECONDS": 60,
        # Tests sign up hundreds of people from 127.0.0.1: limits are off here and switched on
        # by the tests of the limits (tests/web/test_rate_limits.py).
        "RATELIMIT_ENABLED": False,
    })
    app.test_client_class = IsolatedClient  # requests never share the test's session (tests/web/clients.py)
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()  # before the database is dropped: no connection is left to the collector


@pytest.fixture(autouse=True)
def clock_kept():
    """create_app points the process's clock at its instance (eventreg.clock.configure): a test
    that makes a production app in this process switches the development clock off for every
    later test (CI saw the building-list races fail so after tests/ops). Put back after each test."""
    kept = clock._file
    yield
    if clock._file != kept:
        clock.configure(kept)


@pytest.fixture
def make_app():
    """``make_app(config)``: another app (its own engine and settings); its connections are
    closed at the end of the test."""
    made = []

    def make(config: dict):
        made.append(create_app(config))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _stop_processes():
    """Whatever a test started with tests/processes.spawn and left running is stopped at its end
    (fixtures of a wider scope start theirs before this snapshot and stop them themselves)."""
    count = len(processes.running)
    yield
    processes.stop_started_since(count)


# A test whose fixtures reach neither of these, in a module that never reads the database
# settings itself, does the same on SQLite and on PostgreSQL.
DATABASE_FIXTURES = {"app", "database_url"}
DATABASE_WORDS = ("EVENTREG_TEST", "fresh_database", "postgres", "psycopg")


def _reads_database_settings(path: str, cache: dict[str, bool]) -> bool:
    if path not in cache:
        with open(path, encoding="utf-8") as source:
            text = source.read()
        cache[path] = any(word in text for word in DATABASE_WORDS)
    return cache[path]


def pytest_collection_modifyitems(config, items):
    """With EVENTREG_TEST_DATABASE_TESTS_ONLY=1 (scripts/test's PostgreSQL half) the tests that
    use no database are left out: the SQLite half, running at the same time, runs each of them."""
    if os.environ.get("EVENTREG_TEST_DATABASE_TESTS_ONLY") != "1":
        return
    cache: dict[str, bool] = {}
    kept, left = [], []
    for item in items:
        uses_database = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        (kept if uses_database or _reads_database_settings(str(item.fspath), cache) else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


def _interrupted(_signum, _frame):
    raise KeyboardInterrupt


def pytest_configure(config):
    """SIGTERM (scripts/test passes Ctrl-C and a CI timeout on as SIGTERM) stops the run as Ctrl-C
    does: fixtures tear down, the servers stop and the PostgreSQL database is dropped."""
    signal.signal(signal.SIGTERM, _interrupted)


def pytest_sessionfinish(session, exitstatus):
    processes.stop_started_since(0)  # a wider fixture that could not stop its own (and Ctrl-C)


@pytest.fixture(autouse=True)
def _clean_tables(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(text(f"DELETE FROM {table.name}"))


@pytest.fixture
def ctx(app):
    """An app context with a clean session, for tests that call domain functions."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_event(ctx):
    return factories.make_event


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on a free port; the app sends to it for the length of the test."""
    from .smtp import SMTPRecorder

    server = SMTPRecorder().start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    yield server
    server.stop()
    app.config.update(saved)


@pytest.fixture
def login(client):
    """Signs a staff user in on the test client (through the real login form)."""
    from .web.conftest import csrf_token

    def sign_in(user, password=factories.PASSWORD):
        token = csrf_token(client, "/login")
        response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in
