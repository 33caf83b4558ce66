"""The authorization matrix: every rule of ``app.url_map`` × every actor × its methods.

Nothing here lists the staff URLs: they are read from the app, so a route someone adds tomorrow
is walked too. What a route needs is what its view declares (``.access``, web/access.py); what
each role has is domain/permissions.GRANTS. For every staff rule the test builds a URL from
real ids of a small world (FILLERS, by argument name: an unknown name fails, so a new kind of
route forces an update here), sends each of its methods as every actor, and checks:

- anonymous, a deactivated owner, a revoked token: 302 to the sign-in page (browser) / 401 (API);
- a staff member with no role on the event (or a token limited to another event): 404;
- a role without the capability: 403;
- a role with it: allowed, i.e. the view ran (the access decision says so) and the answer is
  no 401, 403 or 500. A 400 or a 404 for a missing form or object is fine;
- whoever asks: no management secret (an attendee's /r/<token> secret of either event, a pending
  invitation's secret, an API token after its creation) is in the answer's body or headers. The
  world's draft message names every link placeholder, so its preview would show one.

POSTs carry a valid CSRF token (browser) or X-CSRFToken header (desk session on the API), so
what is tested is the access rule, not CSRF. GETs are walked in one shared world; each rule
with another method gets a world of its own, and within it the actors that must be refused go
first, so an allowed POST that deletes something cannot change what a refused actor sees.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from werkzeug.routing import AnyConverter

from eventreg.domain.access import accounts, api_tokens, invitations
from eventreg.domain.access.permissions import GRANTS, Capability
from eventreg.domain.backoffice import jobs
from eventreg.domain.backoffice.roster import ListFilter
from eventreg.domain.communication import attendee_messages
from eventreg.extensions import db
from eventreg.models import DeskTask, EventRole, Registration, Role, SecurityListSend, StoredFile

from .. import factories
from .clients import isolated_client
from .conftest import csrf_token

# Endpoints anyone may open, and why. Everything else must declare its access.
PUBLIC = {
    "static": "CSS, JavaScript and images",
    "public.index": "the list of published events",
    "public.event_page": "an event and its sign-up form",
    "public.resent": "'we sent your details again' after a duplicate sign-up",
    # The attendee's own pages: the registration's secret in the URL is the credential.
    "public.registration": "the attendee's registration and pass (secret in the URL)",
    "public.pass_pdf": "the attendee's pass PDF (secret in the URL)",
    "public.calendar": "the attendee's calendar file (secret in the URL)",
    "public.cancel": "the attendee's cancellation (secret in the URL)",
    "public.switch": "a waiting attendee takes a free seat in another session (secret in the URL)",
    "public.favicon": "redirect to the SVG favicon",
    "public.confirm_email": "the attendee's email confirmation (secret and the mail's proof in the URL; POST confirms)",
    "public.unsubscribe": "stop organizer messages (RFC 8058 one-click; a key derived from the registration's secret in the URL)",
    "public.resend_confirmation": "the confirmation mail again, to the address given (secret in the URL)",
    "i18n.switch": "sets the language cookie",
    "auth.login": "the staff sign-in form (rate-limited)",
    "auth.logout": "ends the session the cookie names, if any",
    "auth.invite": "an invitation to an event's staff: the link's 256-bit secret is the credential",
    "auth.forgot_password": "asks for a password-reset link (the same answer for every address; rate-limited like sign-in)",
    "auth.reset_password": "a new password from an emailed link: the signed link is the credential",
    "desk_vendor.file": "the desk's browser packages from npm (QR decoder and encoder, signature verifier), public libraries",
    "reception.desk_app": "the desk's ES modules, our public code (static/desk/)",
    "reception.service_worker": "the desk's service worker, public code (it caches only what the page loaded)",
    "api.openapi": "the API's description",
    # Development only: never registered in production (web/__init__.py).
    "dev.mailbox": "the development mail catcher (development only)",
    "dev.clock_page": "the development clock (development only; not registered in production)",
    "dev.clock_change": "moving the development clock (development only)",
    "dev.message": "one caught message (development only)",
    "dev.raw": "one caught message as .eml (development only)",
    "health.check": "the health check: 200 or 503 and a fixed word, nothing of anyone's (web/health.py)",
    "join.join": "an online registrant's join link: the key (HMAC of the registration's secret and entry version) is the credential",
    "verify.form": "the form to check a certificate of attendance's code (rate-limited)",
    "verify.certificate": "a certificate of attendance checked by its printed code: name, event, date only (rate-limited)",
    "survey.answer": "the attendee's survey (a key derived from the registration's secret in the URL; only who came may answer)",
}

ANON, DEACTIVATED, OTHER = "anonymous", "deactivated owner", "staff of another event only"
ROLES = ("owner", "editor", "reception", "viewer")
BROWSER_ACTORS = (ANON, DEACTIVATED, OTHER) + ROLES
# Bearer tokens (API rules only): limited to event A with each role, limited to event B,
# one without an event (acts with its user's roles: reception on A), and a revoked one.
TOKEN_ROLES = {f"token {r}": EventRole(r) for r in ROLES}
TOKEN_OTHER, TOKEN_LEGACY, TOKEN_REVOKED = "token for event B", "token without event (reception)", "revoked token"
TOKEN_ACTORS = tuple(TOKEN_ROLES) + (TOKEN_OTHER, TOKEN_LEGACY, TOKEN_REVOKED)
SAFE = {"GET"}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


@dataclass
class World:
    """Event A (where the roles are) and event B (where OTHER is owner), with one of everything."""

    event: object
    other: object
    registration: object
    job_id: int
    invitation_id: int
    token_id: int
    send_id: int
    file_id: int
    tokens: dict = field(default_factory=dict)
    message_id: int = 0
    invitation_secret: str = ""
    task_id: int = 0


# Argument name -> a real id (or value) in the world. A route with an argument not named here
# fails the test: add what it means (an id of event A's object, so `via=` lookups find A).
FILLERS = {
    "event_id": lambda w, users: w.event.id,
    "registration_id": lambda w, users: w.registration.id,
    "session_id": lambda w, users: w.event.sessions[0].id,
    "question_id": lambda w, users: w.event.questions[0].id,
    "job_id": lambda w, users: w.job_id,
    "invitation_id": lambda w, users: w.invitation_id,
    "token_id": lambda w, users: w.token_id,
    "user_id": lambda w, users: users["viewer"].id,  # a member of A who is not its only owner
    "member_id": lambda w, users: users["viewer"].id,
    "send_id": lambda w, users: w.send_id,
    "file_id": lambda w, users: w.file_id,
    "rule_id": lambda w, users: w.event.reminders[0].id,  # the event's default reminder
    "message_id": lambda w, users: w.message_id,
    "task_id": lambda w, users: w.task_id,
    "name": lambda w, users: "0" * 20 + ".woff2",  # a badge font face (web/desk_badge.py): 404 after the check
    "survey_question_id": lambda w, users: _survey_question_id(w),  # event A's survey, made on first use
    "certificate_id": lambda w, users: _certificate_id(w),  # event A's certificate, made on first use
}


def _certificate_id(world) -> int:
    """A certificate of event A's registration (written as issued the first time; nobody checked in)."""
    from eventreg.domain.registration import certificates
    from eventreg.models import Certificate

    found = db.session.scalar(select(Certificate).where(Certificate.registration_id == world.registration.id))
    if found is None:
        found = Certificate(**certificates.as_printed(world.registration), code=certificates.new_code(),
                            issued_at=datetime.now(timezone.utc))
        db.session.add(found)
        db.session.commit()
    return found.id


