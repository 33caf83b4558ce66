"""GET /healthz (eventreg/web/health.py): 200 when the database answers and has the code's schema
(or a newer one), 503 with a fixed word otherwise; no cookie, never cached, nothing of the server's."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from eventreg.extensions import db

from ..smtp import free_port
from .test_not_set_up import empty_database  # noqa: F401  (a fixture: an empty database of the run's kind)


def settings(url: str) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "BASE_URL": "http://testserver", "MAIL_PORT": 1}


def test_a_working_server_answers_200_without_a_cookie(app):
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 200 and answer.json == {"status": "ok"}
    assert answer.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in answer.headers


@pytest.fixture
def schema_version(app):
    """Sets alembic_version for one test and puts the real one back."""
    with app.app_context():
        real = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()

    def set_to(version: str) -> None:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": version})
            db.session.commit()

    yield set_to
    set_to(real)


def test_a_schema_newer_than_the_code_is_healthy_and_an_older_one_is_not(app, schema_version):
    client = app.test_client()
    schema_version("9999_next_release")  # upgraded for the next release, this code still serving
    assert client.get("/healthz").status_code == 200
    schema_version("0009")  # a revision this code knows, before its head: `db upgrade` not run
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json == {"status": "unavailable", "reason": "schema_behind"}
    assert answer.headers["Retry-After"] == "15"


def test_a_database_without_tables_is_not_healthy(empty_database, make_app):  # noqa: F811 (the fixture)
    answer = make_app(settings(empty_database)).test_client().get("/healthz")
    assert answer.status_code == 503 and answer.json == {"status": "unavailable", "reason": "schema_behind"}


def test_an_unreachable_database_is_503_and_names_nothing_of_it(make_app, tmp_path):
    if os.environ.get("EVENTREG_TEST_DB", "sqlite") == "postgresql":
        url, secret = f"postgresql+psycopg://drilluser@127.0.0.1:{free_port()}/nothing", "drilluser"
    else:
        url, secret = f"sqlite:///{tmp_path / 'missing-folder' / 'x.db'}", "missing-folder"
    answer = make_app(settings(url)).test_client().get("/healthz")
    assert answer.status_code == 503
    assert answer.json == {"status": "unavailable", "reason": "database_unavailable"}
    assert secret not in answer.get_data(as_text=True)
