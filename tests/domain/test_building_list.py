"""The building-security list (domain.communication.building_list): scheduled per session, frozen, sent once,
and followed by exactly one difference per real change."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from eventreg.domain.communication import building_list, building_list_changes, building_list_sheet
from eventreg.domain.errors import DomainError
from eventreg.domain.registration import signup
from eventreg.domain.timing import periodic, schedule
from eventreg.extensions import db
from eventreg.models import MailKind, OutboxMessage, ScheduledTask, Sector, SecurityListSend, Status, TaskKind

from .. import factories

JST = timezone(timedelta(hours=9))
SECOND = timedelta(seconds=1)
VENUE = "security@venue.example"


def with_security(event, email=VENUE, rule=None, **fields):
    event.security_email = email
    event.security_send_rule = rule
    for key, value in fields.items():
        setattr(event, key, value)
    schedule.reschedule(event)
    db.session.commit()
    return event


def task_of(session_id: int) -> ScheduledTask | None:
    return db.session.scalar(select(ScheduledTask).where(
        ScheduledTask.session_id == session_id, ScheduledTask.kind == TaskKind.security_list))


def list_mails() -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(
        [MailKind.security_list, MailKind.security_list_diff])).order_by(OutboxMessage.id)).all()


def person(event, family, given, family_kana, given_kana, organization="育て上げネット", index=0):
    return factories.register_person(event, index, family_name=family, given_name=given,
                                     family_kana=family_kana, given_kana=given_kana, organization=organization)


@pytest.fixture
def seminar(make_event):
    """The seed seminar: one session in 14 days, deadline 前日12:00, three people signed up."""
    event = with_security(make_event(capacity=3))
    people = [person(event, "渡邊", "翔太", "ワタナベ", "ショウタ", "千葉市役所"),
              person(event, "青木", "美咲", "アオキ", "ミサキ"),
              person(event, "佐藤", "誠", "サトウ", "マコト", "")]
    return event, people


def send_at_due(event, index=0):
    """Runs the session's task at its due time, as the tick does; returns (send, due)."""
    task = task_of(event.sessions[index].id)
    assert periodic.do_task(task.id, task.due_at) == periodic.DONE
    db.session.commit()
    return building_list.last_sent(event.sessions[index].id), task.due_at


def test_the_task_is_due_at_the_deadline_the_day_before_at_noon(seminar):
    event, _ = seminar
    session = event.sessions[0]
    task = task_of(session.id)
    local_start = session.starts_at.astimezone(JST)
    assert task.due_at == datetime.combine(local_start.date() - timedelta(days=1),
                                           datetime.min.time().replace(hour=12), tzinfo=JST)
    assert task.due_at == session.closes_at


def test_no_contact_no_task_and_removing_the_contact_removes_the_pending_task(make_event):
    event = make_event()
    assert task_of(event.sessions[0].id) is None
    with_security(event)
    assert task_of(event.sessions[0].id) is not None
    with_security(event, email="")
    assert task_of(event.sessions[0].id) is None


def test_a_send_rule_of_its_own_and_each_session_its_own_time(make_event):
    start = factories.in_days(20, "10:00")
    event = make_event(sessions=[
        {"title": "第1回", "date": start.date().isoformat(), "start": "10:00", "end": "12:00", "capacity": 10},
        {"title": "第2回", "date": (start + timedelta(days=7)).date().isoformat(), "start": "14:00",
         "end": "16:00", "capacity": 10},
    ])
    with_security(event, rule="2d@17:00")
    first, second = (task_of(s.id).due_at.astimezone(JST) for s in event.sessions)
    assert (first.date(), first.hour) == (start.date() - timedelta(days=2), 17)
    assert (second.date(), second.hour) == (start.date() + timedelta(days=5), 17)


def test_a_moved_session_moves_its_task_and_a_sent_one_stays_done(seminar):
    event, _ = seminar
    session = event.sessions[0]
    before = task_of(session.id).due_at
    session.starts_at += timedelta(days=3)
    session.ends_at += timedelta(days=3)
    session.doors_at += timedelta(days=3)
    from eventreg.domain.timing import deadlines
    deadlines.resolve_window(event, session)
    schedule.reschedule(event)
    db.session.commit()
    assert task_of(session.id).due_at == before + timedelta(days=3) == session.closes_at


