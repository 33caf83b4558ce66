"""Three workers tick at the same moment: one building-security list, one difference per change.

Each worker is a thread calling the real ``eventreg.worker.tick`` with its own app context (its
own session and connection), at the time of the development clock, as the worker loop does.
Then the guards are taken away one at a time to show which one keeps it once on each database:

- the task's conditional UPDATE (``periodic._mark_done``) replaced by a read-check-write;
- the unique ``(session_id, seq)`` of ``security_list_send`` really dropped (PostgreSQL; SQLite
  cannot drop a constraint), with a slow worker between reading the last list and writing the
  next one: it is the guard of differences (and of a "send now" racing the tick), which no task
  marks;
- SQLite's write intent (``BEGIN IMMEDIATE``), which serialises whole ticks there.
"""

from __future__ import annotations

import contextlib
import io
import threading
import time
from collections import Counter
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select, text, update

from eventreg import clock, worker
from eventreg.domain.communication import building_list, building_list_sheet
from eventreg.domain.registration import signup
from eventreg.domain.timing import periodic, schedule
from eventreg.extensions import db
from eventreg.models import Event, MailKind, OutboxMessage, Registration, ScheduledTask, SecurityListSend, TaskKind
from eventreg.worker import deliver_due, tick

from .. import factories
from .test_periodic_once import tick_together

VENUE = "security@venue.example"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def make_event(make_event):
    """Events without reminder rules: these tests are about the building-security list (reminders are
    tests/domain/test_reminders.py and tests/races/test_reminders_once.py)."""
    return lambda **overrides: make_event(**{"reminders": [], **overrides})


@pytest.fixture
def dev_clock(app):
    """The development clock, put back to real time after the test."""
    def at(moment):
        clock.set_setting(moment.isoformat())
        return moment

    yield at
    clock.set_setting("")


@pytest.fixture
def dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


@pytest.fixture
def seminar(make_event):
    """A session with five confirmed people and the venue's contact; returns (event id, session
    id, registration ids, the list's due time)."""
    event = make_event(capacity=10)
    event.security_email = VENUE
    schedule.reschedule(event)
    db.session.commit()
    people = [factories.register_person(event, family_name=family, given_name="太郎", family_kana=kana,
                                        given_kana="タロウ").id
              for family, kana in (("渡邊", "ワタナベ"), ("青木", "アオキ"), ("佐藤", "サトウ"),
                                   ("中村", "ナカムラ"), ("石井", "イシイ"))]
    session_id = event.sessions[0].id
    due = db.session.scalar(select(ScheduledTask.due_at).where(
        ScheduledTask.session_id == session_id, ScheduledTask.kind == TaskKind.security_list))
    event_id = event.id
    db.session.commit()  # end the read: the workers need the (SQLite) write lock
    return event_id, session_id, people, due


def sends(session_id: int) -> list[SecurityListSend]:
    db.session.rollback()  # a fresh snapshot: the workers committed in their own sessions
    return db.session.scalars(select(SecurityListSend).where(SecurityListSend.session_id == session_id)
                              .order_by(SecurityListSend.id)).all()


def list_mails() -> list[OutboxMessage]:
    db.session.rollback()  # a fresh snapshot: the workers committed in their own sessions
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(
        [MailKind.security_list, MailKind.security_list_diff])).order_by(OutboxMessage.id)).all()


def deliver(app) -> None:
    while deliver_due(app, worker_id="test-worker"):
        pass


def venue_mail(smtp_server):
    return [m for m in smtp_server.to(VENUE)]


def attachment_rows(message) -> list[list[str]]:
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(part.get_payload(decode=True)), read_only=True).active
    return [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]


