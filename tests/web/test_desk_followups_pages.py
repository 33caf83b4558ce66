"""What offline desks left to look at, on the check-in log and the event overview: conflicts
(「13:42:05 受付1 / 13:43:10 受付2」), open desk tasks with their 「対応済み」 button (closed once),
operations whose device clock was off."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import AuditEntry, DeskTask

from .. import factories
from .conftest import csrf_token
from .test_desk_batches import now, scan, send, token_for, walk_in


def jst(t) -> str:
    return t.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M:%S")


def offline_day(client, event):
    """Two desks apart: 山田 admitted at both, a walk-in with no free seat, one device clock 8 min fast."""
    person = factories.register_person(event, family_name="山田", given_name="花子")
    token = token_for(event)
    t1, t2 = now() - timedelta(minutes=20), now() - timedelta(minutes=19)
    send(client, token, event, [scan(person, t1)], desk="受付1")
    send(client, token, event, [scan(person, t2)], desk="受付2")
    fast = now() + timedelta(minutes=8)
    send(client, token, event, [walk_in(event, fast - timedelta(minutes=1))], desk="受付2", sent_at=fast)
    return person, t1, t2


def test_the_log_lists_conflicts_tasks_and_skew_and_a_task_closes_once(client, make_event, login):
    event = make_event(capacity=1)
    person, t1, t2 = offline_day(client, event)
    owner = factories.make_staff("owner", events=[event])
    login(owner)
    url = f"/admin/events/{event.id}/checkins"
    page = client.get(url).get_data(as_text=True)
    assert f"{jst(t1)} 受付1 / {jst(t2)} 受付2" in page
    section = page.split('id="desk-conflicts"')[1].split("</section>")[0]
    assert "山田 花子" in section
    tasks = page.split('id="desk-tasks"')[1].split("</section>")[0]
    assert "当日 一郎" in tasks and "対応済み" in tasks
    skew = page.split('id="desk-skew"')[1].split("</section>")[0]
    assert "受付2" in skew and re.search(r"\+(7分5\d|8分\d)秒", skew), skew

    overview = client.get(f"/admin/events/{event.id}").get_data(as_text=True)
    assert 'id="desk-followups"' in overview and f'/admin/events/{event.id}/checkins#desk-tasks' in overview

    [task] = db.session.scalars(select(DeskTask)).all()
    done_url = f"/admin/events/{event.id}/desk-tasks/{task.id}/done"
    token = csrf_token(client, url)
    assert client.post(done_url, data={}).status_code == 400  # no CSRF token
    for _ in range(2):  # pressed twice: closed once, one audit entry
        assert client.post(done_url, data={"csrf_token": token}).status_code == 303
    db.session.rollback()
    task = db.session.get(DeskTask, task.id)
    assert task.done_at is not None and task.done_by == owner.id
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "desk_task_done")) == 1
    assert 'id="desk-tasks"' not in client.get(url).get_data(as_text=True)


def test_a_viewer_sees_the_tasks_but_cannot_close_them(client, make_event, login):
    event = make_event(capacity=1)
    offline_day(client, event)
    viewer = factories.make_staff("viewer", events=[event])
    token = csrf_token(client, "/login")  # the viewer's pages have no form: the session's token from before
    login(viewer)
    url = f"/admin/events/{event.id}/checkins"
    page = client.get(url).get_data(as_text=True)
    assert 'id="desk-tasks"' in page and "対応済み" not in page
    [task] = db.session.scalars(select(DeskTask)).all()
    response = client.post(f"/admin/events/{event.id}/desk-tasks/{task.id}/done", data={"csrf_token": token})
    assert response.status_code == 403


def test_another_events_task_is_not_closed_through_this_event(client, make_event, login):
    event, other = make_event(capacity=1), make_event()
    offline_day(client, event)
    owner = factories.make_staff("owner", events=[event, other])
    login(owner)
    [task] = db.session.scalars(select(DeskTask)).all()
    token = csrf_token(client, f"/admin/events/{event.id}/checkins")
    client.post(f"/admin/events/{other.id}/desk-tasks/{task.id}/done", data={"csrf_token": token})
    db.session.rollback()
    assert db.session.get(DeskTask, task.id).done_at is None


def test_no_section_without_offline_work(client, make_event, login):
    event = make_event()
    login(factories.make_staff("owner", events=[event]))
    page = client.get(f"/admin/events/{event.id}/checkins").get_data(as_text=True)
    assert "desk-conflicts" not in page and "desk-tasks" not in page and "desk-skew" not in page
    assert 'id="desk-followups"' not in client.get(f"/admin/events/{event.id}").get_data(as_text=True)
