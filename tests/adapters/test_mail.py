"""Email through the outbox to a real SMTP server: content, attachments, outages, retries."""

from __future__ import annotations

import email as _email
import email.message
import email.policy
from datetime import timedelta
from email.header import decode_header, make_header
from email.utils import formataddr, getaddresses

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from eventreg import clock
from eventreg.adapters import mail
from eventreg.domain.communication import outbox
from eventreg.domain.registration.signup import cancel, register
from eventreg.extensions import db
from eventreg.models import MailKind, OutboxMessage, OutboxStatus, StoredFile
from eventreg.worker import deliver_due

from ..factories import applicant
from ..smtp import SMTPRecorder
from .line_breaks import broken_lines

MAIL_DOMAIN = "eventreg.localhost"  # of MAIL_DEFAULT_SENDER


JAPANESE_UI = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")


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


def test_english_sign_up_gets_english_mail(app, make_event, smtp_server):
    """The language the person signed up in wins over the event's (docs/english-and-names.md)."""
    event = make_event(title="Networking Night", language="ja")
    sign_up(event, family_name="Smith", given_name="Alex", family_kana="", given_kana="", language="en")
    deliver(app)
    [message] = smtp_server.received
    assert message["Subject"] == "Registration confirmed: Networking Night"
    text, html, files = parts(message)
    assert "Dear Alex Smith," in text and "Your place is confirmed" in text
    assert "doors open" in text and "JST" in text  # the date in English
    assert "様" not in text and "様" not in html
    assert '<h1 lang="ja"' in html and 'lang="en"' in html  # the organizer's text keeps its own lang
    assert broken_lines(text) == []
    assert set(files) == {"pass.pdf", "calendar.ics"}


def test_japanese_sign_up_to_an_english_event_gets_japanese_mail(app, make_event, smtp_server):
    event = make_event(title="Networking Night", language="en")
    sign_up(event, language="ja")
    deliver(app)
    [message] = smtp_server.received
    assert message["Subject"] == "【参加登録完了】Networking Night"
    text, _html, _files = parts(message)
    assert text.startswith("山田 花子 様") and "入場証" in text and "参加証" not in text
    assert broken_lines(text) == []


def test_later_emails_stay_in_the_sign_up_language(app, make_event, smtp_server):
    """Waitlisted, promoted and cancelled: all English for an English sign-up to a Japanese event."""
    event = make_event(capacity=1, title="地域セミナー")
    first = sign_up(event, language="ja")
    second = sign_up(event, family_name="Schmidt", given_name="Anna", family_kana="", given_kana="",
                     language="en")
    cancel(first.registration, now=clock.utcnow())
    db.session.commit()
    cancel(second.registration, now=clock.utcnow())
    db.session.commit()
    while deliver(app):
        pass
    subjects = [str(m["Subject"]) for m in smtp_server.received if "Anna Schmidt" in str(m["To"])]
    assert sorted(subjects) == sorted(["You are on the waiting list: 地域セミナー", "A seat is now yours: 地域セミナー",
                                       "Registration cancelled: 地域セミナー"]), subjects
    for message in smtp_server.received:
        if "Anna Schmidt" not in str(message["To"]):
            continue
        text, html, _files = parts(message)
        assert text.startswith("Dear Anna Schmidt,")
        assert not JAPANESE_UI.search(text.replace("地域セミナー", "").replace(event.venue_name, "")
                                      .replace(event.venue_address, "").replace(event.access_notes, "")
                                      .replace(event.organizer, ""))
        assert broken_lines(text) == []


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


# --- Headers from address objects: hostile display names ------------------------------------

