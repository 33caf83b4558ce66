from pathlib import Path

from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import Event, QuestionKind, Registration, ScheduledTask, StaffUser, TaskKind

from . import factories

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "example-event.yaml"

TOML = """
slug = "toml-briefing"
title = "説明会"
timezone = "Asia/Tokyo"
deadline = { at = "2030-01-10T12:00:00" }
[[sessions]]
title = "第1回"
date = 2030-01-12
doors = "13:45"
start = "14:00"
end = "15:30"
capacity = 11
[[questions]]
kind = "checkbox"
label = "メールで案内を受け取る"
"""


def test_import_the_documented_example(app, ctx):
    result = app.test_cli_runner().invoke(args=["import-event", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    event = db.session.scalar(select(Event).where(Event.slug == "csr-npo-case-study"))
    [session] = event.sessions
    assert session.starts_at.isoformat() == "2030-02-08T05:00:00+00:00"  # 14:00 JST
    assert (event.deadline_days_before, event.deadline_time) == (1, "12:00")
    assert [q.kind for q in event.questions] == [QuestionKind.single, QuestionKind.text]
    assert event.security_email == "security@venue.example" and event.security_format.value == "xlsx"
    again = app.test_cli_runner().invoke(args=["import-event", str(EXAMPLE)])
    assert again.exit_code != 0 and "--replace" in again.output


def test_the_documented_example_imports_open(app, ctx, client):
    """Imported as it stands, the example takes sign-ups (when this fails, its date has passed:
    move docs/example-event.yaml's date ahead)."""
    from eventreg.models import Status

    assert app.test_cli_runner().invoke(args=["import-event", str(EXAMPLE)]).exit_code == 0
    event = db.session.scalar(select(Event).where(Event.slug == "csr-npo-case-study"))
    page = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "申し込む" in page
    assert factories.register_person(event).status == Status.confirmed


def test_import_toml_and_reject_bad_files(app, ctx, tmp_path):
    good = tmp_path / "event.toml"
    good.write_text(TOML, "utf-8")
    assert app.test_cli_runner().invoke(args=["import-event", str(good)]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("slug: x\ntitle: y\nsessions:\n  - date: 2030-01-01\n    start: '15:00'\n    end: '14:00'\n    capacity: 3\n", "utf-8")
    result = app.test_cli_runner().invoke(args=["import-event", str(bad)])
    assert result.exit_code != 0 and "session 1" in result.output
    assert db.session.scalar(select(Event).where(Event.slug == "x")) is None
    for security, says in (("{email: not-an-address}", "security.email"), ("{email: a@b.example, columns: [shoe_size]}", "security.columns"),
                           ("{email: a@b.example, format: pdf}", "security.format"), ("{email: a@b.example, send_rule: soon}", "security.send_rule")):
        bad.write_text("slug: y\ntitle: y\nsessions:\n  - date: 2030-01-01\n    start: '14:00'\n    end: '15:00'\n"
                       f"    capacity: 3\nsecurity: {security}\n", "utf-8")
        result = app.test_cli_runner().invoke(args=["import-event", str(bad)])
        assert result.exit_code != 0 and says in result.output, result.output
    assert db.session.scalar(select(Event).where(Event.slug == "y")) is None


def test_demo_creates_future_events_and_keeps_them_with_if_missing(app, ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    ids = set(db.session.scalars(select(Event.id)))
    assert len(ids) == 5  # the two future events, and three past ones with a history
    assert db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id.in_(select(Event.id).where(Event.slug.in_(["csr-npo-case-study", "probono-briefing"]))))) == 10
    assert db.session.scalar(select(func.count()).select_from(Registration)) > 300
    desk = db.session.scalar(select(StaffUser).where(StaffUser.email == "reception@example.org"))
    assert {e.id for e in desk.events} == ids
    seminar = db.session.scalar(select(Event).where(Event.slug == "csr-npo-case-study"))
    assert seminar.security_email == "security@venue.example"  # the demo can show the list going out
    assert db.session.scalar(select(func.count()).select_from(ScheduledTask).where(
        ScheduledTask.event_id == seminar.id, ScheduledTask.kind == TaskKind.security_list)) == 1
    assert runner.invoke(args=["demo", "--if-missing"]).exit_code == 0
    db.session.rollback()
    assert set(db.session.scalars(select(Event.id))) == ids


def test_replacing_an_event_keeps_its_team(app, ctx, tmp_path):
    """`import-event --replace` deletes the event and its registrations, but its staff roles,
    open invitations and the API tokens limited to it stay on the new event."""
    from eventreg import clock
    from eventreg.domain.access import api_tokens, invitations
    from eventreg.models import ApiToken, EventRole, Invitation

    runner = app.test_cli_runner()
    spec = tmp_path / "event.toml"
    spec.write_text(TOML, "utf-8")
    assert runner.invoke(args=["import-event", str(spec)]).exit_code == 0
    old = db.session.scalar(select(Event).where(Event.slug == "toml-briefing"))
    now = clock.utcnow()
    owner = factories.make_staff("organizer", events=[old])
    desk = factories.make_staff("reception", events=[old])
    invitations.invite(old, "helper@example.org", EventRole.editor, actor=owner, now=now, link=lambda raw: raw)
    token = api_tokens.create_api_token(desk, "iPad 1", now=now, event=old, role=EventRole.reception)
    factories.register_person(old)
    db.session.commit()
    old_id = old.id
    db.session.expire_all()

    result = runner.invoke(args=["import-event", "--replace", str(spec)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    new = db.session.scalar(select(Event).where(Event.slug == "toml-briefing"))
    assert new.id != old_id and db.session.get(Event, old_id) is None
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    assert {(u.email, u.role_on(new.id)) for u in (db.session.get(StaffUser, owner.id), db.session.get(StaffUser, desk.id))} == {
        (owner.email, EventRole.owner), (desk.email, EventRole.reception)}
    assert db.session.scalar(select(Invitation.event_id).where(Invitation.email == "helper@example.org")) == new.id
    assert db.session.scalar(select(ApiToken.event_id)) == new.id
    assert app.test_client().get(f"/api/v1/events/{new.id}/counts",
                                 headers={"Authorization": f"Bearer {token}"}).status_code == 200