def _survey_question_id(world) -> int:
    """A question of event A's survey (created with the default questions the first time)."""
    from eventreg.domain.insight import surveys

    survey = surveys.survey_of(world.event.id) or surveys.create_survey(
        world.event, with_defaults=True, title="matrix", actor=None, now=datetime.now(timezone.utc))
    db.session.commit()
    return survey.questions[0].id


def make_world(users: dict) -> World:
    now = datetime.now(timezone.utc)
    event = factories.make_event(questions=[{"label": "昼食", "kind": "single", "choices": ["要", "不要"]}])
    other = factories.make_event()
    for name in ROLES:
        accounts.assign(users[name], event, EventRole(name), now=now)
    accounts.assign(users["owner"], other, EventRole.owner, now=now)
    accounts.assign(users[OTHER], other, EventRole.owner, now=now)
    accounts.assign(users[DEACTIVATED], event, EventRole.owner, now=now)
    db.session.commit()
    registration = factories.register_person(event)
    job_id = jobs.queue_badge_sheet(event.id, now).id
    secrets = []
    invitation = invitations.invite(event, f"invited{event.id}@example.org", EventRole.viewer,
                                    actor=users["owner"], now=now,
                                    link=lambda raw: secrets.append(raw) or f"http://testserver/invite/{raw}")
    stored = StoredFile(event_id=event.id, filename="list.csv", content_type="text/csv", size=1, data=b"x",
                        created_at=now)
    db.session.add(stored)
    db.session.flush()
    send = SecurityListSend(event_id=event.id, session_id=event.sessions[0].id, seq=1, kind="full",
                            trigger="manual", created_at=now, recipient="security@example.org", columns=[],
                            people={}, added=[], removed=[], count=0, file_id=stored.id,
                            outbox_key=f"matrix:{event.id}")
    db.session.add(send)
    tokens = {actor: api_tokens.create_api_token(users["owner"], actor, now=now, event=event, role=role)
              for actor, role in TOKEN_ROLES.items()}
    tokens[TOKEN_OTHER] = api_tokens.create_api_token(users["owner"], "b", now=now, event=other, role=EventRole.owner)
    tokens[TOKEN_LEGACY] = api_tokens.create_api_token(users["reception"], "legacy", now=now)
    tokens[TOKEN_REVOKED] = api_tokens.create_api_token(users["owner"], "revoked", now=now, event=event,
                                                   role=EventRole.owner)
    db.session.commit()
    revoked = api_tokens.event_api_tokens(event.id)[0]  # the newest
    api_tokens.revoke_api_token(revoked, actor=users["owner"], now=now)
    db.session.commit()
    message = attendee_messages.save_draft(event, subject="{name}様", body="本文 {pass_link} {cancel_link}", flt=ListFilter(),
                                  actor=None, now=now)
    task = DeskTask(event_id=event.id, session_id=event.sessions[0].id, registration_id=registration.id,
                    kind="seat_overflow", desk="受付1", created_at=now)
    db.session.add(task)
    db.session.commit()
    return World(event, other, registration, job_id, invitation.id, revoked.id, send.id, stored.id, tokens,
                 message_id=message.id, invitation_secret=secrets[0], task_id=task.id)


