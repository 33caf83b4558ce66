"""While the database is unreachable, people get a 503 that says to try again shortly.

Not a generic 500 page: a page in their language with Retry-After, and under /api/ the API's
JSON error shape with the code ``unavailable``. The app here reaches the test database through
outages.py: on PostgreSQL a gate that cuts the connections (and the pool's), on SQLite a volume
that is not mounted yet. When the database is back, the same app serves the page again.
"""

from __future__ import annotations

from eventreg import clock
from eventreg.domain.access import api_tokens
from eventreg.extensions import db

from .. import factories
from .outages import SwitchedDatabase


def _outage_app(make_app, url: str):
    return make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "BASE_URL": "http://testserver",
                       "MAIL_PORT": 1, "RATELIMIT_ENABLED": False, "EVENT_CACHE_SECONDS": 0})


def test_pages_and_the_api_answer_503_while_the_database_is_unreachable(app, ctx, tmp_path, make_app):
    event = factories.make_event()
    organizer = factories.make_staff("organizer", events=[event])
    token = api_tokens.create_api_token(organizer, "outage", now=clock.utcnow())
    db.session.commit()
    page, api = f"/e/{event.slug}", f"/api/v1/events/{event.id}/registrations"
    bearer = {"Authorization": f"Bearer {token}"}

    database = SwitchedDatabase(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    try:
        client = _outage_app(make_app, database.url).test_client()
        if database.up:
            assert client.get(page).status_code == 200
            database.cut()

        japanese = client.get(page)
        assert japanese.status_code == 503 and japanese.headers["Retry-After"] == "15"
        assert "ただいま一時的にご利用いただけません" in japanese.get_data(as_text=True)
        client.set_cookie("lang", "en")
        english = client.get(page)
        assert english.status_code == 503 and "temporarily unavailable" in english.get_data(as_text=True)
        answer = client.get(api, headers=bearer)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "15"
        assert answer.get_json()["error"]["code"] == "unavailable"

        database.restore()
        assert client.get(page).status_code == 200
        assert client.get(api, headers=bearer).status_code == 200
    finally:
        database.close()