def test_three_workers_send_the_list_once_at_the_day_before_noon(app, seminar, dev_clock, smtp_server):
    event_id, session_id, people, due = seminar
    dev_clock(due - timedelta(seconds=1))
    assert sum(tick(app)["done"] for _ in range(2)) == 0  # not before its time
    assert sends(session_id) == []

    dev_clock(due + timedelta(seconds=7))
    results = tick_together(app)
    assert sum(r["done"] for r in results) == 2  # the list and the deadline summary, once each
    assert not any(r["error"] for r in results)
    [sent] = sends(session_id)
    assert (sent.seq, sent.kind, sent.count) == (1, "full", 5)
    assert len(list_mails()) == 1

    deliver(app)
    [message] = venue_mail(smtp_server)
    assert "入館者リスト" in message["Subject"] and "5名" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "5名" in body and "office@example.org" in body
    assert message["Reply-To"].addresses[0].addr_spec == "office@example.org"
    starts = db.session.get(Event, event_id).sessions[0].starts_at.astimezone(factories.JST)
    named = f"{starts.month}月{starts.day}日({'月火水木金土日'[starts.weekday()]}) {starts:%H:%M}"  # its session name
    assert attachment_rows(message) == [
        ["氏名", "フリガナ", "会社名・団体名", "部署・役職", "参加する回"],
        *[[f"{family} 太郎", f"{kana} タロウ", "育て上げネット", "", named]
          for family, kana in (("青木", "アオキ"), ("石井", "イシイ"), ("佐藤", "サトウ"),
                               ("中村", "ナカムラ"), ("渡邊", "ワタナベ"))],
    ]
    db.session.rollback()  # a fresh snapshot: the workers committed in their own sessions
    assert db.session.get(SecurityListSend, sent.id).file_id is not None  # the file kept as sent

    # A restart, or the next ticks: nothing more.
    for _ in range(2):
        assert tick(app) == Counter()
    deliver(app)
    assert len(venue_mail(smtp_server)) == 1


def test_three_workers_send_one_difference_per_change(app, seminar, dev_clock, smtp_server):
    event_id, session_id, people, due = seminar
    dev_clock(due + timedelta(seconds=1))
    tick(app)
    reg = db.session.get(Registration, people[0])
    signup.cancel(reg, now=due + timedelta(minutes=5))
    db.session.commit()

    dev_clock(due + timedelta(minutes=5, seconds=30))
    results = tick_together(app)
    assert sum(r["difference"] for r in results) == 1, results
    assert [(s.seq, s.kind) for s in sends(session_id)] == [(1, "full"), (2, "diff")]
    assert sends(session_id)[1].removed == [str(people[0])]

    dev_clock(due + timedelta(minutes=6))
    assert tick_together(app) and len(sends(session_id)) == 2  # nothing changed since: nothing sent
    deliver(app)
    first, diff = venue_mail(smtp_server)
    assert "変更" in diff["Subject"] and "取消1名" in diff["Subject"]
    body = diff.get_body(("plain",)).get_content()
    assert "渡邊 太郎(ワタナベ タロウ)" in body and "4名" in body
    assert [row[0] for row in attachment_rows(diff)][1:] == ["青木 太郎", "石井 太郎", "佐藤 太郎", "中村 太郎"]


def naive_mark_done(task_id, now, outcome):
    """Reads done_at, checks it in Python, then writes unconditionally."""
    done_at = db.session.scalar(select(ScheduledTask.done_at).where(ScheduledTask.id == task_id))
    if done_at is not None:
        return False
    time.sleep(0.2)  # widen the window between the check and the write
    db.session.execute(update(ScheduledTask).where(ScheduledTask.id == task_id).values(done_at=now, outcome=outcome))
    return True


@pytest.fixture
def effects(monkeypatch):
    """How many workers ran the list's effect (send_full), counted before the database sees it."""
    calls: Counter = Counter()
    lock = threading.Lock()
    real = building_list.send_full

    def counting(session, **kwargs):
        with lock:
            calls[session.id] += 1
        return real(session, **kwargs)

    monkeypatch.setattr(building_list, "send_full", counting)
    return calls


