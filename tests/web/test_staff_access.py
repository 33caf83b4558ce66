"""Staff access beyond the matrix: ids past the database's integer, a pass token is no staff
credential, sign-in limits, session lifetime, deactivation, the redirect after sign-in."""

import pytest

from eventreg.extensions import db

from .. import factories
from .conftest import csrf_token

ANON, RECEPTION, OTHER_RECEPTION, ORGANIZER = "anonymous", "reception", "reception of another event", "organizer"


@pytest.fixture
def world(make_event):
    event, other = make_event(), make_event()
    person = factories.register_person(event)
    users = {
        RECEPTION: factories.make_staff("reception", events=[event]),
        OTHER_RECEPTION: factories.make_staff("reception", events=[other]),
        ORGANIZER: factories.make_staff("organizer"),
    }
    from datetime import datetime, timezone

    from eventreg.domain.backoffice import jobs

    job = jobs.queue_badge_sheet(event.id, datetime.now(timezone.utc)).id
    db.session.commit()
    return {"event": event.id, "other": other.id, "person": person.id, "job": job, "users": users}


# Which role may open which URL is tests/web/test_authorization_matrix.py (every route of the
# app, every role). Here: what the matrix does not cover.


@pytest.mark.parametrize("url", ["/admin/jobs/2147483648", "/desk/2147483648", "/api/v1/events/2147483648/counts",
                                 "/admin/events/2147483648/team"])
def test_an_id_beyond_the_database_integer_is_a_404_for_everyone(client, login, world, url):
    """It matches no route (web/__init__.IdConverter): never a 500 from the database."""
    assert client.get(url).status_code == 404
    login(world["users"][ORGANIZER])
    assert client.get(url).status_code == 404


def test_reception_cannot_post_to_another_events_api(client, login, world):
    login(world["users"][OTHER_RECEPTION])
    token = csrf_token(client, "/staff")
    response = client.post(f"/api/v1/events/{world['event']}/registrations/{world['person']}/checkin",
                           json={}, headers={"X-CSRFToken": token})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_a_pass_token_is_no_staff_credential(client, world):
    from eventreg.models import Registration

    token = db.session.get(Registration, world["person"]).token
    response = client.get(f"/api/v1/events/{world['event']}/counts", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_login_is_rate_limited_per_email(client, world):
    user = world["users"][RECEPTION]
    for _ in range(5):
        bad = client.post("/login", data={"email": user.email, "password": "wrong-password-1",
                                          "csrf_token": csrf_token(client, "/login")})
        assert bad.status_code == 401
    blocked = client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                          "csrf_token": csrf_token(client, "/login")})
    assert blocked.status_code == 429
    assert client.get("/staff").status_code == 302  # still signed out


def test_session_expires_and_deactivation_signs_out(client, login, world):
    user = world["users"][RECEPTION]
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                           "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302 and "Expires=" in response.headers["Set-Cookie"]
    assert client.get("/staff").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/staff").status_code == 302


def test_open_redirect_after_login_is_refused(client, world):
    user = world["users"][ORGANIZER]
    response = client.post("/login?next=//evil.example/x", data={
        "email": user.email, "password": factories.PASSWORD, "csrf_token": csrf_token(client, "/login")})
    assert response.headers["Location"] == "/staff"
