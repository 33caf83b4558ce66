"""eventreg: event registration and badge issuance."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from .config import instance_path, load
from .extensions import babel, csrf, db, limiter, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=instance_path(),
    )
    load(app.config, config, app.instance_path)
    os.makedirs(app.instance_path, exist_ok=True)
    from . import clock

    clock.configure(str(Path(app.instance_path) / "clock.json") if app.config["ENV"] == "development" else None,
                    app.config["CLOCK"])

    _init_extensions(app)
    from . import connections

    with app.app_context():
        connections.check(app)
    from .web import register_blueprints

    register_blueprints(app)
    from .cli import register_cli

    register_cli(app)
    from .domain.privacy import retention

    retention.configure(app.config)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    if int(app.config["PROXY_COUNT"] or 0) > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only X-Forwarded-For, and only as many hops as there are proxies of ours.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_COUNT"]), x_proto=0, x_host=0)
    from .web.i18n import select_locale

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(ROOT / "eventreg" / "translations"),
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from . import sqlite

        with app.app_context():
            sqlite.tune(db.engine)
