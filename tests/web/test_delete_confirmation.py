"""Deleting a question or a session asks first, on a page (no JavaScript needed): the edit page
links to it, a POST without the page's confirmation deletes nothing, the page's button deletes."""

from __future__ import annotations

import pytest

from eventreg.extensions import db
from eventreg.models import EventSession, Question, QuestionKind

from .. import factories
from .conftest import csrf_token


@pytest.fixture
def event(ctx, login):
    event = factories.make_event()
    extra = EventSession(title="午後の部", doors_at=event.sessions[0].doors_at, starts_at=event.sessions[0].starts_at,
                         ends_at=event.sessions[0].ends_at, closes_at=event.sessions[0].closes_at, capacity=10, seats_taken=0, sequence=0)
    event.sessions.append(extra)
    event.questions.append(Question(position=1, kind=QuestionKind.text, label="懇親会に参加しますか", help="",
                                    choices=[], required=False, hidden=False))
    db.session.commit()
    login(factories.make_staff("editor", [event]))
    return event


def _targets(event):
    question = event.questions[0]
    session = next(s for s in event.sessions if s.title == "午後の部")
    base = f"/admin/events/{event.id}"
    return [(f"{base}/questions/{question.id}/delete", Question, question.id, "懇親会に参加しますか", "この質問を削除しますか"),
            (f"{base}/sessions/{session.id}/delete", EventSession, session.id, "午後の部", "この回を削除しますか")]


def test_deleting_asks_first_and_only_the_confirmation_deletes(client, event):
    edit = client.get(f"/admin/events/{event.id}/edit").get_data(as_text=True)
    for url, model, row_id, label, question in _targets(event):
        assert f'href="{url}"' in edit and f'action="{url}"' not in edit  # a link to the question, not a delete
        page = client.get(url)
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and question in html and label in html and 'name="confirm"' in html
        token = csrf_token(client, url)
        unconfirmed = client.post(url, data={"csrf_token": token})
        assert unconfirmed.status_code == 200 and question in unconfirmed.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(model, row_id) is not None
        done = client.post(url, data={"csrf_token": token, "confirm": "yes"})
        assert done.status_code in (302, 303)
        db.session.expire_all()
        assert db.session.get(model, row_id) is None
