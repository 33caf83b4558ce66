"""GET /healthz: whether this server can serve, for a load balancer, a monitor or systemd.

200 ``{"status": "ok"}`` when the database answers within a short time through this process's own
pool (the connections every page uses) and its schema is the code's (or newer: during an upgrade
the schema moves first, docs/deploy.md); 503 ``{"status": "unavailable", "reason": ...}`` when
the database cannot be reached, answers too slowly, or lacks the code's schema (``flask db
upgrade`` not run). The reason is a fixed word, never a driver's message: no host, user or SQL.

Public (nothing in it is anyone's), one query, no session, no cookie, no template, never cached.
"""

from __future__ import annotations

import functools

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

bp = Blueprint("health", __name__)

# PostgreSQL gives up on the probe's query after this; SQLite's reads do not wait for writers (WAL).
STATEMENT_TIMEOUT_MS = 2000


@functools.cache
def _revisions(directory: str) -> tuple[frozenset[str], frozenset[str]]:
    """The code's migration heads and every revision it knows (read once per process)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(directory)
    return frozenset(scripts.get_heads()), frozenset(s.revision for s in scripts.walk_revisions())


def schema_state(version: str | None) -> str:
    """``current``, ``newer`` (a revision this code does not know: the schema was upgraded for the
    next release, which expand-only migrations allow) or ``behind`` (missing or an older one)."""
    heads, known = _revisions(current_app.extensions["migrate"].directory)
    if version in heads:
        return "current"
    if version is not None and version not in known:
        return "newer"
    return "behind"


@bp.get("/healthz")
def check():
    try:
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        db.session.rollback()
        from ..outage import schema_behind

        reason = "schema_behind" if schema_behind(exc) else "database_unavailable"
        current_app.logger.warning("health check: %s", reason)
        return _answer(503, reason)
    finally:
        db.session.rollback()  # ends the transaction (and its SET LOCAL) at once
    state = schema_state(version)
    if state == "behind":
        return _answer(503, "schema_behind")
    return _answer(200, None)


def _answer(status: int, reason: str | None):
    body = {"status": "ok"} if reason is None else {"status": "unavailable", "reason": reason}
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if status == 503:
        response.headers["Retry-After"] = "15"
    return response
