"""Baseline for bench/registration.py: the cheapest honest DB-backed POST.

One Flask + Flask-SQLAlchemy endpoint that inserts one row into a small table and answers
302, served by the same gunicorn settings as the real app. No templates, no forms, no CSRF.

    BARE_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/DB \
        gunicorn -w 2 -b 127.0.0.1:PORT --chdir bench 'bare_app:create_app()'

The table (``bench_bare_item``) is created by the benchmark harness, not here, so that two
workers starting at once do not race on CREATE TABLE.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from flask import Flask, redirect, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class BareItem(db.Model):
    __tablename__ = "bench_bare_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


CREATE_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_bare_item (
    id SERIAL PRIMARY KEY,
    email VARCHAR(254) NOT NULL,
    name VARCHAR(100) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
)
"""


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["BARE_DATABASE_URI"]
    db.init_app(app)

    @app.post("/insert")
    def insert():
        item = BareItem(
            email=request.form.get("email", ""),
            name=request.form.get("family_name", "")[:100],
            created_at=datetime.now(timezone.utc),
        )
        db.session.add(item)
        db.session.commit()
        return redirect(f"/r/{item.id}")

    _add_checkin(app)
    return app



# --- baseline for bench/checkin.py ----------------------------------------------------------

CREATE_PASS_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_bare_pass (
    id SERIAL PRIMARY KEY,
    token VARCHAR(64) NOT NULL UNIQUE,
    checked_in_at TIMESTAMPTZ
)
"""


def _add_checkin(app: Flask) -> None:
    """POST /checkin {"payload": "ER1:<token>"}: one conditional UPDATE by the indexed token."""
    from flask import jsonify
    from sqlalchemy import text

    statement = text("UPDATE bench_bare_pass SET checked_in_at = now() "
                     "WHERE token = :token AND checked_in_at IS NULL")

    @app.post("/checkin")
    def checkin():
        body = request.get_json(silent=True)
        payload = body.get("payload") if isinstance(body, dict) else None
        if not isinstance(payload, str):
            return jsonify({"error": "payload"}), 400
        result = db.session.execute(statement, {"token": payload.removeprefix("ER1:")})
        db.session.commit()
        return jsonify({"result": "ok" if result.rowcount == 1 else "already_checked_in"})