def staff_rules(app) -> list:
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC), key=lambda r: r.rule)


def access_of(app, rule):
    return getattr(app.view_functions[rule.endpoint], "access", None)


def test_every_route_outside_the_public_list_declares_its_access(app):
    missing = [f"{rule.rule} ({rule.endpoint})" for rule in staff_rules(app) if access_of(app, rule) is None]
    assert not missing, ("routes without @event_access / @account_access / @api_event_access "
                         "(web/access.py), and not in PUBLIC:\n" + "\n".join(missing))
    # A public view may say so ("public", as the API's document does); it may not claim a capability.
    public_with_access = [e for e in PUBLIC if e in app.view_functions
                          and getattr(app.view_functions[e], "access", None) not in (None, "public")]
    assert not public_with_access, f"in PUBLIC but declares access: {public_with_access}"


def test_the_public_list_names_only_routes_that_exist(app):
    assert set(PUBLIC) <= set(app.view_functions), set(PUBLIC) - set(app.view_functions)


def test_the_id_filler_fails_loudly_for_an_unknown_argument(app):
    from werkzeug.routing import Map, Rule

    rule = Rule("/admin/events/<int:event_id>/widgets/<int:widget_id>", endpoint="x")
    Map([rule])
    with pytest.raises(AssertionError, match="widget_id"):
        url_for_rule(rule, None, {})


def url_for_rule(rule, world, users, method: str = "GET") -> str:
    choices = {name: sorted(c.items)[0] for name, c in rule._converters.items() if isinstance(c, AnyConverter)}
    unknown = sorted(set(rule.arguments) - set(choices) - set(FILLERS))
    assert not unknown, (
        f"{rule.rule}: no value for {unknown}: add it to FILLERS in tests/web/test_authorization_matrix.py")
    values = {name: choices[name] if name in choices else FILLERS[name](world, users) for name in rule.arguments}
    return rule.map.bind("testserver").build(rule.endpoint, values, method=method)


def capabilities_of(actor: str, users: dict):
    """What ``actor`` may do on event A: a set of capabilities, None (no role there), or
    "login" (not signed in / no valid credential)."""
    if actor in (ANON, DEACTIVATED, TOKEN_REVOKED):
        return "login"
    if actor in (OTHER, TOKEN_OTHER):
        return None
    if actor in ROLES:
        return GRANTS[EventRole(actor)]
    if actor == TOKEN_LEGACY:
        return GRANTS[EventRole.reception]
    return GRANTS[TOKEN_ROLES[actor]] & GRANTS[EventRole.owner]  # the owner's token, limited


