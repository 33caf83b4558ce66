"""Copying an event: the team is kept (on by default), the title and the web address are chosen
at copy time with the event's own slug rule, 「コピー」 is on /staff and the overview, and a bad
copy creates nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import Event, EventMember, EventRole

from .. import factories
from .conftest import csrf_token


def _setup(client, login):
    event = factories.make_event(slug="monthly-11", start=factories.in_days(20))
    maker = factories.make_staff("organizer", [event], email="maker@example.org")
    desk = factories.make_staff("reception", [event], email="desk@example.org")
    editor = factories.make_staff("editor", [event], email="editor@example.org")
    login(maker)
    return event, {"maker": maker.id, "desk": desk.id, "editor": editor.id}


def _copy(client, event, **fields):
    data = {"first_date": (factories.in_days(50).date()).isoformat(), "title": "月例セミナー 12月",
            "slug": "monthly-12", "keep_team": "y", **fields}
    data = {k: v for k, v in data.items() if v is not None}
    data["csrf_token"] = csrf_token(client, f"/admin/events/{event.id}/clone")
    return client.post(f"/admin/events/{event.id}/clone", data=data)


def _roles(event_id: int) -> dict[int, EventRole]:
    return {m.user_id: m.role for m in db.session.scalars(select(EventMember).where(EventMember.event_id == event_id))}


def _events() -> int:
    return db.session.scalar(select(func.count()).select_from(Event))


def test_the_copy_keeps_the_team_and_takes_the_new_title_and_address(client, ctx, login):
    event, ids = _setup(client, login)
    page = client.get(f"/admin/events/{event.id}/clone").get_data(as_text=True)
    assert 'name="keep_team"' in page and "checked" in page.split('name="keep_team"')[0].rsplit("<input", 1)[1] + \
        page.split('name="keep_team"')[1].split(">")[0]
    assert f'value="{event.title}"' in page  # the title starts as the original's
    response = _copy(client, event)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    copy = db.session.scalar(select(Event).where(Event.slug == "monthly-12"))
    assert copy.title == "月例セミナー 12月"
    assert _roles(copy.id) == {ids["maker"]: EventRole.owner, ids["desk"]: EventRole.reception,
                               ids["editor"]: EventRole.editor}


def test_without_the_team_only_the_maker_is_on_the_copy(client, ctx, login):
    event, ids = _setup(client, login)
    assert _copy(client, event, keep_team=None, slug="").status_code == 303
    copy = db.session.scalar(select(Event).where(Event.id != event.id))
    assert _roles(copy.id) == {ids["maker"]: EventRole.owner} and copy.slug.startswith("e-")


def test_a_taken_or_bad_address_or_no_title_is_refused_and_nothing_is_made(client, ctx, login):
    event, _ = _setup(client, login)
    for fields, words in (({"slug": "monthly-11"}, "このアドレスは別のイベントで使われています。"),
                          ({"slug": "Monthly 12!"}, "半角の小文字a–z"),
                          ({"title": "  "}, "入力してください"),
                          ({"first_date": "someday", "slug": "monthly-11"}, "このアドレスは別のイベントで使われています。")):
        response = _copy(client, event, **fields)
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and words in html, (fields, html[:3000])
        assert _events() == 1


def test_copy_is_offered_on_staff_home_and_overview(client, ctx, login):
    event, _ = _setup(client, login)
    url = f"/admin/events/{event.id}/clone"
    assert url in client.get("/staff").get_data(as_text=True)
    assert url in client.get(f"/admin/events/{event.id}").get_data(as_text=True)
    login(factories.make_staff("editor", [event]))  # a staff account cannot create events
    assert url not in client.get("/staff").get_data(as_text=True)
    assert url not in client.get(f"/admin/events/{event.id}").get_data(as_text=True)


def test_the_days_still_move(client, ctx, login):
    event, _ = _setup(client, login)
    new_day = factories.in_days(50).date()
    assert _copy(client, event, first_date=new_day.isoformat()).status_code == 303
    copy = db.session.scalar(select(Event).where(Event.slug == "monthly-12"))
    assert copy.sessions[0].starts_at.astimezone(factories.JST).date() == new_day
    assert copy.sessions[0].closes_at.astimezone(factories.JST).date() == new_day - timedelta(days=1)
