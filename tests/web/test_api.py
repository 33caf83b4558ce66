"""The scanner API (/api/v1): authentication, every route's happy path and every error path.

Data is made in short app contexts and requests run without one, so each request sees only what
a real client would (no shared session, no Flask-Login user cached in ``g``).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from eventreg.domain.access import api_tokens
from eventreg.domain.registration import passes, signup
from eventreg.extensions import db
from eventreg.models import ApiToken, Event, EventMember, EventRole, Registration, Role, Scan, ScanResult, StaffUser

from .. import factories
from .conftest import csrf_token

API = "/api/v1"


def now():
    return datetime.now(timezone.utc)


_HASH: list[str] = []


def fast_staff(role: str, events=()) -> StaffUser:
    """factories.make_staff without a password hash per user (scrypt costs ~0.2 s each)."""
    if not _HASH:
        _HASH.append(generate_password_hash(factories.PASSWORD))
    n = len(db.session.scalars(select(StaffUser.id)).all()) + 1
    account = Role.organizer if role == "organizer" else Role.staff
    if role == "organizer" and not events:
        events = db.session.scalars(select(Event)).all()
    event_role = EventRole.owner if role == "organizer" else EventRole(role)
    user = StaffUser(email=f"api-staff{n}@example.org", name="受付 太郎", role=account, active=True,
                     created_at=now(), password_hash=_HASH[0],
                     memberships=[EventMember(event_id=e.id, role=event_role, created_at=now()) for e in events])
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def world(app):
    """Two events; an organizer and a reception user (for event A) with tokens; people of A and B."""
    with app.app_context():
        start = factories.in_days(14)
        a = factories.make_event(sessions=[
            {"title": "第1回", "date": start.date().isoformat(), "start": "14:00", "end": "15:30", "capacity": 2},
            {"title": "第2回", "date": start.date().isoformat(), "start": "19:00", "end": "20:30", "capacity": 5},
        ])
        b = factories.make_event()
        organizer = fast_staff("organizer")
        reception = fast_staff("reception", events=[a])
        hanako = factories.register_person(a, family_name="山田", given_name="花子", family_kana="ヤマダ",
                                           given_kana="ハナコ", email="hanako@example.org")
        ichiro = factories.register_person(a, family_name="鈴木", given_name="一郎", family_kana="スズキ",
                                           given_kana="イチロウ", organization="ACME")
        waiting = factories.register_person(a)  # session 1 holds 2: waitlisted
        late = factories.register_person(a, session_index=1, family_kana="イトウ")
        gone = factories.register_person(a, session_index=1)
        signup.cancel(gone, now=now())
        stranger = factories.register_person(b, family_name="他人", family_kana="タニン")
        w = SimpleNamespace(
            a=a.id, b=b.id, s1=a.sessions[0].id, s2=a.sessions[1].id, b_s=b.sessions[0].id,
            organizer_email=organizer.email, reception_email=reception.email,
            org_token=api_tokens.create_api_token(organizer, "scanner", now=now()),
            rec_token=api_tokens.create_api_token(reception, "desk 2", now=now()),
            # <who>_token: what the QR code of their pass carries (the entry credential)
            hanako=hanako.id, hanako_token=passes.qr_payload(hanako), ichiro=ichiro.id,
            ichiro_token=passes.qr_payload(ichiro), waiting=waiting.id, waiting_token=passes.qr_payload(waiting),
            late=late.id, late_token=passes.qr_payload(late), gone=gone.id, gone_token=passes.qr_payload(gone),
            stranger=stranger.id, stranger_token=passes.qr_payload(stranger),
            # the management secrets (view/cancel links) and entry ids, which no log may show
            secrets=[r.token for r in (hanako, ichiro, waiting, late, gone, stranger)],
            entry_ids={who: r.entry_id for who, r in (("hanako", hanako), ("stranger", stranger), ("gone", gone))},
        )
        assert waiting.status.value == "waitlisted"
        db.session.commit()
        db.session.remove()
    return w


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def call(client, method: str, url: str, token: str | None, body=None, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers.update(bearer(token))
    if method == "GET":
        return client.get(API + url, headers=headers, **kw)
    if body is not None and "data" not in kw:
        kw["json"] = body
    return client.post(API + url, headers=headers, **kw)


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.is_json, response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def cli(app, *args: str):
    """A CLI command as `flask --app wsgi ...` runs it (the flask command pushes an app context)."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    assert result.exit_code == 0, result.output
    return result.output


