"""Configuration: defaults, then ``EVENTREG_*`` environment variables, then explicit overrides.

Every key below can be set from the environment as ``EVENTREG_<KEY>`` (Flask's
``from_prefixed_env``; values are parsed as JSON where possible, so ``EVENTREG_MAIL_PORT=2525``
is an int and ``EVENTREG_MAIL_USE_TLS=true`` a bool). docs/configuration.md lists them all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .rate_counters import SCHEME as PROCESS_COUNTERS  # importing it registers its scheme with limits

DEV_SECRET_KEY = "dev-only-not-secret"
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 12  # distinct characters: refuses "aaaa…", "abababab…", "12341234…"

DEFAULTS: dict[str, object] = {
    # "production" (the default: refuses unsafe settings, see check_production) or "development"
    # (opt-in: scripts/run and the test suite set it; it alone serves /_dev/mail).
    "ENV": "production",
    "SECRET_KEY": None,  # development falls back to DEV_SECRET_KEY; production requires a real one
    # Embedded default: a SQLite file in the instance folder (filled in by create_app).
    "SQLALCHEMY_DATABASE_URI": None,
    # No pre-ping (a round trip per request); connections are recycled instead, and a dropped
    # connection fails one request and is replaced.
    # hide_parameters: tracebacks and log lines show the SQL, never the values (emails, tokens).
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800, "hide_parameters": True},
    # PostgreSQL connections of each process (docs/operations.md has the arithmetic): at most
    # DB_POOL_SIZE + DB_MAX_OVERFLOW at once; a request that finds none free waits DB_POOL_TIMEOUT
    # seconds, then gets a 503. At start the app reads the server's max_connections and refuses
    # (production) or warns when APP_PROCESSES × (pool + overflow) + WORKER_PROCESSES cannot fit.
    "DB_POOL_SIZE": 5,
    "DB_MAX_OVERFLOW": 5,
    "DB_POOL_TIMEOUT": 10,
    # What sits between the app and PostgreSQL (docs/several-servers.md): None (connect straight,
    # or PgBouncer in session mode) or "transaction" (PgBouncer's pool_mode = transaction: every
    # transaction may run on another server connection, so psycopg never prepares statements).
    "DATABASE_POOLER": None,
    # gunicorn processes on all app servers together (servers × -w); None: this host's
    # WEB_CONCURRENCY (gunicorn.conf.py's default, 2) on one server.
    "APP_PROCESSES": None,
    "WORKER_PROCESSES": 1,  # `flask worker` processes on all hosts (one connection each)
    # Absolute base URL used in emails and passes, e.g. https://events.example.org. Production
    # requires it; development falls back to DEVELOPMENT["BASE_URL"].
    "BASE_URL": None,
    "DEFAULT_TIMEZONE": "Asia/Tokyo",
    # Seconds a web process reuses an event's display text (see web/event_cache.py: it decides
    # nothing); 0 turns it off.
    "EVENT_CACHE_SECONDS": 5,
    "BABEL_DEFAULT_LOCALE": "ja",
    "LANGUAGES": ["ja", "en"],
    # Production requires MAIL_SERVER and MAIL_DEFAULT_SENDER (check_production); development
    # falls back to DEVELOPMENT (the mail catcher). MAIL_PORT None: 465 with SSL, 587 with TLS, else 25.
    "MAIL_SERVER": None,
    "MAIL_PORT": None,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": None,
    # Outbox worker: seconds between polls, and how long a claimed message stays claimed (a
    # crashed worker's mail waits at most this long; each send is bounded to half of it).
    "OUTBOX_POLL_SECONDS": 2.0,
    "OUTBOX_LEASE_SECONDS": 60,
    "OUTBOX_MAX_ATTEMPTS": 12,
    # While the database is down (or its disk full) the worker waits OUTBOX_POLL_SECONDS, then
    # twice as long after each failure, up to this many seconds (docs/operations.md).
    "WORKER_BACKOFF_MAX_SECONDS": 30,
    # Seconds between the worker's periodic ticks (scheduled tasks: domain.timing.periodic); <= 60.
    "TICK_SECONDS": 30,
    # How long a worker owns a background job without reporting progress; a crashed worker's
    # job is started again by another worker after this.
    "JOB_LEASE_SECONDS": 60,
    # Retention (domain.privacy.retention): failed sign-ins and sent/failed outbox rows are deleted after these days.
    "LOGIN_ATTEMPT_RETENTION_DAYS": 30,
    "OUTBOX_RETENTION_DAYS": 30,
    # Where the development mail catcher writes .eml files (shown at /_dev/mail).
    "MAILBOX_DIR": None,
    "WTF_CSRF_TIME_LIMIT": None,  # the CSRF token lives as long as the session cookie
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Staff sessions end after a working day (or when the browser closes without "permanent").
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    # None: follows ENV (Secure in production, so the cookie never travels over plain http).
    "SESSION_COOKIE_SECURE": None,
    "MAX_CONTENT_LENGTH": 256 * 1024,
    # The development clock (eventreg/clock.py): "+2d", "-3h" or "2019-02-07T12:01:00+09:00".
    # None leaves whatever /_dev/clock set; refused in production.
    "CLOCK": None,
    # Rate limits of public sign-ups (Flask-Limiter, web/limits.py). The storage is memory://
    # for one server; several servers must share one, e.g. redis://127.0.0.1:6379/0.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE": "memory://",
    # Seconds to connect to a Redis storage and for each command. Past it (or when Redis is down)
    # the sign-up goes through and the limits are counted in this process's memory until Redis
    # answers again: a hung Redis must not hold sign-ups (docs/operations.md).
    "RATELIMIT_STORAGE_TIMEOUT": 0.3,
    # Start of every counter's key, read per request (several instances or tests on one Redis).
    "RATELIMIT_PREFIX": "eventreg",
    # Sign-up POSTs (web/limits.py): per client address over all events, a ceiling an office NAT
    # does not meet; per client address and event; per (normalised) email address.
    "RATELIMIT_SIGNUP_PER_ADDRESS": "300/hour",
    "RATELIMIT_SIGNUP_PER_EVENT": "20 per 10 minutes",
    "RATELIMIT_SIGNUP_PER_EMAIL": "5/hour",  # sign-up POSTs per (normalised) email address
    # Proxies in front of the app that set X-Forwarded-For (the nginx of docs/several-servers.md: 1). 0 trusts
    # no header: the client address is the socket's (the address the limits and sign-in count).
    "PROXY_COUNT": 0,
}


# What development uses for settings production must be given (scripts/run, the test suite):
# mail goes to `flask mailcatcher` and shows at /_dev/mail.
DEVELOPMENT: dict[str, object] = {
    "BASE_URL": "http://127.0.0.1:5000",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 8025,
    "MAIL_DEFAULT_SENDER": "eventreg <no-reply@eventreg.localhost>",
}


class UnsafeConfiguration(RuntimeError):
    """Settings the app will not start with. ``str()`` is what to print: a short list of what to
    set, read by a person at a terminal (wsgi.py prints it without a traceback)."""


def instance_path() -> str:
    """The folder of this instance's SQLite file, mailbox and clock (EVENTREG_INSTANCE_PATH)."""
    return os.environ.get("EVENTREG_INSTANCE_PATH", str(Path(__file__).resolve().parent.parent / "instance"))


