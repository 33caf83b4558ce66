"""A test client whose every request runs in its own app context, as in production.

The ``ctx`` fixture keeps one app context open for a whole test; requests of the plain test
client then share its ``g`` (Flask-Login's cached user, flask-wtf's CSRF token) and its
database session (a POST that does not commit keeps SQLite's write lock). With several
browsers in one test that is wrong, so: before each request the test's own session ends its
transaction (uncommitted changes are dropped: tests commit what a request must see), and the
request gets a fresh app context, session and ``g``.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from eventreg.extensions import db


class IsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        db.session.rollback()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
            response.get_data()  # read the body while the request's context still exists
            db.session.remove()
        return response


def isolated_client(app) -> IsolatedClient:
    return IsolatedClient(app, app.response_class, use_cookies=True)