ACCOUNT_KIND = {"owner": Role.organizer, OTHER: Role.staff, "editor": Role.staff, "reception": Role.staff,
                "viewer": Role.staff}


def expected(access, actor: str, users: dict, account=None) -> str:
    """``account``: the kind of account an event route needs besides the capability (its view's
    ``.account``), e.g. a copy of an event needs the right to create events."""
    caps = capabilities_of(actor, users)
    if caps == "login":
        return "login"
    if isinstance(access, Capability):
        if caps is None:
            return "not_found"
        if access not in caps:
            return "forbidden"
        assert account is None or actor not in TOKEN_ACTORS, f"an API route needs a {account} account: decide"
        return "allowed" if account is None or ACCOUNT_KIND[actor] == account else "forbidden"
    assert actor not in TOKEN_ACTORS, f"an API route with {access!r} access: decide what a token may do there"
    if access == "account":
        return "allowed"
    kind = access.removeprefix("account:")
    assert access.startswith("account:") and kind in {r.value for r in Role}, f"unknown access {access!r}"
    return "allowed" if ACCOUNT_KIND[actor].value == kind else "forbidden"


@dataclass
class Actors:
    users: dict
    clients: dict
    csrf: dict
    sent: int = 0


@pytest.fixture
def actors(app, ctx):
    users = {
        "owner": factories.make_staff("organizer", events=[], name="オーナー"),
        "editor": factories.make_staff("editor"),
        "reception": factories.make_staff("reception"),
        "viewer": factories.make_staff("viewer"),
        OTHER: factories.make_staff("owner"),
        DEACTIVATED: factories.make_staff("organizer", events=[], name="退職者"),
    }
    clients, tokens = {ANON: isolated_client(app)}, {}
    for name, user in users.items():
        client = isolated_client(app)
        response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                               "csrf_token": csrf_token(client, "/login")})
        assert response.status_code == 302
        clients[name] = client
    for name, client in clients.items():
        tokens[name] = csrf_token(client, "/login")
    users[DEACTIVATED].active = False
    db.session.commit()
    return Actors(users, clients, tokens)


def send(actors: Actors, world: World, actor: str, method: str, url: str, api: bool):
    actors.sent += 1
    headers = {}
    if actor in TOKEN_ACTORS:
        client = actors.clients[ANON]  # no cookie: the token alone
        headers["Authorization"] = f"Bearer {world.tokens[actor]}"
    else:
        client = actors.clients[actor]
    if method in SAFE:
        return client.open(url, method=method, headers=headers)
    if api:
        if actor not in TOKEN_ACTORS:
            headers["X-CSRFToken"] = actors.csrf[actor]
        return client.open(url, method=method, headers=headers, json={})
    return client.open(url, method=method, headers=headers, data={"csrf_token": actors.csrf[actor]})


def check(response, outcome: str, api: bool, *, object_may_be_gone: bool) -> str | None:
    """None if the response is what ``outcome`` means, else what is wrong."""
    status, decision = response.status_code, response.access_decision
    if status >= 500:
        return f"{status} (a server error)"
    if outcome == "login":
        if api:
            return None if status == 401 else f"{status}, not 401"
        location = response.headers.get("Location", "")
        return None if status == 302 and "/login" in location else f"{status} {location}, not 302 to /login"
    if outcome in ("not_found", "forbidden"):
        want = 404 if outcome == "not_found" else 403
        return None if status == want and decision == outcome else f"{status} ({decision}), not {want} ({outcome})"
    if decision == "allowed" and status not in (401, 403):
        return None
    if object_may_be_gone and status == 404 and decision is None:
        return None  # an allowed POST before this one deleted what the URL names
    return f"{status} ({decision}), not allowed"


def management_secrets(world: World) -> dict[str, str]:
    """Every secret that staff must never be shown, by what it is (read now: a POST may have
    added a registration)."""
    found = {f"registration {rid}'s management secret": token for rid, token in db.session.execute(
        select(Registration.id, Registration.token).where(Registration.event_id.in_((world.event.id, world.other.id))))}
    found["the invitation's secret"] = world.invitation_secret
    found.update({f"the API token of {actor}": token for actor, token in world.tokens.items()})
    return found


