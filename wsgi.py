"""Entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""

from eventreg import create_app

app = create_app()
