"""A test client whose every request runs in its own app context, as in production.

The ``ctx`` fixture keeps one app context open for a whole test; requests of Flask's plain test
client then share its ``g`` (Flask-Login's cached user, flask-wtf's CSRF token) and its
database session: a view that forgot to commit looked as if it had worked, since the test read
its changes from the same session. So every test client of the suite's app is this one
(tests/conftest.py sets ``test_client_class``): before each request the test's own session
ends its transaction (uncommitted changes are dropped: tests commit what a request must see),
and the request gets a fresh app context, session and ``g``; what it did not commit is rolled
back when it ends. ``response.access_decision`` is what web/access.py decided for the request,
if a rule of it ran.
"""

from __future__ import annotations

from flask import g, has_app_context
from flask.testing import FlaskClient

from eventreg.extensions import db


class IsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        if has_app_context():  # the test's own session (browser and race tests hold none)
            db.session.rollback()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
            response.get_data()  # read the body while the request's context still exists
            response.close()  # and close what it was read from (a static file stays open otherwise)
            # What web/access.py decided ("allowed", "not_found", "forbidden"; None: no rule ran).
            response.access_decision = g.get("access_decision")
            db.session.remove()
        return response


def isolated_client(app) -> IsolatedClient:
    return IsolatedClient(app, app.response_class, use_cookies=True)
