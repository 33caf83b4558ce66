"""Entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""

from eventreg import create_app
from eventreg.config import UnsafeConfiguration, exit_refused

try:
    app = create_app()
except UnsafeConfiguration as refused:
    exit_refused(refused)
