"""The session form's attendance mode: the twin made, kept and refused, the URL never shown back."""

import re

from sqlalchemy import func, select

from eventreg.domain.backoffice import hybrid
from eventreg.extensions import db
from eventreg.models import EventSession, Registration

from .. import factories
from ..domain.test_join_links import register
from .conftest import csrf_token
from .test_hybrid_leak import _session_form

URL = "https://meet.example.net/j/5550001?pwd=formcanary"


def post(client, event, session, **overrides):
    path = f"/admin/events/{event.id}/sessions/{session.id}"
    return client.post(path, data={**_session_form(event, session, meeting_url=URL), **overrides,
                                   "csrf_token": csrf_token(client, path)})


def test_the_form_makes_keeps_and_refuses(client, ctx, login, make_event):
    event = make_event(capacity=30)
    onsite = event.sessions[0]
    login(factories.make_staff("organizer", events=[event]))

    bad = post(client, event, onsite, meeting_url="javascript:alert(1)")
    assert bad.status_code == 400 and "https://" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert hybrid.twin_of(onsite) is None  # nothing changed

    assert post(client, event, onsite).status_code in (302, 303)
    db.session.expire_all()
    twin = hybrid.twin_of(onsite)
    assert twin.capacity == 300 and twin.meeting_url == URL and twin.title == "第1回"
    # The twin's own page is its on-site session's; the URL is never shown back.
    assert client.get(f"/admin/events/{event.id}/sessions/{twin.id}").status_code == 303
    page = client.get(f"/admin/events/{event.id}/sessions/{onsite.id}").get_data(as_text=True)
    assert "formcanary" not in page and "設定済み" in page
    assert re.search(r'<input[^>]*checked[^>]*value="both"|<input[^>]*value="both"[^>]*checked', page), page

    register(twin)
    refused = post(client, event, onsite, mode="onsite")
    assert refused.status_code == 400
    db.session.expire_all()
    assert hybrid.twin_of(onsite) is not None
    # Removing the on-site session never takes its twin's people with it (the foreign key's cascade).
    delete = f"/admin/events/{event.id}/sessions/{onsite.id}/delete"
    client.post(delete, data={"confirm": "yes", "csrf_token": csrf_token(client, delete)})
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(EventSession).where(EventSession.event_id == event.id)) == 2
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 1


def test_the_desk_is_on_site(client, ctx, make_event):
    """A walk-in cannot be put into the online twin; the desk's roster holds on-site people only."""
    from ..domain.test_join_links import hybrid_event
    from .test_desk_api import get, post, token_for

    event = hybrid_event(make_event)
    twin = hybrid.twin_of(event.sessions[0])
    here, away = register(event.sessions[0]), register(twin)
    token = token_for(event)
    walk_in = {"family_name": "当日", "given_name": "一郎", "family_kana": "トウジツ", "given_kana": "イチロウ",
               "sector": "individual"}
    assert post(client, token, f"/events/{event.id}/walk-ins", {**walk_in, "session_id": twin.id}).status_code == 422
    assert post(client, token, f"/events/{event.id}/walk-ins",
                {**walk_in, "session_id": event.sessions[0].id}).status_code == 201
    roster = get(client, token, f"/events/{event.id}/roster").get_json()
    ids = {row["id"] for row in roster["rows"]}
    assert here.id in ids and away.id not in ids and roster["total"] == len(ids) == 2