@pytest.fixture
def without_unique_seq(app, dialect):
    """Drops the unique (session_id, seq) for one test (PostgreSQL), and puts it back."""
    # Not a gap: scripts/test runs this file on both databases; on SQLite the guard that acts is
    # the write intent, shown by test_sqlite_without_the_write_intent_fails_loudly_never_twice.
    if dialect != "postgresql":
        pytest.skip("SQLite cannot drop a constraint; there the write lock serialises the ticks")
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE security_list_send DROP CONSTRAINT uq_security_list_send_session_seq"))
    yield
    db.session.rollback()  # the test's own session must not hold a lock the ALTER waits for
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(text("DELETE FROM outbox_message"))
            conn.execute(text("DELETE FROM security_list_send"))
            conn.execute(text("ALTER TABLE security_list_send ADD CONSTRAINT uq_security_list_send_session_seq "
                              "UNIQUE (session_id, seq)"))


def slow_reads(monkeypatch, seconds=0.2):
    """A slow worker: time passes between reading who is on the list and writing the send."""
    real = building_list_sheet.current_people

    def slow(*args, **kwargs):
        people = real(*args, **kwargs)
        time.sleep(seconds)
        return people

    monkeypatch.setattr(building_list, "current_people", slow)


def test_without_the_conditional_update_the_venue_gets_the_list_several_times(
        app, seminar, dev_clock, effects, monkeypatch, dialect):
    monkeypatch.setattr(periodic, "_mark_done", naive_mark_done)
    event_id, session_id, people, due = seminar
    dev_clock(due + timedelta(seconds=1))
    tick_together(app)
    if dialect == "postgresql":
        # Every worker read "not done" before any wrote, and each ran the effect. The unique seq
        # does not save it: each effect ran after the previous one committed, so each found the
        # last list and wrote the next seq. The conditional UPDATE is the guard of the task.
        assert max(effects.values()) > 1, effects
        assert len(sends(session_id)) > 1 and len(list_mails()) > 1
    else:
        # SQLite: each task's transaction begins with BEGIN IMMEDIATE, so the ticks are
        # serialised and even the naive check sees the first worker's commit.
        assert set(effects.values()) == {1}, effects
        assert len(sends(session_id)) == 1 and len(list_mails()) == 1


def test_without_the_unique_seq_racing_workers_send_the_difference_several_times(
        app, seminar, dev_clock, monkeypatch, without_unique_seq):
    event_id, session_id, people, due = seminar
    dev_clock(due + timedelta(seconds=1))
    tick(app)
    signup.cancel(db.session.get(Registration, people[0]), now=due + timedelta(minutes=1))
    db.session.commit()
    slow_reads(monkeypatch)
    dev_clock(due + timedelta(minutes=2))
    tick_together(app)
    assert [s.kind for s in sends(session_id)].count("diff") > 1  # the broken version: duplicates


def test_with_the_unique_seq_slow_racing_workers_send_the_difference_once(
        app, seminar, dev_clock, monkeypatch, dialect):
    event_id, session_id, people, due = seminar
    dev_clock(due + timedelta(seconds=1))
    tick(app)
    signup.cancel(db.session.get(Registration, people[0]), now=due + timedelta(minutes=1))
    db.session.commit()
    slow_reads(monkeypatch)
    dev_clock(due + timedelta(minutes=2))
    results = tick_together(app)
    assert [s.kind for s in sends(session_id)] == ["full", "diff"]
    assert sum(r["difference"] for r in results) == 1 and len(list_mails()) == 2
    assert not any(r["error"] for r in results)  # a lost race is no error: nothing to send


def test_sqlite_without_the_write_intent_fails_loudly_never_twice(app, seminar, dev_clock, effects, monkeypatch,
                                                                dialect):
    # The PostgreSQL run shows its own guards instead (the conditional UPDATE, the unique seq).
    if dialect != "sqlite":
        pytest.skip("PostgreSQL ignores the write intent")
    monkeypatch.setattr(worker, "writing", contextlib.nullcontext)  # the tick's BEGIN IMMEDIATE, gone
    monkeypatch.setattr(periodic, "_mark_done", naive_mark_done)
    event_id, session_id, people, due = seminar
    dev_clock(due + timedelta(seconds=1))
    results = tick_together(app)
    # A worker whose read is older than another's commit cannot become a writer: "database is
    # locked" (an error, logged; the task stays as the winner left it), never a second list.
    assert sum(r["error"] for r in results) >= 1, results
    assert len(sends(session_id)) <= 1 and len(list_mails()) <= 1
