"""Email through the outbox to a real SMTP server: content, attachments, outages, retries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from eventreg import clock
from eventreg.domain import outbox
from eventreg.domain.registration import register, cancel
from eventreg.extensions import db
from eventreg.models import OutboxMessage, OutboxStatus
from eventreg.worker import deliver_due

from ..factories import applicant
from ..smtp import SMTPRecorder

MAIL_DOMAIN = "eventreg.localhost"  # of MAIL_DEFAULT_SENDER


def sign_up(event, **fields):
    outcome = register(event.sessions[0], applicant(**fields), now=clock.utcnow())
    db.session.commit()
    return outcome


def deliver(app, now=None, worker="test-worker"):
    db.session.commit()  # never hold a transaction (on SQLite: the write lock) while the worker runs
    return deliver_due(app, worker_id=worker, now=now)


def outbox_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    files = {a.get_filename(): a for a in message.iter_attachments()}
    return text, html, files


def test_confirmation_in_japanese_with_pass_and_calendar(app, make_event, smtp_server):
    event = make_event(title="若者支援セミナー")
    registration = sign_up(event, email="hanako@example.org").registration
    left = outbox_rows()[0].message_id

    assert deliver(app) == 1

    [message] = smtp_server.received
    assert message["Message-ID"] == f"<{left}@{MAIL_DOMAIN}>"
    assert message["Subject"] == "【参加登録完了】若者支援セミナー"
    assert [a.addr_spec for a in message["To"].addresses] == ["hanako@example.org"]
    assert message["To"].addresses[0].display_name == "山田 花子"
    assert [(a.display_name, a.addr_spec) for a in message["Reply-To"].addresses] == [
        ("若者TECHプロジェクト", "office@example.org")]
    assert smtp_server.envelopes == [("no-reply@eventreg.localhost", ["hanako@example.org"])]
    text, html, files = parts(message)
    for body in (text, html):
        assert "山田 花子 様" in body
        assert "若者支援セミナー" in body
        assert "セミナールーム" in body and "東京都港区港南2-16-3" in body
        assert "2階正面玄関裏手の受付" in body
        assert f"http://testserver/r/{registration.token}" in body
        assert f"http://testserver/r/{registration.token}/cancel" in body
        assert "若者TECHプロジェクト" in body and "office@example.org" in body
        assert "開場)" in body  # the `when` filter: 「…年…月…日(…) 14:00–17:00(13:30開場)」
    assert "参加登録を承りました" in text
    assert set(files) == {"pass.pdf", "calendar.ics"}
    assert files["pass.pdf"].get_content_type() == "application/pdf"
    assert files["pass.pdf"].get_content().startswith(b"%PDF")
    assert files["calendar.ics"].get_content_type() == "text/calendar"
    ics = files["calendar.ics"].get_content()
    ics = ics if isinstance(ics, str) else ics.decode()
    assert "BEGIN:VEVENT" in ics and "若者支援セミナー" in ics

    [row] = outbox_rows()
    assert row.status == OutboxStatus.sent and row.attempts == 1 and row.sent_at is not None
    assert deliver(app) == 0  # nothing is sent twice


def test_english_event_gets_english_mail(app, make_event, smtp_server):
    event = make_event(title="Networking Night", language="en")
    sign_up(event, family_name="Smith", given_name="Alex")
    deliver(app)
    [message] = smtp_server.received
    assert message["Subject"] == "Registration confirmed: Networking Night"
    text, html, files = parts(message)
    assert "Dear Smith Alex," in text and "Your place is confirmed" in text
    assert "doors open" in text
    assert "様" not in text and "様" not in html
    assert set(files) == {"pass.pdf", "calendar.ics"}


def test_names_are_escaped_in_html(app, make_event, smtp_server):
    event = make_event()
    sign_up(event, family_name="<script>alert(1)</script>", given_name="&amp;")
    deliver(app)
    text, html, _ = parts(smtp_server.received[0])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; 様" in html
    assert "<script>alert(1)</script> &amp; 様" in text  # plain text is not HTML


def test_waitlist_promotion_and_cancellation(app, make_event, smtp_server):
    event = make_event(capacity=1)
    first = sign_up(event, email="first@example.org")
    second = sign_up(event, email="second@example.org")
    assert (first.result, second.result) == ("confirmed", "waitlisted")
    assert deliver(app) == 2

    [waiting] = smtp_server.to("second@example.org")
    assert waiting["Subject"].startswith("【キャンセル待ち受付】")
    text, html, files = parts(waiting)
    assert "キャンセル待ち" in text and second.registration.token in text
    assert files == {}  # no pass while waiting

    cancel(db.session.get(type(first.registration), first.registration.id), now=clock.utcnow())
    db.session.commit()
    assert deliver(app) == 2

    cancelled = smtp_server.to("first@example.org")[-1]
    assert cancelled["Subject"].startswith("【キャンセル受付】")
    assert "キャンセルを承りました" in parts(cancelled)[0]
    assert set(parts(cancelled)[2]) == {"calendar.ics"}  # METHOD:CANCEL (tests/adapters/test_ics.py)
    assert "METHOD:CANCEL" in parts(cancelled)[2]["calendar.ics"].get_content()

    promoted = smtp_server.to("second@example.org")[-1]
    assert promoted["Subject"].startswith("【参加確定のお知らせ】")
    text, html, files = parts(promoted)
    assert "ご参加が確定いたしました" in text
    assert set(files) == {"pass.pdf", "calendar.ics"}
    assert len(set(smtp_server.message_ids())) == 4


def test_second_sign_up_resends_the_link(app, make_event, smtp_server):
    event = make_event()
    first = sign_up(event, email="twice@example.org")
    assert sign_up(event, email="twice@example.org").result == "duplicate"
    assert deliver(app) == 2
    resent = smtp_server.received[-1]
    assert resent["Subject"].startswith("【お申し込み内容のご案内】")
    text, _, files = parts(resent)
    assert "すでにご登録いただいております" in text and "参加確定" in text
    assert first.registration.token in text
    assert set(files) == {"pass.pdf", "calendar.ics"}  # the pass again, for a confirmed registration


def test_second_sign_up_while_waiting_resends_no_pass(app, make_event, smtp_server):
    event = make_event(capacity=1)
    sign_up(event)
    assert sign_up(event, email="waiting@example.org").result == "waitlisted"
    assert sign_up(event, email="waiting@example.org").result == "duplicate"
    assert deliver(app) == 3
    resent = smtp_server.to("waiting@example.org")[-1]
    assert resent["Subject"].startswith("【お申し込み内容のご案内】")
    assert parts(resent)[2] == {}  # the row asks for a pass; a waiting registration has none


def test_smtp_down_keeps_the_message_and_backs_off(app, make_event, smtp_server):
    smtp_server.stop()  # connection refused from now on
    event = make_event()
    outcome = sign_up(event)
    assert outcome.result == "confirmed"  # signing up does not depend on mail
    now = clock.utcnow()

    assert deliver(app, now=now) == 0
    [row] = outbox_rows()
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert row.next_attempt_at == now + outbox.backoff(1) > now
    assert row.claimed_until is None and row.last_error
    left = row.message_id

    smtp_server.start()
    assert deliver(app, now=now + timedelta(seconds=5)) == 0  # still backing off
    assert deliver(app, now=now + timedelta(seconds=11)) == 1
    assert deliver(app, now=now + timedelta(hours=1)) == 0
    assert smtp_server.message_ids() == [f"<{left}@{MAIL_DOMAIN}>"]
    [row] = outbox_rows()
    assert row.status == OutboxStatus.sent and row.attempts == 2


def test_retry_after_temporary_rejection_keeps_the_message_id(app, make_event, smtp_server):
    event = make_event()
    for _ in range(3):
        sign_up(event)
    now = clock.utcnow()
    smtp_server.reject = "451 4.3.0 Try again later"
    assert deliver(app, now=now) == 0
    first_attempt = sorted(m["Message-ID"] for m in smtp_server.rejected)
    assert len(first_attempt) == 3

    smtp_server.reject = None
    assert deliver(app, now=now + timedelta(minutes=5)) == 3
    assert deliver(app, now=now + timedelta(minutes=10)) == 0
    assert sorted(smtp_server.message_ids()) == first_attempt  # each once, same Message-ID
    assert all(row.status == OutboxStatus.sent for row in outbox_rows())


def test_gives_up_after_max_attempts(app, make_event):
    # No SMTP server: the test config points at port 1, where nothing listens.
    app.config["OUTBOX_MAX_ATTEMPTS"], saved = 3, app.config["OUTBOX_MAX_ATTEMPTS"]
    try:
        event = make_event()
        sign_up(event)
        now = clock.utcnow()
        for attempt in range(1, 4):
            assert deliver(app, now=now) == 0
            [row] = outbox_rows()
            assert row.attempts == attempt
            now += timedelta(hours=2)
        assert row.status == OutboxStatus.failed and "Connection" in row.last_error
        assert deliver(app, now=now + timedelta(days=1)) == 0
        assert outbox_rows()[0].attempts == 3
    finally:
        app.config["OUTBOX_MAX_ATTEMPTS"] = saved


def test_server_can_restart_on_the_same_port():
    server = SMTPRecorder().start()
    port = server.port
    server.stop()
    server.start()
    assert server.port == port
    server.stop()


def test_worker_logs_never_show_the_pass_token(app, make_event, smtp_server, caplog):
    caplog.set_level("DEBUG", logger="eventreg")
    event = make_event()
    token = sign_up(event).registration.token
    smtp_server.stop()
    deliver(app)  # fails: logged as a warning
    smtp_server.start()
    deliver(app, now=clock.utcnow() + timedelta(minutes=1))
    assert "sent" in caplog.text and "not delivered" in caplog.text
    assert token not in caplog.text


def test_run_once_delivers_everything_due(app, make_event, smtp_server):
    from eventreg.worker import run

    event = make_event()
    for _ in range(25):  # more than one batch
        sign_up(event)
    db.session.commit()
    run(app, once=True)
    assert len(set(smtp_server.message_ids())) == 25
    assert all(row.status == OutboxStatus.sent for row in outbox_rows())


def test_a_silent_server_times_out(app, make_event, monkeypatch):
    """A server that accepts the connection but never greets must not hang the worker."""
    import socket

    from eventreg.adapters import mail

    monkeypatch.setattr(mail, "SMTP_TIMEOUT", 0.5)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setitem(app.config, "MAIL_PORT", silent.getsockname()[1])
        event = make_event()
        sign_up(event)
        assert deliver(app) == 0
    [row] = outbox_rows()
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert "timed out" in row.last_error
