"""Reminders: rules per event, one task per rule and session, moved with the session, queued once
for the confirmed people only, missed when found too late (domain.communication.reminders, domain.timing.schedule,
domain.timing.periodic). Every time is an explicit ``now``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from eventreg.domain.backoffice import clone, events, sessions
from eventreg.domain.communication import reminders
from eventreg.domain.errors import DomainError
from eventreg.domain.registration import signup
from eventreg.domain.timing import periodic
from eventreg.extensions import db
from eventreg.models import AuditEntry, MailKind, OutboxMessage, ScheduledTask, Status, TaskKind

from .. import factories

JST = factories.JST
NOW = datetime(2030, 3, 1, 9, 0, tzinfo=timezone.utc)
SESSIONS = [{"date": "2030-03-10", "doors": "13:30", "start": "14:00", "end": "16:00", "capacity": 2},
            {"date": "2030-03-17", "doors": "13:30", "start": "14:00", "end": "16:00", "capacity": 10}]


def reminder_tasks(session_id: int | None = None) -> list[ScheduledTask]:
    query = select(ScheduledTask).where(ScheduledTask.kind == TaskKind.reminder).order_by(ScheduledTask.id)
    if session_id is not None:
        query = query.where(ScheduledTask.session_id == session_id)
    db.session.expire_all()
    return db.session.scalars(query).all()


def reminder_rows() -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.reminder)
                              .order_by(OutboxMessage.registration_id)).all()


def test_a_new_event_gets_the_default_reminder_the_day_before_at_10(make_event):
    event = make_event(sessions=SESSIONS)
    assert [r.rule for r in event.reminders] == [reminders.DEFAULT_RULE] == ["1d@10:00"]
    tasks = reminder_tasks()
    assert [(t.session_id, t.ref_id) for t in tasks] == [(s.id, event.reminders[0].id) for s in event.sessions]
    assert [t.due_at for t in tasks] == [datetime(2030, 3, 9, 10, 0, tzinfo=JST), datetime(2030, 3, 16, 10, 0, tzinfo=JST)]


def test_an_event_made_in_the_back_office_gets_it_too(ctx):
    staff = factories.make_staff("organizer")
    event = events.create_event({"title": "説明会", "venue_name": "会議室", "organizer": "事務局"}, actor=staff,
                                now=NOW, sessions=[{"date": "2030-03-10", "start": "14:00", "end": "16:00",
                                                    "capacity": 5}])
    assert [(r.rule, r.created_at) for r in event.reminders] == [("1d@10:00", NOW)]
    assert len(reminder_tasks()) == 1


@pytest.mark.parametrize(("spec", "expected"), [
    ([], []),
    (["2h", "1d@10:00", "2h"], ["2h", "1d@10:00"]),  # duplicates dropped
    (["3d@17:30"], ["3d@17:30"]),
])
def test_the_import_takes_a_reminders_list(make_event, spec, expected):
    event = make_event(sessions=SESSIONS[:1], reminders=spec)
    assert [r.rule for r in event.reminders] == expected
    assert len(reminder_tasks()) == len(expected)


@pytest.mark.parametrize("bad", ["tomorrow", "2030-03-09T10:00+09:00", "61d@10:00", "73h", "1d@25:00"])
def test_the_import_refuses_a_bad_reminder(ctx, bad):
    from eventreg.domain.backoffice import event_import

    with pytest.raises(DomainError) as caught:
        event_import.build_event(factories.event_spec_dict(reminders=[bad]), now=NOW)
    assert caught.value.code == "invalid_event_file" and "reminder 1" in caught.value.detail


@pytest.mark.parametrize(("parts", "code"), [
    ({"kind": "days", "days": "", "at": "10:00"}, "reminder_days"),
    ({"kind": "days", "days": "-1", "at": "10:00"}, "reminder_days"),
    ({"kind": "days", "days": "61", "at": "10:00"}, "reminder_days"),
    ({"kind": "days", "days": "1", "at": "24:00"}, "reminder_time"),
    ({"kind": "days", "days": "1", "at": "10時"}, "reminder_time"),
    ({"kind": "hours", "hours": "0"}, "reminder_hours"),
    ({"kind": "hours", "hours": "1.5"}, "reminder_hours"),
    ({"kind": "hours", "hours": "٣"}, "reminder_hours"),  # a decimal digit, but not one we read
    ({"kind": "hours", "hours": "1e3"}, "reminder_hours"),
    ({"kind": "weeks"}, "reminder_kind"),
])
def test_bad_form_input_is_refused_with_a_code(parts, code):
    kind = parts.pop("kind")
    with pytest.raises(DomainError) as caught:
        reminders.rule_from_parts(kind, **parts)
    assert caught.value.code == code


def test_good_form_input_becomes_the_rule_text():
    assert reminders.rule_from_parts("days", days="1", at="9:05") == "1d@09:05"
    assert reminders.rule_from_parts("days", days="0", at="08:00") == "0d@08:00"
    assert reminders.rule_from_parts("hours", hours="2") == "2h"
    assert reminders.rule_from_parts("hours", hours="１２") == "12h"  # full-width digits, as often typed
    assert reminders.rule_from_parts("days", days="２", at="１７：３０") == "2d@17:30"


def test_adding_and_removing_a_rule_adds_and_removes_its_pending_tasks_and_keeps_done_ones(make_event):
    event = make_event(sessions=SESSIONS)
    first, second = event.sessions
    rule = reminders.add(event, "2h", actor=None, now=NOW)
    db.session.commit()
    tasks = [t for t in reminder_tasks() if t.ref_id == rule.id]
    assert [t.due_at for t in tasks] == [datetime(2030, 3, 10, 12, 0, tzinfo=JST), datetime(2030, 3, 17, 12, 0, tzinfo=JST)]
    with pytest.raises(DomainError, match="reminder_exists"):
        reminders.add(event, "2h", actor=None, now=NOW)
    # The first session's task is done, the second's pending; then the rule is removed.
    assert periodic.do_task(tasks[0].id, tasks[0].due_at) == periodic.SKIPPED  # nobody confirmed yet
    db.session.commit()
    reminders.remove(event, rule.id, actor=None, now=NOW)
    db.session.commit()
    left = [t for t in reminder_tasks() if t.ref_id == rule.id]
    assert [(t.session_id, t.outcome) for t in left] == [(first.id, "skipped")]  # the pending one is gone
    actions = [e.action for e in db.session.scalars(select(AuditEntry))]
    assert "reminder_added" in actions and "reminder_removed" in actions


def test_a_moved_session_moves_its_pending_reminder_and_a_done_one_stays_done(make_event):
    event = make_event(sessions=SESSIONS)
    first, second = event.sessions
    done = reminder_tasks(first.id)[0]
    assert periodic.do_task(done.id, done.due_at) == periodic.SKIPPED
    db.session.commit()
    done_before = (done.due_at, done.done_at)

    for session in (first, second):  # each a week later, through the back office's function
        start = session.starts_at.astimezone(JST) + timedelta(days=7)
        sessions.update_session(session, {"title": "", "date": start.date().isoformat(), "doors": "13:30",
                                        "start": "14:00", "end": "16:00", "capacity": session.capacity},
                              actor=None, now=NOW)
    db.session.commit()
    assert (reminder_tasks(first.id)[0].due_at, reminder_tasks(first.id)[0].done_at) == done_before
    assert reminder_tasks(second.id)[0].due_at == datetime(2030, 3, 23, 10, 0, tzinfo=JST)
    assert reminder_tasks(second.id)[0].done_at is None


def test_a_reminder_goes_to_confirmed_people_with_an_email_only(make_event):
    event = make_event(sessions=SESSIONS[:1])  # two seats
    confirmed = [factories.register_person(event) for _ in range(2)]
    waiting = factories.register_person(event)
    cancelled = factories.register_person(event)
    signup.cancel(cancelled, now=NOW)
    confirmed[1].status = Status.held  # a seat held until the email is confirmed: not reminded
    db.session.commit()
    assert {r.status for r in (waiting, cancelled)} == {Status.waitlisted, Status.cancelled}
    task = reminder_tasks()[0]
    now = task.due_at + timedelta(seconds=30)

    assert periodic.do_task(task.id, now) == periodic.DONE
    db.session.commit()
    [row] = reminder_rows()
    assert row.registration_id == confirmed[0].id
    assert row.idempotency_key == f"reminder:{task.id}:{confirmed[0].id}"
    assert row.attachments == [{"kind": "pass_pdf"}] and row.language == "ja"
    assert (task.done_at, task.outcome) == (now, "done")
    # Done again (a second worker, a restart): nothing more.
    assert periodic.do_task(task.id, now) is None
    assert reminders.queue(task, event.sessions[0], now) == 0  # the keys refuse a second copy
    assert len(reminder_rows()) == 1


@pytest.mark.parametrize(("late", "outcome"), [
    (timedelta(hours=48), periodic.DONE),  # the boundary: 48 h late still goes
    (timedelta(hours=48, seconds=1), periodic.MISSED),
])
def test_a_reminder_more_than_48_hours_late_is_missed_and_sends_nothing(make_event, late, outcome):
    event = make_event(sessions=[{"date": "2030-03-10", "start": "14:00", "end": "16:00", "capacity": 5}],
                       reminders=["3d@10:00"])
    factories.register_person(event)
    task = reminder_tasks()[0]
    assert periodic.do_task(task.id, task.due_at + late) == outcome
    db.session.commit()
    assert len(reminder_rows()) == (1 if outcome == periodic.DONE else 0)
    assert reminder_tasks()[0].outcome == outcome


def test_a_reminder_found_after_its_session_ended_is_missed(make_event):
    event = make_event(sessions=SESSIONS[:1], reminders=["2h"])
    factories.register_person(event)
    task = reminder_tasks()[0]
    assert periodic.do_task(task.id, event.sessions[0].ends_at) == periodic.MISSED
    assert reminder_rows() == []


def test_the_overview_says_pending_sent_missed_and_skipped(make_event):
    event = make_event(sessions=SESSIONS)
    factories.register_person(event, session_index=0)
    reminders.add(event, "2h", actor=None, now=NOW)
    db.session.commit()
    one_day, two_hours = event.reminders
    by_rule = {(t.ref_id, t.session_id): t for t in reminder_tasks()}
    first, second = event.sessions
    periodic.do_task(by_rule[(one_day.id, first.id)].id, by_rule[(one_day.id, first.id)].due_at)  # sent to 1
    periodic.do_task(by_rule[(one_day.id, second.id)].id, second.ends_at)  # missed
    periodic.do_task(by_rule[(two_hours.id, second.id)].id, by_rule[(two_hours.id, second.id)].due_at)  # skipped
    db.session.commit()
    states = {(reminder.rule, st.session.id): (st.state, st.people) for reminder, _rule, sts in
              reminders.overview(event) for st in sts}
    assert states == {("1d@10:00", first.id): ("sent", 1), ("1d@10:00", second.id): ("missed", 0),
                      ("2h", first.id): ("pending", 0), ("2h", second.id): ("skipped", 0)}


def test_a_copy_keeps_the_rules_and_an_added_session_gets_its_reminders(make_event):
    event = make_event(sessions=SESSIONS[:1], reminders=["2d@17:00", "2h"])
    copy = clone.clone_event(event, "2030-04-10", actor=None, now=NOW)
    db.session.commit()
    assert [r.rule for r in copy.reminders] == ["2d@17:00", "2h"]
    assert sorted(t.due_at for t in reminder_tasks(copy.sessions[0].id)) == [
        datetime(2030, 4, 8, 17, 0, tzinfo=JST), datetime(2030, 4, 10, 12, 0, tzinfo=JST)]

    added = sessions.add_session(event, {"title": "第2回", "date": "2030-03-20", "doors": "18:30", "start": "19:00",
                                       "end": "20:30", "capacity": 5}, actor=None, now=NOW)
    db.session.commit()
    assert sorted(t.due_at for t in reminder_tasks(added.id)) == [
        datetime(2030, 3, 18, 17, 0, tzinfo=JST), datetime(2030, 3, 20, 17, 0, tzinfo=JST)]
