"""Scheduled tasks from rules, found due from the database and done once (domain.timing.periodic)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from eventreg.domain.timing import deadlines, periodic, schedule
from eventreg.extensions import db
from eventreg.models import Event, EventSession, MailKind, OutboxMessage, ScheduledTask, TaskKind

from .. import factories

JST = timezone(timedelta(hours=9))
SECOND = timedelta(seconds=1)


@pytest.fixture
def make_event(make_event):
    """Events without reminder rules: these tests are about the deadline summary (reminders are
    tests/domain/test_reminders.py and tests/races/test_reminders_once.py)."""
    return lambda **overrides: make_event(**{"reminders": [], **overrides})


def task_of(session_id: int) -> ScheduledTask:
    return db.session.scalar(select(ScheduledTask).where(
        ScheduledTask.session_id == session_id, ScheduledTask.kind == TaskKind.deadline_summary))


def summaries() -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.deadline_summary)).all()


def test_an_imported_event_schedules_its_deadline_summary_at_the_deadline(make_event):
    event = make_event()  # 1 day before at 12:00 JST
    session = event.sessions[0]
    task = task_of(session.id)
    local_start = session.starts_at.astimezone(JST)
    assert task.due_at == datetime.combine(local_start.date() - timedelta(days=1),
                                           datetime.min.time().replace(hour=12), tzinfo=JST)
    assert task.due_at == session.closes_at and task.done_at is None and task.event_id == event.id


@pytest.mark.parametrize(("deadline", "expected"), [
    ({"at": factories.in_days(3, "18:00").replace(tzinfo=None).isoformat()},
     factories.in_days(3, "18:00")),  # absolute, in local time
    ({}, None),  # no deadline: registration closes when the session starts
])
def test_the_due_time_follows_the_deadline_rule(make_event, deadline, expected):
    event = make_event(deadline=deadline)
    session = event.sessions[0]
    assert task_of(session.id).due_at == (expected or session.starts_at) == session.closes_at


def test_due_work_boundary_is_the_due_instant(make_event):
    task = task_of(make_event().sessions[0].id)
    assert periodic.due_work(task.due_at - SECOND) == []
    assert periodic.due_work(task.due_at) == [task.id]  # as at the deadline: the instant is due


def test_the_summary_is_queued_once_with_the_numbers_and_arrives(app, make_event, smtp_server):
    from eventreg.worker import deliver_due

    event = make_event(capacity=2, contact_name="事務局 田中")
    session = event.sessions[0]
    for _ in range(3):  # two confirmed, one waiting
        factories.register_person(event)
    cancelled = factories.register_person(event, email="gone@example.org")  # waitlisted, then cancelled
    from eventreg.domain.registration import signup

    signup.cancel(cancelled, now=datetime.now(timezone.utc))
    db.session.commit()
    task = task_of(session.id)
    now = task.due_at + timedelta(minutes=1)

    assert periodic.do_task(task.id, now) == periodic.DONE
    db.session.commit()
    [row] = summaries()
    assert row.registration_id is None and row.to_address == "office@example.org"
    assert row.to_name == "事務局 田中" and row.language is None  # the event's language, at delivery
    assert row.idempotency_key == f"deadline_summary:session:{session.id}"
    assert {k: row.context[k] for k in ("event_title", "confirmed", "waitlisted", "capacity", "timezone")} == {
        "event_title": event.title, "confirmed": 2, "waitlisted": 1, "capacity": 2, "timezone": "Asia/Tokyo"}
    assert datetime.fromisoformat(row.context["session_starts_at"]) == session.starts_at
    assert datetime.fromisoformat(row.context["deadline_at"]) == session.closes_at
    # The worker renders it (this context once lacked keys the template needs: a mail never sent).
    assert deliver_due(app, worker_id="test", now=now) + deliver_due(app, worker_id="test", now=now) == 6
    db.session.commit()  # a new read transaction sees the worker's writes (SQLite keeps a snapshot)
    db.session.refresh(row)
    assert row.status.value == "sent", row.last_error  # 5 attendee mails, then the summary
    [mail] = smtp_server.to("office@example.org")
    body = mail.get_body(("plain",)).get_content()
    assert "参加確定: 2名(定員 2名)" in body and "キャンセル待ち: 1名" in body
    db.session.expire_all()
    done = task_of(session.id)
    assert (done.done_at, done.outcome) == (now, "done")

    # Again, later (a restart, another worker): nothing more.
    assert periodic.do_task(task.id, now + timedelta(minutes=5)) is None
    assert periodic.due_work(now + timedelta(days=1)) == []
    db.session.commit()
    assert len(summaries()) == 1


@pytest.mark.parametrize(("late", "outcome"), [
    (timedelta(hours=48), "done"),
    (timedelta(hours=48) + SECOND, "missed"),  # a summary days late is noise
])
def test_a_task_found_more_than_48_hours_late_is_missed(make_event, late, outcome):
    task = task_of(make_event().sessions[0].id)
    assert periodic.do_task(task.id, task.due_at + late) == outcome
    db.session.commit()
    assert len(summaries()) == (1 if outcome == "done" else 0)
    db.session.expire_all()
    assert task_of(task.session_id).outcome == outcome


def test_no_contact_email_is_skipped(make_event):
    task = task_of(make_event(contact_email="").sessions[0].id)
    assert periodic.do_task(task.id, task.due_at) == "skipped"
    db.session.commit()
    assert summaries() == []
    assert periodic.due_work(task.due_at + timedelta(days=1)) == []


def test_pending_tasks_move_with_their_session_and_done_ones_stay(make_event):
    event = make_event(sessions=[
        {"date": "2030-03-10", "start": "14:00", "end": "16:00", "capacity": 10},
        {"date": "2030-03-17", "start": "14:00", "end": "16:00", "capacity": 10},
    ])
    first, second = event.sessions
    done_task = task_of(first.id)
    periodic.do_task(done_task.id, done_task.due_at)
    db.session.commit()
    done_at, old_due = task_of(first.id).done_at, task_of(first.id).due_at

    week = timedelta(days=7)
    for session in (first, second):
        session.doors_at, session.starts_at, session.ends_at = (
            session.doors_at + week, session.starts_at + week, session.ends_at + week)
        deadlines.resolve_window(event, session)
    event.sessions.append(EventSession(
        title="追加回", doors_at=datetime(2030, 4, 1, 13, 30, tzinfo=JST),
        starts_at=datetime(2030, 4, 1, 14, 0, tzinfo=JST), ends_at=datetime(2030, 4, 1, 16, 0, tzinfo=JST),
        capacity=5, seats_taken=0))
    deadlines.resolve_window(event, event.sessions[-1])
    schedule.reschedule(event)
    db.session.commit()
    db.session.expire_all()

    assert (task_of(first.id).due_at, task_of(first.id).done_at) == (old_due, done_at)  # done stays done
    assert task_of(second.id).due_at == datetime(2030, 3, 23, 12, 0, tzinfo=JST)  # moved a week
    added = db.session.get(Event, event.id).sessions[-1]
    assert task_of(added.id).due_at == datetime(2030, 3, 31, 12, 0, tzinfo=JST)
    assert len(db.session.scalars(select(ScheduledTask)).all()) == 3


def test_a_task_moved_later_after_it_was_found_is_not_done_early(make_event):
    event = make_event()
    task = task_of(event.sessions[0].id)
    found_at = task.due_at
    assert periodic.due_work(found_at) == [task.id]
    task.due_at = found_at + timedelta(days=2)  # the organizer moved the session meanwhile
    db.session.commit()
    assert periodic.do_task(task.id, found_at) is None
    db.session.commit()
    assert summaries() == []


def test_nothing_due_is_one_indexed_query(app, make_event):
    """The tick's cost with nothing due: one SELECT on the (done_at, due_at) index."""
    from sqlalchemy import event as sa_event

    make_event()
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        assert periodic.due_work(datetime.now(timezone.utc)) == []
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    [(query, parameters)] = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
    assert "scheduled_task" in query
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + query, parameters))
        assert "ix_scheduled_task_due" in plan, plan


def test_the_tick_command(app, make_event, tmp_path):
    """`flask --app wsgi tick`: the worker's tick once, from the command line, at the real time;
    each outcome on a line of its own, counted and said in words."""
    from pathlib import Path

    make_event()  # its deadline is days ahead
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tick"]).output.strip() == "nothing due"
    example = Path(__file__).resolve().parents[2] / "docs" / "example-event.yaml"
    held_in_2019 = tmp_path / "event.yaml"
    held_in_2019.write_text(re.sub(r"date: 20\d\d-", "date: 2019-", example.read_text("utf-8")), "utf-8")
    assert runner.invoke(args=["import-event", str(held_in_2019)]).exit_code == 0
    result = runner.invoke(args=["tick"])
    # Held in 2019: its deadline summary, its building-security list, its reminder and its
    # post-event loop (on, as for every new event) are all long missed; and its retention period ran out long ago, so its personal data is purged.
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "    4  missed: scheduled tasks found too late (over 48 hours after they were due, or after the session): "
        "not sent",
        "    1  retention: retention purges (events past their retention period, old sign-ins and sent mail)"]
    assert runner.invoke(args=["tick"]).output.strip() == "nothing due"
    assert summaries() == []