WJ = mail.WORD_JOINER
LONG_JA = "髙橋𠮷野" * 11 + "長い名前の例"  # 50 characters, the longest name field
HOSTILE = [
    # (family name, given name, the display name the recipient must read)
    ("Eve <eve@evil.example>,", "x", "Eve <eve@evil.example>, x"),
    ('"Mallory" <m@evil.example>', 'a"b', '"Mallory" <m@evil.example> a"b'),
    ("back\\slash\\", '\\"', 'back\\slash\\ \\"'),
    ("line\r\nBcc: eve@evil.example", "x\nTo: y@evil.example", "line Bcc: eve@evil.example x To: y@evil.example"),
    ("=?utf-8?q?Eve_=3Ceve=40evil=2Eexample=3E=2C?=", "花子",
     f"={WJ}?utf-8?q?Eve_=3Ceve=40evil=2Eexample=3E=2C?= 花子"),
    ("山田", "=?utf-8?b?PGV2ZUBldmlsLmV4YW1wbGU+LA==?=", f"山田 ={WJ}?utf-8?b?PGV2ZUBldmlsLmV4YW1wbGU+LA=={WJ}?="),
    ("山田 <eve@evil.example>,", "花子 (comment) ;:", "山田 <eve@evil.example>, 花子 (comment) ;:"),
    (LONG_JA, LONG_JA, f"{LONG_JA} {LONG_JA}"),
]


def _raw_header(raw: bytes, name: str) -> str:
    return _email.message_from_bytes(raw, policy=email.policy.compat32)[name]


def _one_mailbox(raw: bytes, name: str) -> tuple[str, str]:
    """The header's single (display name, address), read by two independent parsers."""
    modern = _email.message_from_bytes(raw, policy=email.policy.default)[name]
    assert len(modern.addresses) == 1, modern.addresses
    pairs = getaddresses([_raw_header(raw, name)])
    assert len(pairs) == 1, pairs
    (encoded, address), = pairs
    assert address == modern.addresses[0].addr_spec
    # RFC 2047 decoding (CPython's modern parser puts a space between adjacent encoded words).
    return str(make_header(decode_header(encoded))), address


@pytest.mark.parametrize("family, given_name, shown", HOSTILE)
def test_hostile_names_stay_one_recipient(app, make_event, smtp_server, family, given_name, shown):
    event = make_event()
    # Written past the editor's checks (which refuse control characters): the mail must hold anyway.
    event.contact_name = f"{family} 事務局"
    db.session.commit()
    sign_up(event, family_name=family, given_name=given_name, email="victim@example.org")
    assert deliver(app) == 1
    [raw] = smtp_server.raw
    assert _one_mailbox(raw, "To") == (shown, "victim@example.org")
    if shown.isascii():
        # A client that decodes RFC 2047 words before it splits the list (as Flask-Mail's encoded
        # name invited) still sees one recipient: an ASCII name travels as a quoted string.
        decoded_first = str(make_header(decode_header(_raw_header(raw, "To"))))
        assert [a for _, a in getaddresses([decoded_first])] == ["victim@example.org"]
    assert _one_mailbox(raw, "Reply-To") == (mail.display_name(f"{family} 事務局"), "office@example.org")
    assert _one_mailbox(raw, "From") == ("eventreg", "no-reply@eventreg.localhost")
    assert smtp_server.envelopes == [("no-reply@eventreg.localhost", ["victim@example.org"])]
    names = _email.message_from_bytes(raw, policy=email.policy.compat32).keys()
    assert names.count("To") == 1 and "Bcc" not in names and "Cc" not in names


# Names the event form accepts (200 characters) that need quoting or encoding and pass 78.
CONTACT_NAMES = [
    "Wakamono TECH Project Office (inside Sodateage Net, certified NPO), contact: Kenji Yamamoto; weekdays 10-17",
    "若者TECHプロジェクト事務局(認定NPO法人育て上げネット内)担当:山本賢司, 平日10-17時; 電話042-527-6051",
    'Office "A" \\ B, (c); ' + "x" * 150,
    "Kenji Yamamoto " * 13,
]


