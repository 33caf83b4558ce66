"""The test client runs each request in its own app context and database session, as a server
does: a view that changes rows and forgets to commit has changed nothing, and the test sees that."""

from __future__ import annotations

from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import Event


def test_a_view_that_does_not_commit_changes_nothing(app, client, make_event, monkeypatch):
    event = make_event(title="元の題名")
    event_id = event.id

    def forgets_to_commit():
        db.session.get(Event, event_id).title = "書き換えた題名"
        db.session.flush()
        return "ok"

    monkeypatch.setitem(app.view_functions, "public.index", forgets_to_commit)
    assert client.get("/").get_data(as_text=True) == "ok"
    assert db.session.scalar(select(Event.title).where(Event.id == event_id)) == "元の題名"


def test_a_request_does_not_see_what_the_test_has_not_committed(app, client, make_event, monkeypatch):
    event = make_event(title="元の題名")
    event_id = event.id
    event.title = "コミットしていない題名"
    db.session.flush()
    seen = []
    monkeypatch.setitem(app.view_functions, "public.index",
                        lambda: seen.append(db.session.get(Event, event_id).title) or "ok")
    client.get("/")
    assert seen == ["元の題名"]
