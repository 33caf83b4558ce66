"""Connection pools sized from the settings, and checked against the server's max_connections.

A private PostgreSQL allowing 8 connections; five are held by "the other servers", so this
instance has three. With pools larger than that share, requests fail when the server refuses a
connection; with DB_POOL_SIZE 3 they wait for a free connection of their own pool instead and
every one is served. At start, pools that cannot fit max_connections are refused (production)
or warned about (development).
"""

from __future__ import annotations

import logging
import os
import threading

import httpx
import psycopg
import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from eventreg import create_app
from eventreg.config import UnsafeConfiguration
from eventreg.extensions import db

from .. import factories
from .small_pg import small_postgresql

pytestmark = pytest.mark.skipif(
    os.environ.get("EVENTREG_TEST_DB", "sqlite") != "postgresql",
    reason="connection pools and max_connections are PostgreSQL's; SQLite has neither",
)

MAX_CONNECTIONS, HELD_BY_OTHERS = 8, 5
THREADS, REQUESTS = 8, 6
STRONG = "kJ8v-2QxLr_9TzWm4NcYp7HbE1uSdFgA0oiZ"


@pytest.fixture(scope="module")
def small_server():
    """(database URL, event slug): a migrated database with one event on the small server."""
    with small_postgresql(MAX_CONNECTIONS) as admin_url:
        with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("CREATE DATABASE eventreg")
        url = admin_url.rsplit("/", 1)[0] + "/eventreg"
        app = _app(url, DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0)
        with app.app_context():
            upgrade()
            slug = factories.make_event(capacity=10).slug
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        yield url, slug


def _app(url: str, **config):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "BASE_URL": "http://testserver",
                       "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 1, "MAIL_DEFAULT_SENDER": "Events <events@example.org>",
                       "RATELIMIT_ENABLED": False, "EVENT_CACHE_SECONDS": 0,
                       "APP_PROCESSES": 1, "WORKER_PROCESSES": 0, **config})


def _event_page_codes(app, slug: str) -> list[int]:
    """THREADS clients at once, REQUESTS event pages each, over HTTP to a threaded server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.daemon_threads = False  # server_close waits for the handlers to give back their connections
    threading.Thread(target=server.serve_forever, daemon=True).start()
    codes: list[int] = []

    def browse() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}", timeout=30) as client:
            codes.extend(client.get(f"/e/{slug}").status_code for _ in range(REQUESTS))

    threads = [threading.Thread(target=browse) for _ in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        server.shutdown()
        server.server_close()
        with app.app_context():
            db.engine.dispose()
    return codes


def test_a_pool_within_the_share_serves_every_request(small_server):
    url, slug = small_server
    others = [psycopg.connect(url.replace("+psycopg", "")) for _ in range(HELD_BY_OTHERS)]
    try:
        oversized = _event_page_codes(_app(url, DB_POOL_SIZE=10, DB_MAX_OVERFLOW=0), slug)
        fitted = _event_page_codes(_app(url, DB_POOL_SIZE=MAX_CONNECTIONS - HELD_BY_OTHERS, DB_MAX_OVERFLOW=0), slug)
    finally:
        for conn in others:
            conn.close()
    assert len(oversized) == len(fitted) == THREADS * REQUESTS
    assert any(code != 200 for code in oversized), "the server never refused a connection: nothing was tested"
    assert fitted == [200] * (THREADS * REQUESTS)


def test_start_refuses_pools_that_cannot_fit(small_server, caplog):
    url, _slug = small_server
    too_many = {"DB_POOL_SIZE": 5, "DB_MAX_OVERFLOW": 5, "APP_PROCESSES": 2, "WORKER_PROCESSES": 1}  # 21 > 8
    with pytest.raises(UnsafeConfiguration, match=r"need up to 21 .* allows 8"):
        _app(url, ENV="production", SECRET_KEY=STRONG, BASE_URL="https://events.example.org", **too_many)
    with caplog.at_level(logging.WARNING, logger="eventreg.connections"):
        _app(url, **too_many)  # development: a warning
        assert [r.getMessage() for r in caplog.records if "need up to 21" in r.getMessage()]
        caplog.clear()
        fits = {"DB_POOL_SIZE": 3, "DB_MAX_OVERFLOW": 2, "APP_PROCESSES": 1, "WORKER_PROCESSES": 3}  # 8
        app = _app(url, ENV="production", SECRET_KEY=STRONG, BASE_URL="https://events.example.org", **fits)
        assert not caplog.records
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 3
    with app.app_context():
        assert db.engine.pool.size() == 3 and db.engine.pool._max_overflow == 2