@pytest.mark.parametrize("contact", CONTACT_NAMES)
def test_a_long_contact_name_that_needs_quoting_arrives_intact(app, make_event, smtp_server, contact):
    """Every mail of the event names the contact: the attendee's Reply-To, the contact's own To."""
    event = make_event()
    event.contact_name = contact
    db.session.commit()
    sign_up(event, email="person@example.org")
    outbox.enqueue_deadline_summary(event.sessions[0], clock.utcnow(), confirmed=1, waitlisted=0)
    assert deliver(app) == 2
    to_attendee, to_contact = sorted(smtp_server.raw, key=lambda raw: b"person@example.org" not in raw)
    assert _one_mailbox(to_attendee, "Reply-To") == (mail.display_name(contact), "office@example.org")
    assert _one_mailbox(to_contact, "To") == (mail.display_name(contact), "office@example.org")
    for raw in smtp_server.raw:
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200))
def test_any_display_name_makes_one_address(name):
    message = email.message.EmailMessage(policy=mail.POLICY)
    message["To"] = mail.mailbox(name, "victim@example.org")
    raw = message.as_bytes()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    shown, address = _one_mailbox(raw, "To")
    assert address == "victim@example.org"
    # Where CPython folds a long name between two encoded words, RFC 2047 decoding drops that
    # one space; every other character comes back.
    assert shown.split() == mail.display_name(name).split() or "".join(shown.split()) == "".join(
        mail.display_name(name).split())


def test_flask_mail_would_have_shown_two_recipients():
    """Why Flask-Mail's sanitize_address is not used: the name decodes to address syntax."""
    from flask_mail import sanitize_address

    header = sanitize_address(("Eve <eve@evil.example>,", "victim@example.org"))
    assert header.startswith("=?utf-8?")  # an encoded word...
    assert str(make_header(decode_header(header))) == "Eve <eve@evil.example>, <victim@example.org>"  # ...shown so
    mangled = sanitize_address(formataddr(("山田 花子", "v@example.org")))
    assert "山田 花子" not in str(make_header(decode_header(mangled)))  # a formatted string is encoded twice


# --- Logs: no address, token or link --------------------------------------------------------

def test_refused_recipient_is_not_logged(app, make_event, smtp_server, caplog):
    caplog.set_level("DEBUG", logger="eventreg")
    smtp_server.refuse = {"refused.person@example.org"}
    event = make_event()
    token = sign_up(event, email="refused.person@example.org").registration.token
    assert deliver(app) == 0
    [row] = outbox_rows()
    assert row.status == OutboxStatus.failed and row.attempts == 1  # a 550 is not retried
    assert "refused.person@example.org" in row.last_error  # kept for the organizer, not for the log
    assert f"outbox #{row.id} (confirmation, registration #{row.registration_id}, attempt 1)" in caplog.text
    assert "SMTPRecipientsRefused 550" in caplog.text
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("eventreg"))
    for secret in ("refused.person", token, "/r/"):
        assert secret not in ours
    assert smtp_server.received == []


def test_temporary_refusal_is_retried_and_not_logged(app, make_event, smtp_server, caplog):
    caplog.set_level("DEBUG", logger="eventreg")
    smtp_server.reject = "451 4.3.0 <greylisted.person@example.org> try again later"
    event = make_event()
    sign_up(event, email="greylisted.person@example.org")
    now = clock.utcnow()
    assert deliver(app, now=now) == 0
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("eventreg"))
    assert "SMTPDataError 451" in ours and "greylisted" not in ours
    [row] = outbox_rows()
    assert row.status == OutboxStatus.pending and row.attempts == 1
    smtp_server.reject = None
    assert deliver(app, now=now + timedelta(seconds=11)) == 1


# --- The general outbox ---------------------------------------------------------------------

def _security_list(event) -> StoredFile:
    data = "氏名,所属\n山田 花子,育て上げネット\n".encode("utf-8-sig")
    stored = StoredFile(event_id=event.id, filename="入館者リスト.csv", content_type="text/csv",
                        size=len(data), data=data, created_at=clock.utcnow())
    db.session.add(stored)
    db.session.commit()
    return stored


