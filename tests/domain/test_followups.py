"""The post-event loop (domain.communication.followups): its rule resolves after the session's
end and moves with the session; the tick sends the no-show note to confirmed no-shows only, once;
the cancelled and the waiting get nothing; opt-outs are left out of organizer messages; a resend
adds one row for one person. Every time is an explicit ``now``."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from eventreg.domain.backoffice import sessions
from eventreg.domain.communication import followups, opt_outs
from eventreg.domain.errors import DomainError
from eventreg.domain.reception import checkin
from eventreg.domain.registration import signup
from eventreg.domain.timing import periodic, schedule
from eventreg.domain.timing.rules import parse
from eventreg.extensions import db
from eventreg.models import AuditEntry, MailKind, OutboxMessage, ScheduledTask, TaskKind

from .. import factories

JST = factories.JST
NOW = datetime(2030, 3, 1, 9, 0, tzinfo=timezone.utc)
SESSIONS = [{"date": "2030-03-10", "doors": "13:30", "start": "14:00", "end": "16:00", "capacity": 4},
            {"date": "2030-03-17", "doors": "13:30", "start": "14:00", "end": "16:00", "capacity": 10}]
END = datetime(2030, 3, 10, 16, 0, tzinfo=JST)


def loop_tasks() -> list[ScheduledTask]:
    db.session.expire_all()
    return db.session.scalars(select(ScheduledTask).where(ScheduledTask.kind == TaskKind.followup)
                              .order_by(ScheduledTask.session_id)).all()


def rows(kind: MailKind) -> Counter:
    db.session.expire_all()
    return Counter(db.session.scalars(select(OutboxMessage.registration_id).where(OutboxMessage.kind == kind)))


def turn_on(event, *, rule="end+30m", noshow=True, survey=False, certificate=False, text="資料はこちらです。",
            url="https://example.org/slides.pdf"):
    followups.update(event, rule=rule, parts={"noshow": noshow, "survey": survey, "certificate": certificate},
                     noshow_text=text, materials_url=url, actor=None, now=NOW)
    db.session.commit()


@pytest.fixture
def seminar(make_event):
    """Session 1 (capacity 4): two came, two confirmed no-shows; one waiting, one cancelled."""
    event = make_event(sessions=SESSIONS)
    people = [factories.register_person(event) for _ in range(4)]
    waiting = factories.register_person(event)
    cancelled = factories.register_person(event, 1)
    signup.cancel(cancelled, now=NOW)
    for registration in people[:2]:
        checkin.check_in(registration, session_id=None, desk="受付1", now=END - timedelta(hours=2))
    db.session.commit()
    return event, people, waiting, cancelled


@pytest.mark.parametrize(("text", "hours"), [
    ("end+30m", 0.5), ("end+2h", 2), ("end+1h30m", 1.5), ("30m after the end", 0.5), ("終了30分後", 0.5),
    ("終了後2時間", 2), ("終了の1時間30分後", 1.5), ("ｅｎｄ＋４５ｍ", 0.75)])
def test_the_rule_is_read_by_the_one_parser(text, hours):
    rule = parse(text, after_end=True)
    assert (rule.kind, rule.hours) == ("after_end", hours)
    assert parse(rule.text(), after_end=True) == rule


@pytest.mark.parametrize("text", ["end+30m", "終了30分後"])
def test_other_rules_never_read_an_after_the_end_text(text):
    with pytest.raises(DomainError):  # a deadline or a reminder is never after the end
        parse(text)


@pytest.mark.parametrize("text", ["", "1d@10:00", "2h", "end+", "end+999h", "2030-03-10T16:00+09:00", "終了"])
def test_a_loop_rule_must_be_a_time_after_the_end(text):
    with pytest.raises(DomainError) as refused:
        followups.check_rule(text)
    assert refused.value.code == "followup_rule"


def test_no_part_on_no_task_and_the_default_is_the_end_plus_30_minutes(make_event):
    event = make_event(sessions=SESSIONS)
    assert loop_tasks() == []  # every part off: the events before this issue never mail anyone
    turn_on(event, rule="end+30m")
    assert event.followup_rule is None  # the default is stored as "none given"
    assert [t.due_at for t in loop_tasks()] == [END + timedelta(minutes=30), END + timedelta(days=7, minutes=30)]
    turn_on(event, noshow=False)
    assert loop_tasks() == []  # all off again: the pending tasks are gone


def test_the_rule_moves_with_the_session(make_event):
    event = make_event(sessions=SESSIONS)
    turn_on(event, rule="終了2時間後")
    session = event.sessions[0]
    sessions.update_session(session, {"date": "2030-03-11", "doors": "09:30", "start": "10:00", "end": "12:00",
                                      "capacity": 4}, actor=None, now=NOW)
    db.session.commit()
    assert loop_tasks()[0].due_at == datetime(2030, 3, 11, 14, 0, tzinfo=JST)
    assert schedule.due_at(TaskKind.followup, event, session) == datetime(2030, 3, 11, 14, 0, tzinfo=JST)


def test_the_tick_sends_the_noshow_note_to_confirmed_noshows_once(seminar):
    event, people, waiting, cancelled = seminar
    turn_on(event)
    task = loop_tasks()[0]
    assert periodic.do_task(task.id, task.due_at - timedelta(seconds=1)) is None  # not yet
    assert periodic.do_task(task.id, task.due_at) == periodic.DONE
    db.session.commit()
    assert rows(MailKind.followup_noshow) == Counter({people[2].id: 1, people[3].id: 1})
    assert periodic.do_task(task.id, task.due_at + timedelta(minutes=1)) is None  # done once
    assert followups.queue(event, event.sessions[0], task.due_at) == {"noshow": 0}  # the keys hold
    assert rows(MailKind.followup_survey) == rows(MailKind.followup_certificate) == Counter()
    assert waiting.id not in rows(MailKind.followup_noshow) and cancelled.id not in rows(MailKind.followup_noshow)


def test_people_who_stopped_organizer_messages_get_no_noshow_note(seminar):
    event, people, _waiting, _cancelled = seminar
    opt_outs.stop(people[3], NOW)
    turn_on(event)
    followups.queue(event, event.sessions[0], NOW)
    assert rows(MailKind.followup_noshow) == Counter({people[2].id: 1})


def test_a_loop_found_two_days_late_is_missed(seminar):
    event, _people, _waiting, _cancelled = seminar
    turn_on(event)
    task = loop_tasks()[0]
    assert periodic.do_task(task.id, task.due_at + periodic.MISSED_AFTER + timedelta(minutes=1)) == periodic.MISSED
    assert rows(MailKind.followup_noshow) == Counter()


def test_resend_sends_one_more_to_that_person_only(seminar):
    event, people, waiting, _cancelled = seminar
    turn_on(event)
    followups.queue(event, event.sessions[0], NOW)
    followups.resend(people[2], "noshow", actor=None, now=NOW)
    followups.resend(people[2], "noshow", actor=None, now=NOW)
    db.session.commit()
    assert rows(MailKind.followup_noshow) == Counter({people[2].id: 3, people[3].id: 1})
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.registration_id == people[2].id)
                             .order_by(AuditEntry.id.desc()).limit(1)) == "followup_noshow_resent"
    for registration, part, code in [(people[0], "noshow", "followup_attended"), (waiting, "noshow", "followup_not_confirmed"),
                                     (people[2], "certificate", "followup_not_attended"), (people[2], "what", "followup_part")]:
        with pytest.raises(DomainError) as refused:
            followups.resend(registration, part, actor=None, now=NOW)
        assert refused.value.code == code


def test_the_overview_counts_each_part(seminar):
    event, _people, _waiting, _cancelled = seminar
    turn_on(event)
    followups.queue(event, event.sessions[0], NOW)
    first = followups.overview(event)[0]
    noshow = next(p for p in first.parts if p.part == "noshow")
    assert (noshow.on, noshow.queued, noshow.sent, noshow.eligible) == (True, 2, 0, 2)
    came = next(p for p in first.parts if p.part == "survey")
    assert (came.on, came.eligible) == (False, 2)
    assert first.state == "pending" and first.due_at == END + timedelta(minutes=30)


@pytest.mark.parametrize(("url", "ok"), [("", True), ("https://example.org/a.pdf", True),
                                         ("javascript:alert(1)", False), ("https://a b", False),
                                         ("ftp://x", False), ("https://" + "a" * 600, False)])
def test_the_materials_link_is_one_web_address(url, ok):
    if ok:
        assert followups.check_url(url) == url
    else:
        with pytest.raises(DomainError):
            followups.check_url(url)


def test_a_copy_keeps_the_loop_but_not_the_materials_link(make_event):
    from eventreg.domain.backoffice import clone

    event = make_event(sessions=SESSIONS[:1])
    turn_on(event, rule="end+2h", survey=True, text="次回もどうぞ。")
    copy = clone.clone_event(event, "2030-04-10", actor=None, now=NOW)
    db.session.commit()
    assert (copy.followup_rule, copy.followup_noshow, copy.followup_survey, copy.noshow_text, copy.materials_url) == (
        "end+2h", True, True, "次回もどうぞ。", "")
    task = next(t for t in loop_tasks() if t.session_id == copy.sessions[0].id)
    assert task.due_at == datetime(2030, 4, 10, 18, 0, tzinfo=JST)


def test_sending_what_is_missing_never_sends_twice_and_never_before_the_end(seminar):
    event, people, _waiting, _cancelled = seminar
    turn_on(event)
    task = loop_tasks()[0]
    periodic.do_task(task.id, task.due_at)
    with pytest.raises(DomainError) as refused:
        followups.send_missing(event, event.sessions[0], actor=None, now=END - timedelta(minutes=1))
    assert refused.value.code == "followup_too_early"
    late = factories.register_person(event, 1)  # another session: not this one's
    assert followups.send_missing(event, event.sessions[0], actor=None, now=task.due_at) == 0
    db.session.commit()
    assert rows(MailKind.followup_noshow) == Counter({people[2].id: 1, people[3].id: 1})
    assert late.id not in rows(MailKind.followup_noshow)