def test_not_before_the_time_then_the_whole_list_in_furigana_order(seminar):
    event, people = seminar
    task = task_of(event.sessions[0].id)
    assert task.id not in periodic.due_work(task.due_at - SECOND)
    assert periodic.do_task(task.id, task.due_at - SECOND) is None
    assert list_mails() == []

    sent, due = send_at_due(event)
    assert (sent.seq, sent.kind, sent.trigger, sent.count, sent.recipient) == (1, "full", "schedule", 3, VENUE)
    assert sent.columns == ["name", "kana", "organization", "department", "session"]
    header, rows = building_list_sheet.sheet(sent.columns, sent.people, "ja")
    assert header == ["氏名", "フリガナ", "会社名・団体名", "部署・役職", "参加する回"]
    assert [row[:3] for row in rows] == [["青木 美咲", "アオキ ミサキ", "育て上げネット"],
                                         ["佐藤 誠", "サトウ マコト", ""],
                                         ["渡邊 翔太", "ワタナベ ショウタ", "千葉市役所"]]
    [mail] = list_mails()
    assert (mail.kind, mail.to_address, mail.idempotency_key) == (MailKind.security_list, VENUE,
                                                                  f"security_list:{sent.id}")
    assert sent.outbox_key == mail.idempotency_key
    assert mail.attachments == [{"kind": "security_list", "send_id": sent.id, "format": "xlsx"}]
    assert mail.context["count"] == 3 and mail.context["contact_email"] == "office@example.org"
    # Done once: a second look (a restart, another worker) does nothing.
    assert periodic.do_task(task.id, due + SECOND) is None
    assert len(list_mails()) == 1


def test_only_confirmed_people_are_on_the_list(make_event):
    event = with_security(make_event(capacity=1))
    person(event, "青木", "美咲", "アオキ", "ミサキ")
    waiting = person(event, "佐藤", "誠", "サトウ", "マコト")
    assert waiting.status == Status.waitlisted
    sent, _ = send_at_due(event)
    assert [v["name"] for v in sent.people.values()] == ["青木 美咲"]


def test_a_late_cancellation_names_exactly_who_was_removed(seminar):
    event, people = seminar
    sent, due = send_at_due(event)
    assert building_list.send_difference(event.sessions[0], now=due + SECOND) is None  # nothing changed
    signup.cancel(people[0], now=due + timedelta(hours=1))
    db.session.commit()
    later = due + timedelta(hours=1, seconds=30)
    assert building_list_changes.changed_sessions(later) == [event.sessions[0].id]
    diff = building_list.send_difference(event.sessions[0], now=later)
    db.session.commit()
    assert (diff.seq, diff.kind, diff.trigger, diff.count) == (2, "diff", "change", 2)
    assert diff.added == [] and diff.removed == [str(people[0].id)]
    mail = list_mails()[-1]
    assert mail.kind == MailKind.security_list_diff
    assert mail.context["removed"] == [{"name": "渡邊 翔太", "kana": "ワタナベ ショウタ", "organization": "千葉市役所"}]
    assert mail.context["added"] == [] and mail.context["count"] == 2
    # And only once: the next tick finds nothing to say.
    assert building_list_changes.changed_sessions(later + SECOND) == []
    assert building_list.send_difference(event.sessions[0], now=later + SECOND) is None
    assert len(list_mails()) == 2


def test_a_late_addition_names_exactly_who_was_added(seminar):
    event, _ = seminar
    event.sessions[0].capacity = 10
    db.session.commit()
    sent, due = send_at_due(event)
    newcomer = person(event, "井上", "陽菜", "イノウエ", "ヒナ", "株式会社ミライ会計")
    diff = building_list.send_difference(event.sessions[0], now=due + timedelta(hours=2))
    db.session.commit()
    assert diff.added == [str(newcomer.id)] and diff.removed == [] and diff.count == 4
    assert list_mails()[-1].context["added"] == [
        {"name": "井上 陽菜", "kana": "イノウエ ヒナ", "organization": "株式会社ミライ会計"}]


def test_a_cancellation_that_promotes_someone_is_one_difference_with_both(make_event):
    event = with_security(make_event(capacity=1))
    first = person(event, "青木", "美咲", "アオキ", "ミサキ")
    waiting = person(event, "佐藤", "誠", "サトウ", "マコト")
    _, due = send_at_due(event)
    signup.cancel(first, now=due + SECOND)
    db.session.commit()
    diff = building_list.send_difference(event.sessions[0], now=due + 2 * SECOND)
    assert (diff.added, diff.removed) == ([str(waiting.id)], [str(first.id)])


def test_a_cancel_then_the_same_person_again_is_no_change(seminar):
    event, people = seminar
    _, due = send_at_due(event)
    signup.cancel(people[1], now=due + SECOND)
    db.session.commit()
    again = person(event, "青木", "美咲", "アオキ", "ミサキ")
    assert again.id != people[1].id and again.status == Status.confirmed
    assert building_list_changes.changed_sessions(due + 2 * SECOND) == []
    assert building_list.send_difference(event.sessions[0], now=due + 2 * SECOND) is None
    assert building_list.on_sent_list(again) is True


def test_a_corrected_name_is_the_old_row_removed_and_the_new_one_added(seminar):
    event, people = seminar
    _, due = send_at_due(event)
    people[2].given_name = "誠一"
    db.session.commit()
    diff = building_list.send_difference(event.sessions[0], now=due + SECOND)
    assert diff.added == diff.removed == [str(people[2].id)]
    mail = list_mails()[-1]
    assert mail.context["removed"][0]["name"] == "佐藤 誠" and mail.context["added"][0]["name"] == "佐藤 誠一"