def scans(app) -> list[Scan]:
    with app.app_context():
        rows = db.session.scalars(select(Scan).order_by(Scan.id)).all()
        db.session.expunge_all()
        return rows


def desk_counts(counts: dict) -> dict:
    """The counters the desk shows, out of the API's counts (docs/statistics.md)."""
    return {name: counts[name] for name in ("confirmed", "checked_in", "not_arrived", "walk_ins")}


# --- authentication -----------------------------------------------------------------------


def test_bearer_token_from_the_domain(client, world):
    response = call(client, "GET", f"/events/{world.a}/counts", world.org_token)
    assert response.status_code == 200
    assert desk_counts(response.get_json()) == {"confirmed": 3, "checked_in": 0, "not_arrived": 3, "walk_ins": 0}


def test_bearer_token_from_the_cli_and_revoking_it(app, client, world):
    token = cli(app, "api-tokens", "create", world.reception_email, "--name", "iPad at desk 2").strip()
    assert token.startswith("er_")
    assert call(client, "GET", f"/events/{world.a}/counts", token).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.name == "iPad at desk 2"))
        assert row.last_used_at is not None and token not in row.token_hash
        token_id = row.id
    listed = cli(app, "api-tokens", "list")
    assert "iPad at desk 2" in listed and token not in listed
    cli(app, "api-tokens", "revoke", str(token_id))
    assert_error(call(client, "GET", f"/events/{world.a}/counts", token), 401, "unauthorized")
    assert_error(call(client, "POST", f"/events/{world.a}/checkins", token, {"payload": world.hanako_token}),
                 401, "unauthorized")


def test_a_deactivated_users_token_stops_working(app, client, world):
    cli(app, "users", "deactivate", world.reception_email)
    assert_error(call(client, "GET", f"/events/{world.a}/counts", world.rec_token), 401, "unauthorized")


BAD_CREDENTIALS = [
    {},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer er_not-a-real-token"},
    {"Authorization": "Bearer " + "x" * 5000},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "bearer lowercase-scheme"},
    {"X-CSRFToken": "anything"},
]


@pytest.mark.parametrize(("method", "url"), [
    ("GET", "/events/{a}/counts"), ("GET", "/events/{a}/search?q=x"), ("POST", "/events/{a}/lookup"),
    ("POST", "/events/{a}/checkins"), ("POST", "/events/{a}/registrations/{hanako}/checkin"),
    ("POST", "/events/{a}/registrations/{hanako}/undo"), ("POST", "/events/{a}/walk-ins"),
])
def test_without_valid_credentials_every_route_answers_401_json(app, client, world, method, url):
    url = url.format(**vars(world))
    for headers in BAD_CREDENTIALS:
        response = call(client, method, url, None, {"payload": world.hanako_token}, headers=dict(headers))
        assert_error(response, 401, "unauthorized")
    assert scans(app) == []


