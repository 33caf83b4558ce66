"""The web edge: one blueprint per audience."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import dev, errors, filters, i18n, public

    app.register_blueprint(public.bp)
    app.register_blueprint(i18n.bp)
    if app.config["ENV"] != "production":
        app.register_blueprint(dev.bp)
    errors.register(app)
    filters.register(app)
