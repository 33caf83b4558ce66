from sqlalchemy import select

from eventreg.domain.access import accounts
from eventreg.extensions import db
from eventreg.models import ApiToken, EventRole, Role, StaffUser

from . import factories


def test_create_reception_user_for_an_event_and_sign_in(app, ctx, client):
    event = factories.make_event()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "Desk@Example.org", "--name", "受付 2", "--role", "staff",
                                 "--event", event.slug], env={"EVENTREG_NEW_PASSWORD": "a-good-long-password"})
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "desk@example.org"))
    assert user.role == Role.staff and [e.slug for e in user.events] == [event.slug]
    assert user.role_on(event.id) == EventRole.reception  # the default role of a staff account
    assert user.password_hash != "a-good-long-password"  # hashed
    assert accounts.can_use_desk(user, event.id)


def test_bad_input_is_refused_with_a_message(app, ctx):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["users", "create", "x@example.org", "--role", "organizer"],
                          env={"EVENTREG_NEW_PASSWORD": "short"})
    assert short.exit_code != 0 and "10" in short.output
    unknown = runner.invoke(args=["users", "create", "y@example.org", "--role", "staff", "--event", "nope"],
                            env={"EVENTREG_NEW_PASSWORD": "a-good-long-password"})
    assert unknown.exit_code != 0 and "nope" in unknown.output
    assert runner.invoke(args=["users", "create", "not-an-email", "--role", "organizer"],
                         env={"EVENTREG_NEW_PASSWORD": "a-good-long-password"}).exit_code != 0


def test_api_token_is_shown_once_stored_hashed_and_revocable(app, ctx, client):
    user = factories.make_staff("organizer")
    runner = app.test_cli_runner()
    token = runner.invoke(args=["api-tokens", "create", user.email, "--name", "iPad 1"]).output.strip()
    assert token.startswith("er_") and len(token) > 40
    row = db.session.scalar(select(ApiToken))
    assert token not in row.token_hash
    assert client.get("/api/v1/events/1/counts", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    assert runner.invoke(args=["api-tokens", "revoke", str(row.id)]).exit_code == 0
    assert client.get("/api/v1/events/1/counts", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_without_a_terminal_the_password_is_asked_for_by_name(app, ctx, monkeypatch):
    """A script or a pipe has no terminal: no getpass warning and no prompt, a line that says
    what to give instead; at a terminal the password is asked for twice."""
    runner = app.test_cli_runner()
    given = runner.invoke(args=["users", "create", "z@example.org", "--role", "organizer",
                                "--password", "a-good-long-password"])
    assert given.exit_code == 0, given.output
    for args in (["users", "create", "w@example.org", "--role", "organizer"], ["users", "password", "z@example.org"]):
        result = runner.invoke(args=args, env={"EVENTREG_NEW_PASSWORD": ""})
        assert result.exit_code == 2, result.output
        assert "--password" in result.output and "EVENTREG_NEW_PASSWORD" in result.output
        assert "Warning" not in result.output and "Traceback" not in result.output
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "w@example.org")) is None
    monkeypatch.setattr("eventreg.cli._terminal", lambda: True)
    asked = runner.invoke(args=["users", "password", "z@example.org"], env={"EVENTREG_NEW_PASSWORD": ""},
                          input="another-long-password\nanother-long-password\n")
    assert asked.exit_code == 0 and "password changed" in asked.output, asked.output


def test_refusals_are_in_english_like_the_rest_of_the_output(app, ctx):
    """The words of a refusal come from the site's one table, in English at the command line
    (the site's default language, Japanese, is for its pages)."""
    import re

    runner = app.test_cli_runner()
    for args, words in ((["users", "create", "x@example.org", "--role", "organizer", "--password", "short"],
                         "The password must have at least 10 characters. (password_too_short)"),
                        (["users", "create", "not-an-email", "--role", "organizer", "--password", "a-good-long-password"],
                         "Please enter a valid email address. (invalid_email)")):
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and words in result.output, result.output
        assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", result.output), result.output