def test_deadline_summary_to_a_non_attendee_with_a_file(app, make_event, smtp_server):
    event = make_event(title="若者支援セミナー", contact_name="佐藤 事務局", contact_phone="03-1234-5678")
    for _ in range(2):
        sign_up(event)
    session = event.sessions[0]
    stored = _security_list(event)
    now = clock.utcnow()
    context = outbox.deadline_summary_context(session, confirmed=2, waitlisted=1, deadline_at=session.closes_at)
    key = f"deadline_summary:session:{session.id}"
    created = outbox.enqueue(None, MailKind.deadline_summary, now, to_address="security@venue.example",
                             to_name="警備室 御中", context=context, idempotency_key=key,
                             attachments=[{"kind": "file", "file_id": stored.id}])
    again = outbox.enqueue(None, MailKind.deadline_summary, now, to_address="security@venue.example",
                           context=context, idempotency_key=key)
    db.session.commit()
    assert (created, again) == (True, False)
    assert [r.idempotency_key for r in outbox_rows()].count(key) == 1

    assert deliver(app, now=now) == 3
    [summary] = smtp_server.to("security@venue.example")
    assert summary["Subject"] == "【申込締切のお知らせ】若者支援セミナー"
    assert summary["To"].addresses[0].display_name == "警備室 御中"
    assert summary["Reply-To"] is None
    text, html, files = parts(summary)
    for body in (text, html):
        assert "若者支援セミナー" in body and "締め切りました" in body
        assert "2名" in body and "定員 50名" in body and "1名" in body
        assert "開場)" in body and "締切" in body  # the `when` and `deadline` filters
        assert "佐藤 事務局" in body and "office@example.org" in body and "03-1234-5678" in body
    assert "警備室 御中 様" in text
    assert set(files) == {"入館者リスト.csv"}
    assert files["入館者リスト.csv"].get_content_type() == "text/csv"
    assert "山田 花子" in files["入館者リスト.csv"].get_content()


def test_deadline_summary_helper_queues_once_in_the_row_language(app, make_event, smtp_server):
    event = make_event(title="Networking Night")
    session = event.sessions[0]
    now = clock.utcnow()
    assert outbox.enqueue_deadline_summary(session, now, confirmed=7, waitlisted=0) is True
    assert outbox.enqueue_deadline_summary(session, now, confirmed=8, waitlisted=0) is False
    db.session.commit()
    [row] = outbox_rows()
    assert row.registration_id is None and row.to_address == "office@example.org" and row.attachments == []
    row.language = "en"
    db.session.commit()
    assert deliver(app) == 1
    [summary] = smtp_server.received
    assert summary["Subject"] == "Registration closed: Networking Night"
    assert "Confirmed: 7 (capacity 50)" in parts(summary)[0] and "doors open" in parts(summary)[0]


def test_not_before_holds_a_message_back(app, make_event, smtp_server):
    event = make_event()
    registration = sign_up(event).registration
    now = clock.utcnow()
    outbox.enqueue(registration.id, MailKind.pass_resent, now, not_before=now + timedelta(hours=1))
    db.session.commit()
    assert deliver(app, now=now) == 1  # the confirmation only
    assert deliver(app, now=now + timedelta(minutes=59)) == 0
    assert deliver(app, now=now + timedelta(hours=1)) == 1


def test_attachments_are_decided_when_queued(app, make_event, smtp_server):
    event = make_event(capacity=1)
    first = sign_up(event).registration
    sign_up(event)  # waitlisted
    cancel(db.session.get(type(first), first.id), now=clock.utcnow())
    db.session.commit()
    assert {r.kind: r.attachments for r in outbox_rows()} == {
        MailKind.confirmation: [{"kind": "pass_pdf"}, {"kind": "ics", "method": "REQUEST"}],
        MailKind.waitlisted: [],
        MailKind.cancelled: [{"kind": "ics", "method": "CANCEL"}],
        MailKind.promoted: [{"kind": "pass_pdf"}, {"kind": "ics", "method": "REQUEST"}],
    }
    with pytest.raises(ValueError):
        outbox.enqueue(None, MailKind.deadline_summary, clock.utcnow(), to_address="a@example.org",
                       attachments=[{"kind": "pass_pdf"}])
    with pytest.raises(ValueError):
        outbox.enqueue(first.id, MailKind.confirmation, clock.utcnow(), attachments=[{"kind": "exe"}])


