"""Who may open what: every staff URL × every role, login limits and session lifetime."""

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

    from eventreg.domain import jobs

    job = jobs.queue_badge_sheet(event.id, datetime.now(timezone.utc)).id
    db.session.commit()
    return {"event": event.id, "other": other.id, "person": person.id, "job": job, "users": users}


# (url template, expected status per role). Reception sees its own desk and API only; a desk
# of an event it does not work on is a 404 (it learns nothing), organizer pages are 403.
URLS = [
    ("/staff", {ANON: 302, RECEPTION: 200, OTHER_RECEPTION: 200, ORGANIZER: 200}),
    ("/desk/{event}", {ANON: 302, RECEPTION: 200, OTHER_RECEPTION: 404, ORGANIZER: 200}),
    ("/desk/{event}/badge/{person}", {ANON: 302, RECEPTION: 200, OTHER_RECEPTION: 404, ORGANIZER: 200}),
    ("/desk/{other}", {ANON: 302, RECEPTION: 404, OTHER_RECEPTION: 200, ORGANIZER: 200}),
    # Back-office pages: reception of this event lacks the capability (403); staff of another
    # event have no role on it at all (404).
    ("/admin/events/{event}/checkins", {ANON: 302, RECEPTION: 403, OTHER_RECEPTION: 404, ORGANIZER: 200}),
    ("/admin/events/{event}/badges", {ANON: 302, RECEPTION: 403, OTHER_RECEPTION: 404, ORGANIZER: 200}),
    ("/admin/jobs/{job}", {ANON: 302, RECEPTION: 403, OTHER_RECEPTION: 404, ORGANIZER: 200}),
    ("/admin/jobs/{job}.json", {ANON: 302, RECEPTION: 403, OTHER_RECEPTION: 404, ORGANIZER: 200}),
    ("/admin/jobs/{job}/download", {ANON: 302, RECEPTION: 403, OTHER_RECEPTION: 404, ORGANIZER: 404}),  # not done
    # An id beyond the database's integer matches no route: a 404 for everyone, never a 500.
    ("/admin/jobs/2147483648", {ANON: 404, RECEPTION: 404, OTHER_RECEPTION: 404, ORGANIZER: 404}),
    ("/api/v1/events/{event}/counts", {ANON: 401, RECEPTION: 200, OTHER_RECEPTION: 404, ORGANIZER: 200}),
    ("/api/v1/events/{event}/search?q=", {ANON: 401, RECEPTION: 200, OTHER_RECEPTION: 404, ORGANIZER: 200}),
    ("/api/v1/events/999999/counts", {ANON: 401, RECEPTION: 404, OTHER_RECEPTION: 404, ORGANIZER: 404}),
]


@pytest.mark.parametrize("role", [ANON, RECEPTION, OTHER_RECEPTION, ORGANIZER])
def test_every_url_for_every_role(client, login, world, role):
    if role != ANON:
        login(world["users"][role])
    for template, expected in URLS:
        url = template.format(**world)
        response = client.get(url)
        assert response.status_code == expected[role], (url, role)
        if role == ANON and expected[role] == 302:
            assert "/login" in response.headers["Location"]


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