def test_on_sent_list_for_the_desk(seminar):
    event, people = seminar
    assert building_list.on_sent_list(people[0]) is None  # nothing sent yet
    event.sessions[0].capacity = 10
    db.session.commit()
    _, due = send_at_due(event)
    late = person(event, "井上", "陽菜", "イノウエ", "ヒナ")
    assert building_list.on_sent_list(people[0]) is True
    assert building_list.on_sent_list(late) is False  # the building has no pass for her
    building_list.send_difference(event.sessions[0], now=due + SECOND)
    db.session.commit()
    assert building_list.on_sent_list(late) is True


def test_send_now_is_a_whole_list_with_the_next_seq(seminar):
    event, _ = seminar
    staff = factories.make_staff("organizer", [event])
    manual = building_list.send_full(event.sessions[0], trigger="manual", actor=staff, now=factories.in_days(1))
    db.session.commit()
    assert (manual.seq, manual.kind, manual.trigger, manual.sent_by) == (1, "full", "manual", staff.id)
    sent, _ = send_at_due(event)  # the scheduled list still goes at its time, as the next one
    assert (sent.seq, sent.kind, sent.trigger) == (2, "full", "schedule")
    assert list_mails()[-1].context["previous_seq"] == 1


def test_send_now_without_a_contact_is_refused(make_event):
    event = make_event()
    with pytest.raises(DomainError) as refused:
        building_list.send_full(event.sessions[0], trigger="manual", now=factories.in_days(1))
    assert refused.value.code == "no_security_contact"
    assert db.session.scalar(select(func.count()).select_from(SecurityListSend)) == 0


def test_a_new_contact_address_gets_the_whole_list(seminar):
    event, _ = seminar
    _, due = send_at_due(event)
    event.security_email = "guard@other.example"
    db.session.commit()
    again = building_list.send_difference(event.sessions[0], now=due + SECOND)
    assert (again.kind, again.seq, again.recipient, again.count) == ("full", 2, "guard@other.example", 3)


def test_no_differences_after_the_session_ended_and_a_list_found_after_it_is_missed(seminar):
    event, people = seminar
    _, due = send_at_due(event)
    signup.cancel(people[0], now=due + SECOND)
    db.session.commit()
    assert building_list_changes.changed_sessions(event.sessions[0].ends_at) == []

    other = with_security(factories.make_event())
    task = task_of(other.sessions[0].id)
    assert periodic.do_task(task.id, other.sessions[0].ends_at) == periodic.MISSED
    # ... but one found late while the session is still ahead goes out late, not never.
    late = with_security(factories.make_event())
    task = task_of(late.sessions[0].id)
    assert periodic.do_task(task.id, late.sessions[0].starts_at - timedelta(hours=1)) == periodic.DONE


def test_columns_of_the_event_and_their_order(seminar):
    event, _ = seminar
    event.security_columns = ["organization", "name", "phone", "sector"]
    event.language = "en"
    db.session.commit()
    header, rows = building_list_sheet.preview(event.sessions[0])
    assert header == ["Organization", "Name", "Phone", "Sector"]
    assert rows[0] == ["育て上げネット", "青木 美咲", "", "NPO / NGO"]
    with pytest.raises(DomainError):
        building_list_sheet.check_columns(["name", "password"])
    with pytest.raises(DomainError):
        building_list_sheet.check_columns([])


def test_the_tick_compares_only_lists_whose_people_may_have_changed(seminar):
    """changed_sessions reads people only for candidates (a count, a timestamp or an audit entry
    moved since the send) and, each round, 1/ROTATION of the rest: a change that left no trace
    (an edit straight in the database) is still found within ROTATION rounds."""
    event, people = seminar
    _, due = send_at_due(event)
    signup.cancel(people[0], now=due + SECOND)  # a timestamp: found at once
    db.session.commit()
    assert building_list_changes.changed_sessions(due + 2 * SECOND) == [event.sessions[0].id]
    building_list.send_difference(event.sessions[0], now=due + 2 * SECOND)
    db.session.commit()
    people[1].given_name = "美咲子"  # no timestamp, no audit entry
    db.session.commit()
    later = due + timedelta(hours=1)
    rounds = [building_list_changes.changed_sessions(later) for _ in range(building_list_changes.ROTATION)]
    assert [event.sessions[0].id] in rounds


def test_a_list_sent_in_former_words_is_no_change_of_people(seminar):
    """A sector renamed since a list was sent (行政 → 行政・自治体), and a session written another way,
    change words, not people: no difference is sent (the session is the same on every row anyway)."""
    event, people = seminar
    with_security(event, security_columns=["name", "kana", "organization", "session", "sector"])
    people[0].sector = Sector.government
    db.session.commit()
    sent, due = send_at_due(event)
    assert sent.people[str(people[0].id)]["sector"] == "行政・自治体"
    sent.people = {rid: {**values, "session": "2099-01-01 10:00",
                         "sector": "行政" if values["sector"] == "行政・自治体" else values["sector"]}
                   for rid, values in sent.people.items()}
    db.session.commit()
    assert building_list.send_difference(event.sessions[0], now=due + SECOND) is None
    people[1].sector = Sector.government  # a real change is still one
    db.session.commit()
    assert building_list.send_difference(event.sessions[0], now=due + 2 * SECOND) is not None
