"""The web edge: one blueprint per audience."""

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # PostgreSQL's integer; a larger id in a URL is a 404, not a database error


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route is a row id: 1 .. 2^31-1, digits only (no sign, no 20 digits)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    from . import (
        admin,
        api,
        auth,
        desk_badge,
        desk_vendor,
        dev,
        errors,
        filters,
        health,
        i18n,
        input_guard,
        public,
        reception,
        security,
    )

    # Before any route is added: every <int:...> of every blueprint is an id.
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["id"] = IdConverter
    for blueprint in (public.bp, i18n.bp, auth.bp, reception.bp, desk_badge.bp, desk_vendor.bp, api.bp, admin.bp, health.bp):
        app.register_blueprint(blueprint)
    from . import verify  # certificates of attendance: /verify (issue 17)
    app.register_blueprint(verify.bp)
    from . import survey  # issue 17: the survey's answer page (/s/<key>)

    app.register_blueprint(survey.bp)
    if app.config["ENV"] != "production":
        app.register_blueprint(dev.bp)
    _declare_writes(app)
    from ..domain.access.permissions import CREATES_EVENTS, Capability
    from .access import may

    app.jinja_env.globals.update(may=may, Capability=Capability, CREATES_EVENTS=CREATES_EVENTS)
    security.register(app)
    input_guard.register(app)
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
