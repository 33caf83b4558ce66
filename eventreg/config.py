"""Configuration: defaults, then ``EVENTREG_*`` environment variables, then explicit overrides.

Every key below can be set from the environment as ``EVENTREG_<KEY>`` (Flask's
``from_prefixed_env``; values are parsed as JSON where possible, so ``EVENTREG_MAIL_PORT=2525``
is an int and ``EVENTREG_MAIL_USE_TLS=true`` a bool). The README lists them all.
"""

from __future__ import annotations

import os

DEV_SECRET_KEY = "dev-only-not-secret"

DEFAULTS: dict[str, object] = {
    # "development" or "production"; production refuses unsafe settings (see check_production).
    "ENV": "development",
    "SECRET_KEY": DEV_SECRET_KEY,
    # Embedded default: a SQLite file in the instance folder (filled in by create_app).
    "SQLALCHEMY_DATABASE_URI": None,
    # No pre-ping (a round trip per request); connections are recycled instead, and a dropped
    # connection fails one request and is replaced.
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800},
    # Absolute base URL used in emails and passes, e.g. https://events.example.org
    "BASE_URL": "http://127.0.0.1:5000",
    "DEFAULT_TIMEZONE": "Asia/Tokyo",
    # Seconds a web process reuses an event's display text (see web/event_cache.py: it decides
    # nothing); 0 turns it off.
    "EVENT_CACHE_SECONDS": 5,
    "BABEL_DEFAULT_LOCALE": "ja",
    "LANGUAGES": ["ja", "en"],
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 8025,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "eventreg <no-reply@eventreg.localhost>",
    # Outbox worker: seconds between polls, and how long a claimed message stays claimed (a
    # crashed worker's mail waits at most this long; each send is bounded to half of it).
    "OUTBOX_POLL_SECONDS": 2.0,
    "OUTBOX_LEASE_SECONDS": 60,
    "OUTBOX_MAX_ATTEMPTS": 12,
    # Seconds between the worker's periodic ticks (scheduled tasks: domain.periodic); <= 60.
    "TICK_SECONDS": 30,
    # How long a worker owns a background job without reporting progress; a crashed worker's
    # job is started again by another worker after this.
    "JOB_LEASE_SECONDS": 60,
    # Where the development mail catcher writes .eml files (shown at /_dev/mail).
    "MAILBOX_DIR": None,
    "WTF_CSRF_TIME_LIMIT": None,  # the CSRF token lives as long as the session cookie
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Staff sessions end after a working day (or when the browser closes without "permanent").
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    "MAX_CONTENT_LENGTH": 256 * 1024,
}


class UnsafeConfiguration(RuntimeError):
    pass


def check_production(config) -> None:
    """Refuse to run a production app on development defaults."""
    if config["ENV"] != "production":
        return
    problems = []
    if config["SECRET_KEY"] in (None, "", DEV_SECRET_KEY) or len(str(config["SECRET_KEY"])) < 16:
        problems.append("EVENTREG_SECRET_KEY must be set to a random value of at least 16 characters")
    if str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite") and not os.environ.get(
        "EVENTREG_ALLOW_SQLITE"
    ):
        problems.append("use PostgreSQL in production (or set EVENTREG_ALLOW_SQLITE=1 knowingly)")
    if not str(config["BASE_URL"]).startswith("https://"):
        problems.append("EVENTREG_BASE_URL must be an https:// URL in production")
    if problems:
        raise UnsafeConfiguration("; ".join(problems))
