"""A database on which `flask --app wsgi db upgrade` never ran (a new server started with the
README's gunicorn line alone): a 503 page that says so in the visitor's language, the API's JSON
error, and one log line naming the command; never a 500 with a traceback. Once upgraded, the same
app serves the page."""

from __future__ import annotations

import logging
import os

import pytest
from flask_migrate import upgrade

from ..pg import fresh_database

COMMAND = "flask --app wsgi db upgrade"


@pytest.fixture
def empty_database(tmp_path):
    if os.environ.get("EVENTREG_TEST_DB", "sqlite") == "postgresql":
        url, drop = fresh_database()
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


def test_a_database_without_tables_answers_503_and_the_log_names_the_command(empty_database, make_app, caplog):
    app = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database, "BASE_URL": "http://testserver",
                    "MAIL_PORT": 1, "RATELIMIT_ENABLED": False, "EVENT_CACHE_SECONDS": 0})
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        japanese = client.get("/")
        client.set_cookie("lang", "en")
        english = client.get("/e/some-event")
        api = client.get("/api/v1/events/1/counts", headers={"Authorization": "Bearer er_nothing"})
    assert japanese.status_code == 503
    assert "データベース" in japanese.get_data(as_text=True) and COMMAND in japanese.get_data(as_text=True)
    assert english.status_code == 503
    assert "not set up yet" in english.get_data(as_text=True) and COMMAND in english.get_data(as_text=True)
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "unavailable"
    lines = [r for r in caplog.records if COMMAND in r.getMessage()]
    assert len(lines) == 3 and all(r.levelno == logging.ERROR and not r.exc_info for r in lines)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"

    with app.app_context():
        upgrade()
    assert client.get("/").status_code == 200


def test_the_worker_names_the_command_too(caplog):
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from eventreg.outage import Outage

    no_table = OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: outbox_message"))
    with caplog.at_level(logging.ERROR):
        Outage("database", logging.getLogger("eventreg.worker"), first=1, cap=30).failed(no_table)
    assert [r.getMessage() for r in caplog.records if COMMAND in r.getMessage()]


def test_commands_name_the_upgrade_too(empty_database, make_app):
    """`users create` on a new server before `db upgrade`: one line, no traceback."""
    app = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database, "MAIL_PORT": 1})
    runner = app.test_cli_runner()
    for args in (["users", "create", "a@example.org", "--role", "organizer", "--password", "a-good-long-password"],
                 ["users", "list"], ["tick"]):
        with app.app_context():  # as `flask` gives its commands
            result = runner.invoke(args=args)
        assert result.exit_code == 1 and f"run `{COMMAND}` first" in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
