"""Messages to attendees: placeholders (and only placeholders), recipients by the list's filter,
an idempotent queue, scheduling and the tick's sweep."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from eventreg.domain.backoffice.roster import ListFilter
from eventreg.domain.communication import attendee_messages
from eventreg.domain.errors import DomainError
from eventreg.domain.timing import periodic
from eventreg.extensions import db
from eventreg.models import AttendeeMessage, AuditEntry, MailKind, MessageStatus, OutboxMessage, Status

from .. import factories
from .test_roster import add, two_session_event

NOW = datetime.now(timezone.utc)
VALUES = {"name": "山田 花子", "furigana": "ヤマダ ハナコ", "event": "セミナー", "session": "第1回",
          "date": "2月8日", "venue": "会場", "pass_link": "https://x/r/t", "cancel_link": "https://x/r/t/cancel"}


@pytest.mark.parametrize("text, expected", [
    ("{name} 様", "山田 花子 様"),
    ("{氏名}様({フリガナ})", "山田 花子様(ヤマダ ハナコ)"),
    ("{ name }", "山田 花子"),
    ("{event}{session}{date}{venue}", "セミナー第1回2月8日会場"),
    ("入場証: {pass_link}\nキャンセル: {キャンセルURL}", "入場証: https://x/r/t\nキャンセル: https://x/r/t/cancel"),
    ("no placeholders", "no placeholders"),
])
def test_placeholders_are_replaced(text, expected):
    assert attendee_messages.problems(text) == []
    assert attendee_messages.fill(text, VALUES) == expected


@pytest.mark.parametrize("text", [
    "{{ 7*7 }}", "{{ config }}", "{% for x in range(3) %}{{ x }}{% endfor %}", "{# note #}",
    "{{ ''.__class__.__mro__ }}", "{{name}}",
])
def test_template_code_is_sent_as_written(text):
    assert attendee_messages.problems(text) == []
    assert attendee_messages.fill(text, VALUES) == text  # never evaluated, never a placeholder


def test_a_value_with_braces_is_not_read_again():
    assert attendee_messages.fill("{name}", {**VALUES, "name": "{cancel_link} {{ 7*7 }}"}) == "{cancel_link} {{ 7*7 }}"


@pytest.mark.parametrize("text, code, token, line", [
    ("{会社名} 御中", "unknown_placeholder", "{会社名}", 1),
    ("こんにちは\n{nmae} 様", "unknown_placeholder", "{nmae}", 2),
    ("{name 様", "unbalanced_brace", "{", 1),
    ("name} 様", "unbalanced_brace", "}", 1),
    ("{{ name }", "unbalanced_brace", "{", 1),
    ("{}", "unknown_placeholder", "{}", 1),
])
def test_unknown_placeholders_and_lone_braces_are_found(text, code, token, line):
    found = attendee_messages.problems(text)
    assert attendee_messages.Problem(code, token, line) in found


def test_check_refuses_what_cannot_be_sent():
    with pytest.raises(attendee_messages.MessageProblems) as refused:
        attendee_messages.check("{会社名}のご案内", "")
    assert set(refused.value.problems) == {"subject", "body"}
    assert refused.value.problems["body"][0].code == "required"
    assert attendee_messages.check("  件名 \n 二行 ", "\r\n本文\r\n") == ("件名 二行", "本文")
    with pytest.raises(attendee_messages.MessageProblems):
        attendee_messages.check("x" * 201, "本文")


def test_recipients_follow_the_list_filter(ctx):
    event = two_session_event()
    first = add(event, 0)
    arrived = add(event, 0, checked_in_at=NOW)
    second = add(event, 1)
    waiting = add(event, 0, status=Status.waitlisted)
    cancelled = add(event, 0, status=Status.cancelled)
    no_email = add(event, 0, email=None, walk_in=True)

    def ids(**kw):
        return attendee_messages.recipient_ids(event, ListFilter(**kw), now=NOW)

    assert ids() == sorted([first.id, arrived.id, second.id, waiting.id])  # not cancelled, not without email
    assert ids(status="not_arrived") == sorted([first.id, second.id])
    assert ids(status="not_arrived", session_id=event.sessions[0].id) == [first.id]
    assert ids(status="waitlisted") == [waiting.id]
    assert ids(status="cancelled") == [cancelled.id]
    assert no_email.id not in ids(walk_in=True)
    assert attendee_messages.recipient_count(event, ListFilter(status="not_arrived"), now=NOW) == 2
    sample = attendee_messages.sample_recipient(event, ListFilter(status="not_arrived"), now=NOW, registration_id=second.id)
    assert sample.id == second.id
    # A chosen registration that is not a recipient: the first recipient instead.
    assert attendee_messages.sample_recipient(event, ListFilter(status="not_arrived"), now=NOW,
                                     registration_id=arrived.id).id in (first.id, second.id)


def draft(event, flt=None, subject="{name}様へのお知らせ", body="{name} 様\n明日お待ちしています。"):
    message = attendee_messages.save_draft(event, subject=subject, body=body, flt=flt or ListFilter(), actor=None, now=NOW)
    db.session.commit()
    return message


def outbox_rows(message_id):
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.attendee_message_id == message_id)
                              .order_by(OutboxMessage.registration_id)).all()


def test_queue_makes_one_row_per_recipient_once(ctx):
    event = factories.make_event()
    people = [add(event) for _ in range(5)]
    add(event, status=Status.cancelled)
    message = draft(event)
    assert attendee_messages.queue(message.id, NOW) == 5
    db.session.commit()
    assert attendee_messages.queue(message.id, NOW) is None  # a second click
    db.session.commit()
    rows = outbox_rows(message.id)
    assert [r.registration_id for r in rows] == [p.id for p in people]
    assert {r.kind for r in rows} == {MailKind.message}
    assert {r.idempotency_key for r in rows} == {f"message:{message.id}:{p.id}" for p in people}
    db.session.refresh(message)
    assert (message.status, message.recipient_count, message.queued_at) == (MessageStatus.queued, 5, NOW)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.event_id == event.id)).all()
    assert actions.count("message_queued") == 1


def test_the_idempotency_key_holds_even_if_the_status_guard_were_passed(ctx):
    event = factories.make_event()
    for _ in range(3):
        add(event)
    message = draft(event)
    assert attendee_messages.queue(message.id, NOW) == 3
    db.session.execute(AttendeeMessage.__table__.update().values(status="draft"))  # as if the guard failed
    assert attendee_messages.queue(message.id, NOW) == 0  # ON CONFLICT DO NOTHING: no second row
    db.session.commit()
    assert len(outbox_rows(message.id)) == 3


def test_schedule_and_the_sweep(ctx):
    event = factories.make_event()
    add(event)
    message = draft(event)
    with pytest.raises(DomainError, match="send_at_past"):
        attendee_messages.schedule(message, NOW - timedelta(seconds=1), actor=None, now=NOW)
    attendee_messages.schedule(message, NOW + timedelta(hours=1), actor=None, now=NOW)
    db.session.commit()
    assert message.status == MessageStatus.scheduled
    with pytest.raises(DomainError, match="message_not_draft"):
        attendee_messages.save_draft(event, subject="x", body="y", flt=ListFilter(), actor=None, now=NOW, message=message)
    [sweep] = [s for s in periodic.SWEEPS if s.name == "message_queued"]
    assert sweep.find(NOW + timedelta(minutes=59)) == []
    later = NOW + timedelta(hours=1)
    assert sweep.find(later) == [message.id]
    assert sweep.do(message.id, later) is True
    assert sweep.do(message.id, later) is False  # a second worker
    db.session.commit()
    assert sweep.find(later) == []
    assert len(outbox_rows(message.id)) == 1


def test_a_cancelled_schedule_is_never_sent(ctx):
    event = factories.make_event()
    add(event)
    message = draft(event)
    attendee_messages.schedule(message, NOW + timedelta(hours=1), actor=None, now=NOW)
    attendee_messages.cancel(message, actor=None, now=NOW)
    db.session.commit()
    assert message.status == MessageStatus.cancelled
    assert attendee_messages.due_messages(NOW + timedelta(days=1)) == []
    assert attendee_messages.queue(message.id, NOW) is None
    with pytest.raises(DomainError, match="message_not_cancellable"):
        attendee_messages.cancel(message, actor=None, now=NOW)


def test_delivery_counts(ctx):
    event = factories.make_event()
    for _ in range(3):
        add(event)
    message = draft(event)
    attendee_messages.queue(message.id, NOW)
    db.session.commit()
    assert attendee_messages.delivery_counts([message.id]) == {message.id: {"pending": 3, "sent": 0, "failed": 0}}
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 3