def readable_bytes(response) -> bytes:
    """The answer's headers and body as bytes to search; a ZIP (an XLSX export) unpacked."""
    body = response.get_data()
    parts = [body, "\n".join(f"{k}: {v}" for k, v in response.headers.items()).encode()]
    if body.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            parts += [archive.read(name) for name in archive.namelist()]
    return b"\n".join(parts)


def secret_shown(response, world: World) -> str | None:
    """What secret the answer shows (in its body or a header), or None. The secrets are ASCII:
    the same bytes in UTF-8, CP932 and a URL."""
    seen = readable_bytes(response)
    shown = [name for name, secret in management_secrets(world).items() if secret and secret.encode() in seen]
    return f"shows {', '.join(shown)}" if shown else None


def walk(app, actors: Actors, world: World, rule, methods) -> list[str]:
    access = access_of(app, rule)
    account = getattr(app.view_functions[rule.endpoint], "account", None)
    api = rule.rule.startswith("/api/")
    everyone = BROWSER_ACTORS + (TOKEN_ACTORS if api else ())
    failures = []
    for method in methods:
        url = url_for_rule(rule, world, actors.users, method)
        outcomes = {actor: expected(access, actor, actors.users, account) for actor in everyone}
        # Refused actors first; then the allowed ones, the owner last.
        order = sorted(everyone, key=lambda a: (outcomes[a] == "allowed", a == "owner"))
        allowed_done = False
        for actor in order:
            response = send(actors, world, actor, method, url, api)
            problem = (check(response, outcomes[actor], api, object_may_be_gone=allowed_done and method not in SAFE)
                       or secret_shown(response, world))
            if problem:
                failures.append(f"{method} {url} [{rule.endpoint}, needs {access}] as {actor}: {problem}")
            allowed_done |= outcomes[actor] == "allowed"
    return failures


def test_every_staff_route_for_every_actor(app, actors):
    rules = staff_rules(app)
    assert len(rules) >= 20  # the walk found the app's routes
    shared = make_world(actors.users)
    failures, walked = [], set()
    for rule in rules:
        methods = sorted(rule.methods - SKIPPED_METHODS)
        if SAFE & set(methods):
            failures += walk(app, actors, shared, rule, sorted(SAFE & set(methods)))
        unsafe = [m for m in methods if m not in SAFE]
        if unsafe:
            failures += walk(app, actors, make_world(actors.users), rule, unsafe)
        walked.add(rule.endpoint)
    assert not failures, f"{len(failures)} wrong answers:\n" + "\n".join(failures)
    print(f"walked {len(walked)} endpoints with {actors.sent} requests")
    # The walk reached the kinds of route there are (a typo in the filter would skip them all).
    assert {"auth.home", "auth.password", "admin.team", "admin.tokens", "reception.desk", "api.counts", "admin.event_clone",
            "api.scan", "admin.job_page", "admin.statistics", "admin.statistics_csv", "admin.cross_statistics",
            "admin.cross_statistics_csv"} <= walked
    assert {"admin.attendees_import", "admin.attendees_import_preview", "admin.attendees_import_commit"} <= walked  # the attendee import


def test_the_matrix_sees_a_route_that_lets_too_much_through(app, actors):
    """The checker itself: a view that skips its access rule would be caught."""
    from eventreg.web.access import event_access

    world = make_world(actors.users)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "admin.team")
    view = app.view_functions["admin.team"]
    app.view_functions["admin.team"] = event_access(Capability.view)(view.__wrapped__)
    try:
        app.view_functions["admin.team"].access = Capability.manage_staff  # declares more than it checks
        failures = walk(app, actors, world, rule, ["GET"])
    finally:
        app.view_functions["admin.team"] = view
    assert any("as editor" in f and "not 403" in f for f in failures), failures
    assert any("as viewer" in f for f in failures), failures


def test_the_secret_check_reads_headers_and_workbooks(app, actors):
    """The checker itself: a secret in a redirect's Location or inside an XLSX is seen."""
    world = make_world(actors.users)
    token = world.registration.token
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", f"<t>https://example.org/r/{token}</t>")
    assert secret_shown(app.response_class(workbook.getvalue()), world)
    assert secret_shown(app.response_class("", 303, {"Location": f"/r/{token}"}), world)
    assert secret_shown(app.response_class(f"/invite/{world.invitation_secret}"), world)
    assert secret_shown(app.response_class(f"/r/{token[:-1]}"), world) is None
