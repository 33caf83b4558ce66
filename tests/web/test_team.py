"""The event's staff through HTTP: invitations by email (a real SMTP server and the outbox
worker), the acceptance page, roles, the last owner, per-event API tokens, the password page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventreg import clock
from eventreg.domain.access import accounts, api_tokens, invitations, sign_in
from eventreg.extensions import db
from eventreg.models import ApiToken, AuditEntry, EventMember, EventRole, Invitation, Role, StaffUser
from eventreg.worker import deliver_due

from .. import factories
from .clients import isolated_client
from .conftest import csrf_token

NEW_PASSWORD = "a-new-long-password"


@pytest.fixture
def client(app, ctx):
    """Replaces the shared one (the login fixture uses it): each request in its own context."""
    return isolated_client(app)


@pytest.fixture
def team(make_event):
    event, other = make_event(), make_event()
    owner = factories.make_staff("organizer", events=[event, other], name="主催 花子")
    return {"event": event, "other": other, "owner": owner}


def post(client, url, data=None, page=None):
    data = dict(data or {}, csrf_token=csrf_token(client, page or "/login"))
    return client.post(url, data=data)


def invite(client, event, email, role="editor"):
    response = post(client, f"/admin/events/{event.id}/team/invite", {"email": email, "role": role})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response


def delivered_link(app, smtp_server, email) -> str:
    db.session.rollback()  # the worker has its own connection: end this one's (SQLite) snapshot around it
    assert deliver_due(app, worker_id="team-test") >= 1
    db.session.rollback()
    mail = smtp_server.to(email)[-1]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    links = re.findall(r"http://testserver/invite/[A-Za-z0-9_-]{40,}", text)
    assert len(set(links)) == 1, text
    assert links[0] in html
    return links[0].removeprefix("http://testserver")


def audit_actions(event) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.event_id == event.id)
                                   .order_by(AuditEntry.id)))


def test_an_invitation_by_email_makes_an_account_and_works_once(app, client, login, team, smtp_server):
    event = team["event"]
    login(team["owner"])
    invite(client, event, "New.Person@Example.org", "editor")
    [row] = db.session.scalars(select(Invitation)).all()
    assert row.email == "new.person@example.org" and row.role == EventRole.editor
    assert row.expires_at - row.created_at == timedelta(days=7)

    link = delivered_link(app, smtp_server, "new.person@example.org")
    [mail] = smtp_server.to("new.person@example.org")
    assert event.title in mail["Subject"] and "スタッフ招待" in mail["Subject"]
    secret = link.rsplit("/", 1)[1]
    assert row.token_hash != secret and secret not in row.token_hash  # only the hash is kept

    client.post("/logout", data={"csrf_token": csrf_token(client, "/staff")})
    page = client.get(link)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert event.title in body and "new.person@example.org" in body
    # Password rules of the CLI (domain/staff.set_password) and a confirmation.
    short = post(client, link, {"name": "新井 次郎", "new_password": "short", "confirm": "short"}, page=link)
    assert short.status_code == 400 and "10" in short.get_data(as_text=True)
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "new.person@example.org")) is None

    accepted = post(client, link, {"name": "新井 次郎", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                    page=link)
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/staff"
    home = client.get("/staff")  # signed in, like after the login form
    assert home.status_code == 200 and event.title in home.get_data(as_text=True)
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "new.person@example.org"))
    assert user.role == Role.staff and user.name == "新井 次郎"
    assert user.role_on(event.id) == EventRole.editor and user.role_on(team["other"].id) is None
    assert client.get(f"/admin/events/{event.id}/checkins").status_code == 200  # editor: may view

    again = client.get(link)
    assert again.status_code == 410 and 'data-state="accepted"' in again.get_data(as_text=True)
    reuse = post(client, link, {"name": "x", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page="/login")
    assert reuse.status_code == 410
    assert audit_actions(event) == ["staff_invited", "staff_joined"]
    assert factories_login_works(app, "new.person@example.org", NEW_PASSWORD)


def factories_login_works(app, email, password) -> bool:
    other = isolated_client(app)
    response = other.post("/login", data={"email": email, "password": password,
                                          "csrf_token": csrf_token(other, "/login")})
    assert response.status_code in (302, 401), response.status_code
    return response.status_code == 302


def test_inviting_again_replaces_the_link_and_revoking_kills_it(app, client, login, team, smtp_server):
    event = team["event"]
    login(team["owner"])
    invite(client, event, "twice@example.org", "viewer")
    first = delivered_link(app, smtp_server, "twice@example.org")
    invite(client, event, "twice@example.org", "reception")
    second = delivered_link(app, smtp_server, "twice@example.org")
    assert first != second
    replaced = client.get(first)
    assert replaced.status_code == 410 and 'data-state="revoked"' in replaced.get_data(as_text=True)
    page = client.get(f"/admin/events/{event.id}/team").get_data(as_text=True)
    assert page.count("twice@example.org") == 1  # one pending invitation

    [pending] = invitations.pending(event, now=clock.utcnow())
    resend = post(client, f"/admin/events/{event.id}/team/invitations/{pending.id}/resend")
    assert resend.status_code == 303
    third = delivered_link(app, smtp_server, "twice@example.org")
    assert client.get(second).status_code == 410 and client.get(third).status_code == 200

    [pending] = invitations.pending(event, now=clock.utcnow())
    assert post(client, f"/admin/events/{event.id}/team/invitations/{pending.id}/revoke").status_code == 303
    gone = isolated_client(app).get(third)  # as the invited person sees it
    assert gone.status_code == 410 and "twice@example.org" not in gone.get_data(as_text=True)
    assert invitations.pending(event, now=clock.utcnow()) == []
    assert audit_actions(event) == ["staff_invited", "staff_invited", "staff_invited", "invitation_revoked"]


def _invitation(event, email, role, *, actor, now):
    links = []
    invitations.invite(event, email, role, actor=actor, now=now, link=lambda raw: links.append(raw) or raw)
    db.session.commit()
    return f"/invite/{links[0]}"


def test_an_expired_or_unknown_link_is_a_clear_page(client, team):
    old = clock.utcnow() - timedelta(days=7, seconds=1)
    link = _invitation(team["event"], "late@example.org", EventRole.viewer, actor=team["owner"], now=old)
    expired = client.get(link)
    assert expired.status_code == 410 and 'data-state="expired"' in expired.get_data(as_text=True)
    assert "7" in expired.get_data(as_text=True) and "late@example.org" not in expired.get_data(as_text=True)
    assert post(client, link, {"name": "遅刻 太郎", "new_password": NEW_PASSWORD,
                               "confirm": NEW_PASSWORD}).status_code == 410
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "late@example.org")) is None
    for bad in ("/invite/x", "/invite/" + "A" * 43, "/invite/" + "é" * 50):
        response = client.get(bad)
        assert response.status_code == 404 and 'data-state="unknown"' in response.get_data(as_text=True), bad
    assert client.get("/invite/" + "%00" * 30).status_code == 400  # refused before it is read (input_guard)


def test_a_dead_link_does_not_tell_whether_the_address_has_an_account(client, team):
    """The page names no event and no address, and is the same whether the address has an account."""
    factories.make_staff("reception", events=[team["other"]], email="known@example.org")
    now = clock.utcnow()
    pages = []
    for email in ("known@example.org", "unknown@example.org"):
        link = _invitation(team["event"], email, EventRole.viewer, actor=team["owner"], now=now)
        [inv] = [i for i in invitations.pending(team["event"], now=now) if i.email == email]
        invitations.revoke(inv, actor=team["owner"], now=now)
        db.session.commit()
        response = client.get(link)
        body = response.get_data(as_text=True).replace(link, "LINK")
        pages.append((response.status_code, re.sub(r'value="[^"]+"', "", body)))
    assert pages[0] == pages[1]


def test_an_existing_account_must_sign_in_to_accept(app, client, login, team):
    event = team["event"]
    known = factories.make_staff("reception", events=[team["other"]], email="known@example.org", name="既存 一郎")
    stranger = factories.make_staff("viewer", events=[team["other"]], email="stranger@example.org")
    link = _invitation(event, "known@example.org", EventRole.reception, actor=team["owner"], now=clock.utcnow())

    refused = post(client, link, {"name": "乗っ取り", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page=link)
    assert refused.status_code == 400 and 'data-code="account_exists"' in refused.get_data(as_text=True)
    db.session.expire_all()
    assert known.name == "既存 一郎" and known.role_on(event.id) is None
    assert sign_in.authenticate(sign_in.reserve_login_attempt(known.email, "t", now=clock.utcnow()),
                              factories.PASSWORD, now=clock.utcnow()) is known  # password unchanged
    db.session.rollback()

    login(stranger)  # signed in as someone else: told so, nothing accepted
    assert "stranger@example.org" in client.get(link).get_data(as_text=True)
    wrong = post(client, link, page=link)
    assert wrong.status_code == 400 and 'data-code="wrong_account"' in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert stranger.role_on(event.id) is None and known.role_on(event.id) is None
    client.post(f"/logout?next={link}", data={"csrf_token": csrf_token(client, "/staff")})

    login(known)
    assert "既存 一郎" in client.get(link).get_data(as_text=True)
    accepted = post(client, link, page=link)
    assert accepted.status_code == 303
    db.session.expire_all()
    assert known.role_on(event.id) == EventRole.reception
    assert known.role_on(team["other"].id) == EventRole.reception and known.role == Role.staff
    assert client.get(link).status_code == 410


def test_only_an_owner_changes_roles_and_the_last_owner_stays(client, login, team):
    event = team["event"]
    owner = team["owner"]
    editor = factories.make_staff("editor", events=[event])
    login(owner)
    team_url = f"/admin/events/{event.id}/team"
    for url, data in ((f"{team_url}/members/{owner.id}/role", {"role": "viewer"}),
                      (f"{team_url}/members/{owner.id}/remove", {})):
        refused = post(client, url, data)
        assert refused.status_code == 303 and refused.headers["Location"] == team_url
        assert "flash-error" in client.get(team_url).get_data(as_text=True)
        db.session.expire_all()
        assert owner.role_on(event.id) == EventRole.owner

    # A deactivated second owner does not count.
    idle = factories.make_staff("owner", events=[event])
    idle.active = False
    db.session.commit()
    assert post(client, f"{team_url}/members/{owner.id}/role", {"role": "editor"}).status_code == 303
    db.session.expire_all()
    assert owner.role_on(event.id) == EventRole.owner

    assert post(client, f"{team_url}/members/{editor.id}/role", {"role": "owner"}).status_code == 303
    assert post(client, f"{team_url}/members/{editor.id}/role", {"role": "superuser"}).status_code == 303
    db.session.expire_all()
    assert editor.role_on(event.id) == EventRole.owner
    # Now the owner may step down: the team page is no longer theirs, so back to their events.
    down = post(client, f"{team_url}/members/{owner.id}/role", {"role": "viewer"})
    assert down.status_code == 303 and down.headers["Location"] == "/staff"
    assert client.get(team_url).status_code == 403
    assert post(client, f"{team_url}/members/{editor.id}/remove").status_code == 403
    db.session.expire_all()
    assert editor.role_on(event.id) == EventRole.owner
    assert audit_actions(event) == ["staff_role_changed", "staff_role_changed"]


def test_removing_someone_ends_their_access_and_their_tokens(client, login, team):
    event = team["event"]
    reception = factories.make_staff("reception", events=[event])
    token = api_tokens.create_api_token(reception, "desk 2", now=clock.utcnow(), event=event, role=EventRole.reception)
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/events/{event.id}/counts", headers=bearer).status_code == 200
    login(team["owner"])
    assert post(client, f"/admin/events/{event.id}/team/members/{reception.id}/remove").status_code == 303
    assert db.session.get(EventMember, (event.id, reception.id)) is None
    assert db.session.get(StaffUser, reception.id) is not None  # the account stays
    assert client.get(f"/api/v1/events/{event.id}/counts", headers=bearer).status_code == 401  # revoked
    assert audit_actions(event)[-1] == "staff_removed"
    # Invited again later: a new start, not the old tokens back (the lost iPad stays locked out).
    accounts.assign(db.session.get(StaffUser, reception.id), event, EventRole.reception, now=clock.utcnow())
    db.session.commit()
    assert client.get(f"/api/v1/events/{event.id}/counts", headers=bearer).status_code == 401
    assert db.session.scalars(select(ApiToken.revoked_at).where(ApiToken.user_id == reception.id)).one() is not None


def test_an_owner_makes_a_reception_token_that_reads_nothing_else(client, login, team):
    event, other = team["event"], team["other"]
    factories.register_person(event)
    login(team["owner"])
    page = client.get(f"/admin/events/{event.id}/tokens")
    assert page.status_code == 200
    bad = post(client, f"/admin/events/{event.id}/tokens", {"name": "x", "role": "owner"})
    assert bad.status_code == 400 and db.session.scalar(select(ApiToken.id)) is None
    created = post(client, f"/admin/events/{event.id}/tokens", {"name": "iPad 受付2", "role": "reception"})
    assert created.status_code == 200
    [secret] = re.findall(r"er_[A-Za-z0-9_-]{40,}", created.get_data(as_text=True))
    assert secret not in client.get(f"/admin/events/{event.id}/tokens").get_data(as_text=True)  # shown once
    row = db.session.scalar(select(ApiToken))
    assert (row.event_id, row.role, row.user_id) == (event.id, EventRole.reception, team["owner"].id)

    api = isolated_client(client.application)  # no cookies: the token alone
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get(f"/api/v1/events/{event.id}/counts", headers=bearer).status_code == 200
    assert api.get(f"/api/v1/events/{event.id}/search?q=", headers=bearer).status_code == 200
    # The owner owns the other event too, but this token is for one event only.
    assert api.get(f"/api/v1/events/{other.id}/counts", headers=bearer).status_code == 404
    # Nothing outside the API: a token is no browser session.
    assert api.get(f"/admin/events/{event.id}/checkins", headers=bearer).status_code == 302
    listing = client.get(f"/admin/events/{event.id}/tokens").get_data(as_text=True)
    assert "iPad 受付2" in listing and ("last used" in listing or "最終使用" in listing)

    assert post(client, f"/admin/events/{event.id}/tokens/{row.id}/revoke").status_code == 303
    assert api.get(f"/api/v1/events/{event.id}/counts", headers=bearer).status_code == 401
    assert audit_actions(event) == ["api_token_created", "api_token_revoked"]
    # A token of another event cannot be revoked through this event's page.
    other_row = api_tokens.create_api_token(team["owner"], "o", now=clock.utcnow(), event=other, role=EventRole.viewer)
    db.session.commit()
    other_id = db.session.scalar(select(ApiToken.id).where(ApiToken.event_id == other.id))
    assert other_row and post(client, f"/admin/events/{event.id}/tokens/{other_id}/revoke").status_code == 404


def test_a_viewer_token_may_not_use_the_desk_api(client, team):
    event = team["event"]
    secret = api_tokens.create_api_token(team["owner"], "report", now=clock.utcnow(), event=event, role=EventRole.viewer)
    db.session.commit()
    response = client.get(f"/api/v1/events/{event.id}/counts", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"


def test_the_password_page_checks_the_current_one_and_signs_out_other_browsers(app, client, login, team):
    owner = team["owner"]
    login(owner)
    elsewhere = isolated_client(app)
    elsewhere.post("/login", data={"email": owner.email, "password": factories.PASSWORD,
                                   "csrf_token": csrf_token(elsewhere, "/login")})
    assert elsewhere.get("/staff").status_code == 200

    wrong = post(client, "/staff/password", {"current_password": "not-the-password",
                                             "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400
    mismatch = post(client, "/staff/password", {"current_password": factories.PASSWORD,
                                                "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400
    short = post(client, "/staff/password", {"current_password": factories.PASSWORD,
                                             "new_password": "short", "confirm": "short"})
    assert short.status_code == 400
    assert elsewhere.get("/staff").status_code == 200  # nothing changed yet

    done = post(client, "/staff/password", {"current_password": factories.PASSWORD,
                                            "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    assert client.get("/staff").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/staff").status_code == 302  # the other one is signed out
    assert factories_login_works(app, owner.email, NEW_PASSWORD)
    assert not factories_login_works(app, owner.email, factories.PASSWORD)


def test_the_password_page_counts_toward_the_sign_in_limit(client, login, team):
    login(team["owner"])
    statuses = [post(client, "/staff/password", {"current_password": f"wrong-{n}-password",
                                                 "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code
                for n in range(6)]
    assert statuses == [400] * 5 + [429]


def test_the_command_line_makes_event_tokens_too(app, client, team):
    event = team["event"]
    runner = app.test_cli_runner()
    args = ["api-tokens", "create", team["owner"].email, "--name", "scanner"]
    assert runner.invoke(args=args + ["--event", event.slug]).exit_code != 0  # --role goes with --event
    reception = factories.make_staff("reception", events=[event])
    too_high = runner.invoke(args=["api-tokens", "create", reception.email, "--name", "x",
                                   "--event", event.slug, "--role", "editor"])
    assert too_high.exit_code != 0 and "token_role_too_high" in too_high.output
    made = runner.invoke(args=args + ["--event", event.slug, "--role", "reception"])
    assert made.exit_code == 0
    secret = made.output.strip()
    db.session.rollback()
    row = db.session.scalar(select(ApiToken))
    assert (row.event_id, row.role) == (event.id, EventRole.reception)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"/api/v1/events/{event.id}/counts", headers=bearer).status_code == 200
    assert client.get(f"/api/v1/events/{team['other'].id}/counts", headers=bearer).status_code == 404
    listing = runner.invoke(args=["api-tokens", "list"]).output
    assert f"{event.slug} (reception)" in listing
    assert runner.invoke(args=["api-tokens", "revoke", str(row.id)]).exit_code == 0
    assert client.get(f"/api/v1/events/{event.id}/counts", headers=bearer).status_code == 401
