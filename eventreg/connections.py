"""Whether the configured connection pools fit the PostgreSQL server, checked when a process starts.

Every process keeps its own pool of at most DB_POOL_SIZE + DB_MAX_OVERFLOW connections, and
PostgreSQL refuses connections past max_connections (less those reserved for superusers): a
request that is refused fails. With PostgreSQL's max_connections at 20 and SQLAlchemy's default
pools (15 a process), 36–47 % of requests failed under load. docs/operations.md has the arithmetic.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from .config import UnsafeConfiguration
from .extensions import db

log = logging.getLogger(__name__)


def needed(config) -> int:
    """Connections the whole deployment may open at once: every gunicorn process its full pool,
    every worker process one (it does one thing at a time)."""
    options = config["SQLALCHEMY_ENGINE_OPTIONS"]  # pool_size, max_overflow: config.finish
    per_process = int(options["pool_size"]) + int(options["max_overflow"])
    return int(config["APP_PROCESSES"]) * per_process + int(config["WORKER_PROCESSES"])


def server_limit(url) -> int:
    """Connections the server gives ordinary users: max_connections less the reserved ones.
    Asked on a connection of its own, closed at once: the app's pool keeps nothing from it."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            total = int(connection.exec_driver_sql("SHOW max_connections").scalar())
            reserved = int(connection.exec_driver_sql("SHOW superuser_reserved_connections").scalar())
    finally:
        engine.dispose()
    return total - reserved


def check(app: Flask) -> None:
    """Refuses to start in production, and warns in development, when the pools cannot fit; only
    warns when the server cannot be asked (a process must be able to start during an outage)."""
    if db.engine.dialect.name != "postgresql":
        return
    if app.config["DATABASE_POOLER"]:
        # The pools count against the pooler's max_client_conn, and the pooler's own pool sizes
        # against max_connections: PgBouncer's settings, not ours (docs/several-servers.md).
        return
    want = needed(app.config)
    try:
        limit = server_limit(db.engine.url)
    except SQLAlchemyError as exc:
        log.warning("could not read the database's max_connections (%s); the pools were not checked",
                    type(exc).__name__)
        return
    if want <= limit:
        return
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    problem = (f"the connection pools need up to {want} PostgreSQL connections (APP_PROCESSES "
               f"{app.config['APP_PROCESSES']} × (pool_size {options['pool_size']} + max_overflow "
               f"{options['max_overflow']}) + WORKER_PROCESSES {app.config['WORKER_PROCESSES']}), "
               f"but the server allows {limit} (max_connections less superuser_reserved_connections): "
               f"lower EVENTREG_DB_POOL_SIZE / EVENTREG_DB_MAX_OVERFLOW or raise max_connections "
               f"(docs/operations.md)")
    if app.config["ENV"] == "production":
        raise UnsafeConfiguration(problem)
    log.warning("%s", problem)