def test_a_pass_cancelled_before_delivery_is_not_attached(app, make_event, smtp_server):
    event = make_event()
    registration = sign_up(event).registration
    cancel(registration, now=clock.utcnow())
    db.session.commit()
    assert deliver(app) == 2
    confirmation, cancelled = smtp_server.received
    assert parts(confirmation)[2] == {}  # the row asked for the pass; the seat is gone
    assert set(parts(cancelled)[2]) == {"calendar.ics"}


def test_sign_up_language_overrides_the_row_language(app, make_event, smtp_server):
    """Attendee mail goes out in the language the person signed up in, whatever the row says."""
    event = make_event(title="日本語のイベント")
    registration = sign_up(event).registration
    db.session.execute(OutboxMessage.__table__.delete())
    outbox.enqueue(registration.id, MailKind.confirmation, clock.utcnow(), language="en")
    db.session.commit()
    assert deliver(app) == 1
    assert smtp_server.received[0]["Subject"] == "【参加登録完了】日本語のイベント"


def test_a_slow_server_is_cut_off_at_the_deadline(app, make_event, monkeypatch):
    """Each reply comes within the per-read timeout, but the whole conversation may not outlast
    half the lease: a live worker must never lose the claim of a message it is still sending."""
    import socket
    import threading
    import time

    stop = threading.Event()

    def slow_server(listener):
        connection, _ = listener.accept()
        with connection:
            connection.sendall(b"220 slow.example ESMTP\r\n")
            reader = connection.makefile("rb")
            while not stop.is_set():
                line = reader.readline()
                if not line:
                    return
                time.sleep(0.4)  # under SMTP_TIMEOUT every time
                if line.upper().startswith(b"EHLO"):
                    connection.sendall(b"250 slow.example\r\n")
                else:
                    connection.sendall(b"250 OK\r\n")

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        thread = threading.Thread(target=slow_server, args=(listener,), daemon=True)
        thread.start()
        monkeypatch.setitem(app.config, "MAIL_PORT", listener.getsockname()[1])
        monkeypatch.setitem(app.config, "OUTBOX_LEASE_SECONDS", 2)  # the send gets 1 s
        event = make_event()
        outbox.enqueue_deadline_summary(event.sessions[0], clock.utcnow(), confirmed=1, waitlisted=0)
        db.session.commit()  # no PDF to render: the time measured is the SMTP conversation's
        started = time.monotonic()
        assert deliver(app) == 0
        elapsed = time.monotonic() - started
        stop.set()
    [row] = outbox_rows()
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert "timed out" in row.last_error
    assert elapsed < 2.5  # its 1 s and a reply in flight (without the deadline: sent after ~2.5 s)


def test_a_move_and_a_staff_resend_say_why_the_pass_comes_again(app, make_event, smtp_server):
    from eventreg.domain.backoffice import registration_edits

    from .. import factories

    event = make_event(sessions=[
        {"title": "第1回", "date": factories.in_days(10).date().isoformat(), "start": "14:00", "end": "17:00", "capacity": 5},
        {"title": "第2回", "date": factories.in_days(17).date().isoformat(), "start": "14:00", "end": "17:00", "capacity": 5},
    ])
    owner = factories.make_staff("owner", events=[event])
    person = sign_up(event, email="moved@example.org").registration
    registration_edits.move(person, event.sessions[1], actor=owner, now=clock.utcnow())
    registration_edits.resend_pass(person, actor=owner, now=clock.utcnow())
    db.session.commit()
    assert deliver(app) == 3
    _confirmation, moved, resent = smtp_server.received[-3:]
    moved_text, resent_text = parts(moved)[0], parts(resent)[0]
    assert moved["Subject"].startswith("【参加回変更のお知らせ】") and "第2回" in moved["Subject"]
    assert "下記の回に変更しました" in moved_text and "すでにご登録" not in moved_text
    assert "主催者より改めてお送りします" in resent_text and "すでにご登録" not in resent_text