def load(config, overrides: dict | None, instance: str) -> None:
    """Fills ``config`` (a Flask Config): defaults, EVENTREG_* variables, ``overrides``, what
    follows from them; raises UnsafeConfiguration for settings production must not run with."""
    config.from_mapping(DEFAULTS)
    config.from_prefixed_env("EVENTREG")
    config.update(overrides or {})
    if not config["SQLALCHEMY_DATABASE_URI"]:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(instance) / 'eventreg.db'}"
    if not config["MAILBOX_DIR"]:
        config["MAILBOX_DIR"] = str(Path(instance) / "mail")
    finish(config)
    check_production(config)


def exit_refused(refused: UnsafeConfiguration):
    """Prints the refusal, the short list it is, without a traceback around it, and exits.
    Status 4 is gunicorn's "App failed to load": its master stops rather than starting workers
    again and again."""
    print(refused, file=sys.stderr)
    raise SystemExit(4) from None


def finish(config) -> None:
    """Settings that follow from others; called after every source has been read."""
    if config["ENV"] not in ("production", "development"):
        raise UnsafeConfiguration(f"EVENTREG_ENV must be production or development, not {config['ENV']!r}")
    production = config["ENV"] == "production"
    if not production and not config["SECRET_KEY"]:
        config["SECRET_KEY"] = DEV_SECRET_KEY
    if not production:
        for key, value in DEVELOPMENT.items():
            if config.get(key) in (None, ""):
                config[key] = value
    if config.get("MAIL_PORT") in (None, ""):
        config["MAIL_PORT"] = 465 if config["MAIL_USE_SSL"] else 587 if config["MAIL_USE_TLS"] else 25
    config["RATELIMIT_STORAGE_URI"] = config["RATELIMIT_STORAGE"]
    if str(config["RATELIMIT_STORAGE"]).startswith("memory://"):
        # This process's counters without limits' timer thread (eventreg/rate_counters.py).
        config["RATELIMIT_STORAGE_URI"] = f"{PROCESS_COUNTERS}://"
    if str(config["RATELIMIT_STORAGE"]).startswith(("redis", "rediss", "valkey")):
        timeout = float(config["RATELIMIT_STORAGE_TIMEOUT"])
        config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_timeout": timeout, "socket_connect_timeout": timeout,
                                               **(config.get("RATELIMIT_STORAGE_OPTIONS") or {})}
    # A storage outage (Redis down or hung) lets sign-ups through rather than failing them, and
    # the limits are counted in memory until it answers again (checked at growing intervals).
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    if config["SESSION_COOKIE_SECURE"] is None:
        config["SESSION_COOKIE_SECURE"] = production
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"] or {})
    options.setdefault("hide_parameters", True)  # also when a caller passes its own options
    if not str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        options.setdefault("pool_size", int(config["DB_POOL_SIZE"]))
        options.setdefault("max_overflow", int(config["DB_MAX_OVERFLOW"]))
        options.setdefault("pool_timeout", float(config["DB_POOL_TIMEOUT"]))
    pooler = config["DATABASE_POOLER"] or None
    if pooler not in (None, "session", "transaction"):
        raise UnsafeConfiguration(f"EVENTREG_DATABASE_POOLER must be empty, session or transaction, not {pooler!r}")
    if pooler == "transaction":
        # psycopg prepares a statement on its 5th execution and reuses it by name; the next
        # transaction may run on a server connection that never saw it (PgBouncer < 1.21 does not
        # carry prepared statements over): "prepared statement ... does not exist".
        options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
    if config["APP_PROCESSES"] is None:
        config["APP_PROCESSES"] = int(os.environ.get("WEB_CONCURRENCY") or 2)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def weak_secret(secret) -> str | None:
    """Why ``secret`` is unfit to sign sessions, or None."""
    secret = "" if secret is None else str(secret)
    if not secret:
        return "EVENTREG_SECRET_KEY is not set"
    if secret == DEV_SECRET_KEY:
        return "EVENTREG_SECRET_KEY is the public development key"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"EVENTREG_SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(secret)) < MIN_SECRET_DISTINCT:
        return f"EVENTREG_SECRET_KEY has fewer than {MIN_SECRET_DISTINCT} different characters"
    return None


