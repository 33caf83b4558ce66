"""A web process trusts a checked API token for API_TOKEN_CACHE_SECONDS, and no longer."""

from eventreg.domain import staff
from eventreg.extensions import db
from eventreg.models import ApiToken
from eventreg.web import api

from .. import factories


def test_a_checked_token_is_trusted_for_the_cache_time_only(app, client, make_event, monkeypatch):
    monkeypatch.setitem(app.config, "API_TOKEN_CACHE_SECONDS", 30)
    monkeypatch.setattr(api, "_tokens", {})
    event = make_event()
    user = factories.make_staff("reception", events=[event])
    token = staff.create_api_token(user, "desk 1", now=factories.in_days(0))
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/events/{event.id}/counts", headers=headers).status_code == 200
    assert len(api._tokens) == 1 and token not in next(iter(api._tokens))  # keyed by hash

    db.session.query(ApiToken).update({"revoked_at": factories.in_days(0)})
    db.session.commit()
    # Within the cache time the process still trusts it (documented in config.py and the README)…
    assert client.get(f"/api/v1/events/{event.id}/counts", headers=headers).status_code == 200
    # …and once the entry expires, the database says no.
    key = next(iter(api._tokens))
    api._tokens[key] = (0.0, api._tokens[key][1])
    assert client.get(f"/api/v1/events/{event.id}/counts", headers=headers).status_code == 401
    assert api._tokens == {}