def test_the_openapi_document_needs_no_credentials(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.get_json()["openapi"].startswith("3.0")


def test_reception_sees_only_assigned_events(client, world):
    assert call(client, "GET", f"/events/{world.a}/counts", world.rec_token).status_code == 200
    for method, url in [("GET", f"/events/{world.b}/counts"), ("GET", f"/events/{world.b}/search?q=他人"),
                        ("POST", f"/events/{world.b}/lookup"), ("POST", f"/events/{world.b}/checkins"),
                        ("POST", f"/events/{world.b}/registrations/{world.stranger}/checkin"),
                        ("POST", f"/events/{world.b}/registrations/{world.stranger}/undo"),
                        ("POST", f"/events/{world.b}/walk-ins"), ("GET", "/events/999999/counts")]:
        response = call(client, method, url, world.rec_token, {"payload": world.stranger_token})
        error = assert_error(response, 404, "not_found")
        assert "他人" not in error["message"]
    # The organizer may use every event.
    assert call(client, "GET", f"/events/{world.b}/counts", world.org_token).status_code == 200


# --- session authentication (the desk page) ------------------------------------------------


@pytest.fixture
def desk_client(app, world, login):
    client = login(SimpleNamespace(email=world.reception_email))
    return client, csrf_token(client, "/staff")


def test_desk_session_reads_without_and_posts_with_the_csrf_header(desk_client, world):
    client, token = desk_client
    assert client.get(f"{API}/events/{world.a}/counts").status_code == 200
    url = f"{API}/events/{world.a}/checkins"
    assert_error(client.post(url, json={"payload": world.hanako_token}), 400, "csrf_failed")
    assert_error(client.post(url, json={"payload": world.hanako_token}, headers={"X-CSRFToken": "forged"}),
                 400, "csrf_failed")
    ok = client.post(url, json={"payload": world.hanako_token}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and ok.get_json()["result"] == "ok"
    assert ok.get_json()["registration"]["checked_in_desk"] == "受付 太郎"  # the user's name by default


@pytest.mark.parametrize("url", ["/events/{a}/lookup", "/events/{a}/registrations/{hanako}/checkin",
                                 "/events/{a}/registrations/{hanako}/undo", "/events/{a}/walk-ins"])
def test_every_desk_post_needs_the_csrf_header(desk_client, world, url):
    client, _token = desk_client
    response = client.post(API + url.format(**vars(world)), json={"payload": world.hanako_token})
    assert_error(response, 400, "csrf_failed")


def test_desk_session_of_reception_cannot_reach_another_event(desk_client, world):
    client, token = desk_client
    assert_error(client.get(f"{API}/events/{world.b}/counts"), 404, "not_found")
    response = client.post(f"{API}/events/{world.b}/checkins", json={"payload": world.stranger_token},
                           headers={"X-CSRFToken": token})
    assert_error(response, 404, "not_found")


def test_desk_scan_method_header_goes_to_the_log(app, desk_client, world):
    client, token = desk_client
    client.post(f"{API}/events/{world.a}/checkins", json={"payload": world.hanako_token},
                headers={"X-CSRFToken": token, "X-Scan-Method": "camera"})
    client.post(f"{API}/events/{world.a}/checkins", json={"payload": world.hanako_token},
                headers={"X-CSRFToken": token, "X-Scan-Method": "<script>"})
    assert [s.method for s in scans(app)] == ["camera", "desk"]


# --- happy paths -----------------------------------------------------------------------------


def test_lookup_tells_what_a_pass_is_without_checking_in(app, client, world):
    response = call(client, "POST", f"/events/{world.a}/lookup", world.rec_token,
                    {"payload": world.hanako_token})
    assert response.status_code == 200
    person = response.get_json()["registration"]
    assert (person["id"], person["name"], person["kana"], person["status"]) == (
        world.hanako, "山田 花子", "ヤマダ ハナコ", "confirmed")
    assert person["checked_in_at"] is None and person["session"]["id"] == world.s1
    assert scans(app) == []  # a lookup is not a scan
    assert_error(call(client, "POST", f"/events/{world.a}/lookup", world.rec_token, {"payload": "ER1:" + "A" * 32}),
                 404, "unknown_pass")
    assert_error(call(client, "POST", f"/events/{world.a}/lookup", world.rec_token,
                      {"payload": "ER1:" + world.secrets[0]}), 404, "unknown_pass")  # the old format
    assert_error(call(client, "POST", f"/events/{world.a}/lookup", world.rec_token, {"payload": "garbage"}),
                 404, "unknown_pass")
    # Another event's pass is unknown here, and nothing about its holder comes back.
    other = call(client, "POST", f"/events/{world.a}/lookup", world.org_token, {"payload": world.stranger_token})
    assert_error(other, 404, "unknown_pass")
    assert "他人" not in other.get_data(as_text=True)


@pytest.mark.parametrize(("who", "body", "result", "has_registration"), [
    ("hanako", {}, "ok", True),
    ("waiting", {}, "waitlisted", True),
    ("gone", {}, "cancelled", True),
    ("late", {"session_id": "s1"}, "wrong_session", True),
    ("late", {"session_id": "s2"}, "ok", True),
    ("stranger", {}, "wrong_event", False),
    (None, {}, "unknown_pass", False),
])
def test_scan_outcomes(app, client, world, who, body, result, has_registration):
    payload = getattr(world, f"{who}_token") if who else "ER2:" + "B" * 136
    body = {k: getattr(world, v) for k, v in body.items()}
    response = call(client, "POST", f"/events/{world.a}/checkins", world.rec_token, {"payload": payload, **body})
    assert response.status_code == 200
    outcome = response.get_json()
    assert outcome["result"] == result and outcome["ok"] == (result == "ok") and outcome["message"]
    assert (outcome["registration"] is not None) == has_registration
    if has_registration:
        assert outcome["registration"]["id"] == getattr(world, who)
    [log] = scans(app)
    assert log.result.value == result and log.method == "api" and log.event_id == world.a
    assert log.registration_id == (getattr(world, who) if has_registration else None)


def test_scan_twice_and_counts(app, client, world):
    url = f"/events/{world.a}/checkins"
    first = call(client, "POST", url, world.rec_token, {"payload": world.hanako_token, "desk": " 東口 "})
    assert first.get_json()["result"] == "ok"
    again = call(client, "POST", url, world.org_token, {"payload": world.hanako_token, "desk": "西口"})
    outcome = again.get_json()
    assert outcome["result"] == "already_checked_in" and outcome["ok"] is False
    # Where and when the first check-in happened, not the second.
    assert outcome["registration"]["checked_in_desk"] == "東口"
    assert outcome["registration"]["checked_in_time"] and outcome["registration"]["checked_in_at"]
    counts = call(client, "GET", f"/events/{world.a}/counts", world.rec_token).get_json()
    assert desk_counts(counts) == {"confirmed": 3, "checked_in": 1, "not_arrived": 2, "walk_ins": 0}
    per_session = call(client, "GET", f"/events/{world.a}/counts?session_id={world.s2}", world.rec_token)
    assert desk_counts(per_session.get_json()) == {"confirmed": 1, "checked_in": 0, "not_arrived": 1, "walk_ins": 0}


def test_check_in_by_id_and_undo(app, client, world):
    base = f"/events/{world.a}/registrations"
    response = call(client, "POST", f"{base}/{world.ichiro}/checkin", world.rec_token, {"desk": "desk 3"})
    assert response.status_code == 200 and response.get_json()["result"] == "ok"
    assert call(client, "POST", f"{base}/{world.ichiro}/checkin", world.rec_token, {}).get_json()["result"] == \
        "already_checked_in"
    assert call(client, "POST", f"{base}/{world.late}/checkin", world.rec_token,
                {"session_id": world.s1}).get_json()["result"] == "wrong_session"
    assert call(client, "POST", f"{base}/{world.waiting}/checkin", world.rec_token, {}).get_json()["result"] == \
        "waitlisted"
    undone = call(client, "POST", f"{base}/{world.ichiro}/undo", world.rec_token, {"desk": "desk 3"})
    assert undone.status_code == 200
    body = undone.get_json()
    assert body["result"] == "undone" and body["registration"]["checked_in_at"] is None
    assert_error(call(client, "POST", f"{base}/{world.ichiro}/undo", world.rec_token, {}), 409, "not_checked_in")
    assert [(s.result, s.method) for s in scans(app)] == [
        (ScanResult.ok, "search"), (ScanResult.already_checked_in, "search"),
        (ScanResult.wrong_session, "search"), (ScanResult.waitlisted, "search"), (ScanResult.undone, "undo")]


@pytest.mark.parametrize("action", ["checkin", "undo"])
def test_by_id_other_events_and_missing_registrations_are_not_found(client, world, action):
    for event, registration in [(world.a, world.stranger), (world.a, 999_999), (world.b, world.hanako)]:
        response = call(client, "POST", f"/events/{event}/registrations/{registration}/{action}",
                        world.org_token, {})
        error = assert_error(response, 404, "not_found")
        assert "他人" not in error["message"] and "山田" not in error["message"]


def test_search(client, world):
    def search(query: str) -> list[int]:
        response = call(client, "GET", f"/events/{world.a}/search{query}", world.rec_token)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [r["id"] for r in response.get_json()["results"]]

    assert search("?q=すずき") == [world.ichiro]  # hiragana finds katakana
    assert search("?q=hanako@example") == [world.hanako]
    assert search("?q=acme") == [world.ichiro]
    assert search("?row=sa") == [world.ichiro]
    assert search(f"?session_id={world.s2}") == [world.late]  # the cancelled one is not listed
    assert world.gone not in search("")
    assert search("?q=他人") == []  # another event's people are never found here
    assert search("?q=" + "や" * 5000) == []
    refused = call(client, "GET", f"/events/{world.a}/search?row=nonsense", world.rec_token)
    assert_error(refused, 400, "invalid_request")  # an unknown kana row is refused, not ignored
    assert search("?row=") == search("")  # empty: every row
    assert search("?q=100%25") == []  # LIKE wildcards are literal


def test_walk_ins(app, client, world):
    url = f"/events/{world.a}/walk-ins"
    form = {"session_id": world.s2, "family_name": "佐藤", "given_name": "次郎", "family_kana": "さとう",
            "given_kana": "じろう", "organization": "", "sector": "individual", "desk": "desk 1"}
    response = call(client, "POST", url, world.rec_token, form)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["result"] == "walk_in" and body["ok"] is True
    person = body["registration"]
    assert person["walk_in"] and person["kana"] == "サトウ ジロウ" and person["checked_in_desk"] == "desk 1"
    # The walk-in is confirmed and arrived; the one registered beforehand is still to come.
    counted = call(client, "GET", f"/events/{world.a}/counts?session_id={world.s2}", world.rec_token).get_json()
    assert desk_counts(counted) == {"confirmed": 2, "checked_in": 1, "not_arrived": 1, "walk_ins": 1}

    # The same email twice for the session: already registered.
    twice = dict(form, email="walker@example.org")
    assert call(client, "POST", url, world.rec_token, twice).status_code == 201
    assert_error(call(client, "POST", url, world.rec_token, twice), 409, "already_registered")
    # Session 1 (capacity 2) is full: no waiting list at the desk.
    assert_error(call(client, "POST", url, world.rec_token, dict(form, session_id=world.s1)), 409, "session_full")
    with app.app_context():
        assert db.session.scalar(select(Registration.id).where(Registration.email == "walker@example.org"))


@pytest.mark.parametrize(("change", "field"), [
    ({"family_name": ""}, "family_name"),
    ({"family_kana": "Sato"}, "family_kana"),
    ({"sector": "pirates"}, "sector"),
    ({"email": "not an email"}, "email"),
    ({"session_id": "0"}, "session_id"),
    ({"family_name": "佐" * 51}, "family_name"),
])
def test_walk_in_form_errors_are_422_with_fields(client, world, change, field):
    form = {"session_id": world.s2, "family_name": "佐藤", "given_name": "次郎", "family_kana": "サトウ",
            "given_kana": "ジロウ", "sector": "individual", **change}
    form = {k: v for k, v in form.items() if v is not None}
    error = assert_error(call(client, "POST", f"/events/{world.a}/walk-ins", world.rec_token, form),
                         422, "invalid_input")
    assert field in error["fields"] and all(isinstance(m, str) for m in error["fields"][field])


@pytest.mark.parametrize("missing", ["session_id", "family_name", "given_name", "family_kana", "given_kana", "sector"])
def test_a_walk_in_without_a_required_field_is_400_as_the_document_says(client, world, missing):
    form = {"session_id": world.s2, "family_name": "佐藤", "given_name": "次郎", "family_kana": "サトウ",
            "given_kana": "ジロウ", "sector": "individual"}
    for sent in ({k: v for k, v in form.items() if k != missing}, {**form, missing: None}):
        error = assert_error(call(client, "POST", f"/events/{world.a}/walk-ins", world.rec_token, sent),
                             400, "invalid_request")
        assert list(error["fields"]) == [missing]
    error = assert_error(call(client, "POST", f"/events/{world.a}/walk-ins", world.rec_token, {}), 400, "invalid_request")
    assert set(error["fields"]) == set(form)  # `{}` was a 422 the document did not foresee
    required = _document(client)["components"]["schemas"]["WalkInRequest"]["required"]
    assert set(required) == set(form)


def _document(client) -> dict:
    return client.get(f"{API}/openapi.json").get_json()


def test_a_walk_in_for_another_events_session_is_refused(client, world):
    form = {"session_id": world.b_s, "family_name": "佐藤", "given_name": "次郎", "family_kana": "サトウ",
            "given_kana": "ジロウ", "sector": "individual"}
    error = assert_error(call(client, "POST", f"/events/{world.a}/walk-ins", world.rec_token, form),
                         422, "invalid_input")
    assert "session_id" in error["fields"]


# --- garbage in, 400 out ---------------------------------------------------------------------

POSTS = ["/events/{a}/lookup", "/events/{a}/checkins", "/events/{a}/registrations/{hanako}/checkin",
         "/events/{a}/registrations/{hanako}/undo", "/events/{a}/walk-ins"]


NOT_AN_OBJECT = [b"", b"not json", b"[]", b"[1, 2]", b'"a string"', b"null", b"42", b"true", b"{",
                 b'{"payload": }', b"\xff\xfe\x00garbage", b'{"payload": ' + b"1" * 5000 + b"}"]


@pytest.mark.parametrize("url", POSTS)
def test_bodies_that_are_not_a_json_object_are_400(client, world, url):
    for raw in NOT_AN_OBJECT:
        response = call(client, "POST", url.format(**vars(world)), world.org_token,
                        data=raw, content_type="application/json")
        assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("url", POSTS)
def test_lone_surrogates_inside_a_json_object_are_400(client, world, url):
    raw = '{"payload": "\udcff", "desk": "\udcff", "family_name": "\udcff"}'.encode("utf-8", "surrogatepass")
    response = call(client, "POST", url.format(**vars(world)), world.org_token,
                    data=raw, content_type="application/json")
    assert_error(response, 400, "invalid_request")
    escaped = call(client, "POST", url.format(**vars(world)), world.org_token,
                   data=b'{"payload": "ok", "desk": "\\udcff"}', content_type="application/json")
    assert_error(escaped, 400, "invalid_request")
    pair = json.dumps({"payload": "😀", "desk": "😀", "session_id": world.s2, "family_name": "佐藤",
                       "given_name": "次郎", "family_kana": "サトウ", "given_kana": "ジロウ", "sector": "individual"})
    assert "\\ud83d\\ude00" in pair  # sent as an escaped surrogate pair
    emoji = call(client, "POST", url.format(**vars(world)), world.org_token, data=pair.encode(),
                 content_type="application/json")
    assert emoji.status_code != 400 and emoji.status_code < 500  # a proper pair is fine


@pytest.mark.parametrize("url", POSTS)
def test_a_json_object_sent_as_a_form_is_400(client, world, url):
    response = call(client, "POST", url.format(**vars(world)), world.org_token,
                    data={"payload": world.hanako_token})
    assert_error(response, 400, "invalid_request")


SCAN_GARBAGE = [
    {"payload": 123}, {"payload": None}, {"payload": ["ER1:x"]}, {"payload": {"token": "x"}},
    {"payload": True}, {"payload": "x" * 501}, {"payload": "ER1:" + "A" * 10_000},
    {"payload": "ok", "session_id": True}, {"payload": "ok", "session_id": False},
    {"payload": "ok", "session_id": "1"}, {"payload": "ok", "session_id": 1.5}, {"payload": "ok", "session_id": [1]},
    {"payload": "ok", "session_id": {"id": 1}}, {"payload": "ok", "session_id": -1},
    {"payload": "ok", "session_id": 2 ** 70}, {"payload": "ok", "desk": 5}, {"payload": "ok", "desk": ["a"]},
    {"payload": "ok", "desk": None},
]


def test_wrong_types_in_a_scan_are_400(app, client, world):
    for body in SCAN_GARBAGE:
        response = call(client, "POST", f"/events/{world.a}/checkins", world.org_token, body)
        assert_error(response, 400, "invalid_request")
    assert scans(app) == []  # nothing was attempted, so nothing is logged


@pytest.mark.parametrize("body", [
    {"session_id": True}, {"session_id": "s"}, {"session_id": 0}, {"session_id": 2**31}, {"desk": 1}, {"desk": {}},
])
@pytest.mark.parametrize("action", ["checkin", "undo"])
def test_wrong_types_by_id_are_400(client, world, body, action):
    if action == "undo" and "session_id" in body:
        body = {"desk": True}
    response = call(client, "POST", f"/events/{world.a}/registrations/{world.hanako}/{action}",
                    world.org_token, body)
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("url", ["/events/{a}/counts?session_id={b_s}", "/events/{a}/search?session_id=999999"])
def test_a_session_of_another_event_is_422_invalid_input(client, world, url):
    """A well-formed id the document allows, naming nothing of this event: 422, not 400."""
    error = assert_error(call(client, "GET", url.format(**vars(world)), world.org_token), 422, "invalid_input")
    assert list(error["fields"]) == ["session_id"]
    for body in ({"payload": "ok", "session_id": world.b_s}, {"payload": "ok", "session_id": 999_999}):
        response = call(client, "POST", f"/events/{world.a}/checkins", world.org_token, body)
        assert_error(response, 422, "invalid_input")
        response = call(client, "POST", f"/events/{world.a}/registrations/{world.hanako}/checkin", world.org_token, body)
        assert_error(response, 422, "invalid_input")


@pytest.mark.parametrize("query", ["session_id={s1}&session_id={s2}", "q=a&q=b", "row=a&row=ka"])
def test_a_query_parameter_given_twice_is_400(client, world, query):
    url = f"/events/{world.a}/search?" + query.format(**vars(world))
    error = assert_error(call(client, "GET", url, world.org_token), 400, "invalid_request")
    assert len(error["fields"]) == 1


WALK_IN_GARBAGE = [
    {"session_id": True}, {"session_id": False}, {"session_id": [1]}, {"session_id": 1.5},
    {"family_name": 123}, {"family_name": ["佐藤"]}, {"given_name": {"a": 1}}, {"sector": False},
    {"email": 12}, {"desk": 5}, {"family_kana": True},
]


def test_wrong_types_in_a_walk_in_are_400(app, client, world):
    for change in WALK_IN_GARBAGE:
        form = {"session_id": world.s2, "family_name": "佐藤", "given_name": "次郎", "family_kana": "サトウ",
                "given_kana": "ジロウ", "sector": "individual", **change}
        response = call(client, "POST", f"/events/{world.a}/walk-ins", world.org_token, form)
        assert_error(response, 400, "invalid_request")
    with app.app_context():
        assert db.session.scalar(select(Registration.id).where(Registration.walk_in.is_(True))) is None


def test_a_boolean_session_id_is_not_session_one(client, world):
    """JSON true is not the integer 1 (Python's bool is an int): never a session by accident."""
    for url in [f"/events/{world.a}/counts?session_id=true", f"/events/{world.a}/search?session_id=true",
                f"/events/{world.a}/counts?session_id=abc", f"/events/{world.a}/counts?session_id=0",
                f"/events/{world.a}/counts?session_id={'9' * 5000}", f"/events/{world.a}/search?session_id=-1"]:
        assert_error(call(client, "GET", url, world.org_token), 400, "invalid_request")


def test_huge_bodies_and_strings(client, world):
    big = call(client, "POST", f"/events/{world.a}/checkins", world.org_token,
               data=b'{"payload": "' + b"A" * 300_000 + b'"}', content_type="application/json")
    assert_error(big, 413, "too_large")
    desk = call(client, "POST", f"/events/{world.a}/checkins", world.org_token,
                {"payload": world.hanako_token, "desk": "机" * 30_000})
    assert desk.status_code == 200 and desk.get_json()["registration"]["checked_in_desk"] == "机" * 50
    long_q = call(client, "GET", f"/events/{world.a}/search?q={'x' * 6000}", world.org_token)
    assert long_q.status_code == 200


# --- privacy ---------------------------------------------------------------------------------


def test_a_pass_token_never_reaches_a_log_line(app, client, world, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)  # SQL echo is configuration, not ours
    tokens = [world.hanako_token, world.stranger_token, world.gone_token]
    for token in tokens:
        for payload in (token, token.lower()):
            call(client, "POST", f"/events/{world.a}/checkins", world.rec_token, {"payload": payload})
            call(client, "POST", f"/events/{world.a}/lookup", world.rec_token, {"payload": payload})
            call(client, "POST", f"/events/{world.b}/checkins", world.rec_token, {"payload": payload})
            call(client, "POST", f"/events/{world.a}/checkins", world.rec_token,
                 {"payload": payload, "session_id": True})
            call(client, "POST", f"/events/{world.a}/checkins", world.rec_token,
                 {"payload": payload + "x" * 500})
    cli(app, "api-tokens", "list")
    text = "\n".join(r.getMessage() + repr(r.args) + (r.exc_text or "") for r in caplog.records)
    entry_ids = list(world.entry_ids.values())
    for secret in tokens + world.secrets + entry_ids + [world.rec_token, world.org_token]:
        assert secret not in text and secret.lower() not in text
    logged = scans(app)
    assert logged and {len(s.token_hash) for s in logged} == {12}
    assert {s.token_hash for s in logged} == {passes.token_hash(e) for e in entry_ids}
    for row in logged:
        assert not any(t in str(getattr(row, c.name)) for c in Scan.__table__.columns
                       for t in tokens + world.secrets + entry_ids)


def test_another_events_pass_gives_no_registration_data(client, world):
    for token in (world.org_token, world.rec_token):
        response = call(client, "POST", f"/events/{world.a}/checkins", token, {"payload": world.stranger_token})
        body = response.get_json()
        assert body["result"] == "wrong_event" and body["registration"] is None
        assert "他人" not in response.get_data(as_text=True)
    with client.application.app_context():
        stranger = db.session.get(Registration, world.stranger)
        assert stranger.checked_in_at is None  # and it was not checked in either


def test_no_token_in_api_urls(app):
    """Pass tokens travel in bodies only: no route of the API takes one in its path."""
    from werkzeug.routing import AnyConverter

    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")]
    assert rules and all(set(r.arguments) <= {"event_id", "registration_id", "which", "fmt"} for r in rules)
    for rule in rules:  # an export's name and format are fixed words, not free text
        assert all(isinstance(rule._converters[a], AnyConverter) for a in set(rule.arguments) & {"which", "fmt"})


def test_unrouted_api_urls_answer_in_the_json_error_shape(client, ctx):
    for method, url, status, code in [("GET", "/api/v1/nowhere", 404, "not_found"),
                                      ("GET", "/api/v1/events/abc/counts", 404, "not_found"),
                                      ("POST", "/api/v1/events/1/counts", 405, "method_not_allowed")]:
        response = client.open(url, method=method)
        assert response.status_code == status and response.json["error"]["code"] == code
    assert client.get("/nowhere").mimetype == "text/html"  # pages stay pages


# --- one source for each set of values; no input makes a 500 ----------------------------------


def test_an_unlisted_domain_code_answers_the_default_status_not_a_500(client, world, monkeypatch):
    from eventreg.domain.errors import DomainError
    from eventreg.domain.reception import checkin
    from eventreg.web.api import errors as api

    def new_rule(*args, **kwargs):
        raise DomainError("a_rule_nobody_listed_yet")

    monkeypatch.setattr(checkin, "undo", new_rule)
    assert "a_rule_nobody_listed_yet" not in api.DOMAIN_STATUS
    response = call(client, "POST", f"/events/{world.a}/registrations/{world.hanako}/undo", world.org_token, {})
    assert_error(response, api.DEFAULT_DOMAIN_STATUS, "a_rule_nobody_listed_yet")
    assert api.DEFAULT_DOMAIN_STATUS == 409


def test_scan_methods_come_from_the_model(app, client, world):
    from eventreg.models import ScanMethod
    from eventreg.web.api.schemas import HEADER_SCAN_METHODS

    document = client.get(f"{API}/openapi.json").get_json()
    [header] = [p for p in document["paths"][API + "/events/{event_id}/checkins"]["post"]["parameters"]
                if p["in"] == "header"]
    # Any text is accepted (a scan is never refused over it): no enum, the known values named.
    assert header["name"] == "X-Scan-Method" and "enum" not in header["schema"]
    assert header["schema"]["x-known-values"] == list(HEADER_SCAN_METHODS)
    # join: an online registrant's join link (web/join.py), never a scanner's to claim
    assert set(HEADER_SCAN_METHODS) == {m.value for m in ScanMethod} - {"walk_in", "undo", "join"}
    for method in HEADER_SCAN_METHODS + ("walk_in", "undo", "join", "bogus"):
        call(client, "POST", f"/events/{world.a}/checkins", world.org_token, {"payload": "x"},
             headers={"X-Scan-Method": method})
    logged = [s.method.value for s in scans(app)]
    assert logged == list(HEADER_SCAN_METHODS) + ["api", "api", "api", "api"]


@pytest.mark.parametrize("url, body", [
    ("/events/{a}/search?q=%E5%B1%B1%00%E7%94%B0", None),
    ("/events/{a}/search?q=%00", None),
    ("/events/{a}/checkins", {"payload": "x", "desk": "受付\x001"}),
    ("/events/{a}/registrations/{hanako}/checkin", {"desk": "\x00"}),
    ("/events/{a}/registrations/{hanako}/undo", {"desk": "a\x00"}),
    ("/events/{a}/walk-ins", {"session_id": "s2", "family_name": "佐藤", "given_name": "次郎", "family_kana": "サトウ",
                              "given_kana": "ジロウ", "sector": "other", "desk": "\x00"}),
])
def test_a_nul_character_is_a_400_not_a_500(app, client, world, url, body):
    if body is not None and body.get("session_id") == "s2":
        body = dict(body, session_id=world.s2)
    response = call(client, "GET" if body is None else "POST", url.format(**vars(world)), world.org_token, body)
    assert_error(response, 400, "invalid_request")
    assert scans(app) == []


def test_a_nul_in_the_desk_page_query_is_refused_in_words(client, login, world):
    with client.application.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == world.reception_email))
        db.session.expunge(user)
    login(user)
    page = client.get(f"/desk/{world.a}?desk=%E6%9D%B1%00%E5%8F%A3")  # web/input_guard.py
    assert page.status_code == 400 and "読み取れない文字" in page.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/events/{a}/checkins", "/events/{a}/registrations/{hanako}/checkin"])
def test_an_empty_session_id_means_none(client, world, url):
    """"" is none, as the document says (found by a long schemathesis run: a 500 once)."""
    response = call(client, "POST", url.format(**vars(world)), world.org_token,
                    {"payload": world.hanako_token, "session_id": ""})
    assert response.status_code == 200 and response.get_json()["result"] == "ok"
