"""The web edge: one blueprint per audience."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import admin, api, auth, dev, errors, filters, i18n, public, reception

    for blueprint in (public.bp, i18n.bp, auth.bp, reception.bp, api.bp, admin.bp):
        app.register_blueprint(blueprint)
    if app.config["ENV"] != "production":
        app.register_blueprint(dev.bp)
    _declare_writes(app)
    errors.register(app)
    filters.register(app)


def _declare_writes(app: Flask) -> None:
    """Requests that may write take SQLite's write lock up front (see eventreg.sqlite)."""
    from flask import g, request

    from ..sqlite import write_intent

    @app.before_request
    def _intent():
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            g.sqlite_write_token = write_intent.set(True)

    @app.teardown_request
    def _reset(_exc):
        token = g.pop("sqlite_write_token", None)
        if token is not None:
            write_intent.reset(token)