def check_production(config) -> None:
    """Refuse to run a production app on development defaults: one exception listing every
    setting to give, so a new server is set up in one round rather than one error at a time."""
    if config["ENV"] != "production":
        return
    problems = []
    weak = weak_secret(config["SECRET_KEY"])
    if weak:
        problems.append(weak + ' (make one with: python3 -c "import secrets; print(secrets.token_urlsafe(48))")')
    if str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite") and not os.environ.get(
        "EVENTREG_ALLOW_SQLITE"
    ):
        problems.append("EVENTREG_SQLALCHEMY_DATABASE_URI: use PostgreSQL in production, e.g. "
                        "postgresql+psycopg://eventreg@127.0.0.1/eventreg (or set EVENTREG_ALLOW_SQLITE=1 knowingly)")
    if config.get("CLOCK"):
        problems.append("EVENTREG_CLOCK (the development clock) is for development and tests only: unset it")
    if not config.get("MAIL_SERVER"):
        problems.append("EVENTREG_MAIL_SERVER is not set: the SMTP server the worker delivers mail through "
                        "(with EVENTREG_MAIL_PORT, EVENTREG_MAIL_USE_TLS, EVENTREG_MAIL_USERNAME, "
                        "EVENTREG_MAIL_PASSWORD as it needs)")
    sender = str(config.get("MAIL_DEFAULT_SENDER") or "")
    if not sender:
        problems.append('EVENTREG_MAIL_DEFAULT_SENDER is not set: the From of every email, e.g. '
                        '"Events <events@example.org>"')
    elif sender.rstrip(">").endswith("localhost"):
        problems.append("EVENTREG_MAIL_DEFAULT_SENDER is a localhost address: mail from it is refused or "
                        "lost; use an address of your domain")
    if not config.get("BASE_URL"):
        problems.append("EVENTREG_BASE_URL is not set: the https:// address people open, used in emails "
                        "and passes, e.g. https://events.example.org")
    elif not str(config["BASE_URL"]).startswith("https://"):
        problems.append("EVENTREG_BASE_URL must be an https:// URL in production")
    if problems:
        raise UnsafeConfiguration(refusal(problems))


def refusal(problems: list[str]) -> str:
    """The message of a refused production start: the forgotten EVENTREG_ENV first (the usual
    cause on a development machine), then one line per setting."""
    lines = []
    if not os.environ.get("EVENTREG_ENV"):
        lines.append("EVENTREG_ENV is not set, so this is production. On a development machine, "
                     "set EVENTREG_ENV=development (scripts/run does).")
    lines.append("eventreg will not start in production until these are set:")
    lines += [f"  - {problem}" for problem in problems]
    lines.append("(docs/configuration.md lists every setting; docs/operations.md says what production needs.)")
    return "\n".join(lines)
