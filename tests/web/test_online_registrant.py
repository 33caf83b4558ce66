"""An online registrant gets a join link, not an entry pass (domain.backoffice.hybrid_rules.entry_pass).

What each person receives, through the worker at a real SMTP server and on their own pages: an
online registrant's confirmation, promotion, move and date-change mails carry no pass.pdf, no
reception-desk words and no venue, and say how and when to join; their registration page shows no
QR pass; their .ics names no venue. An on-site registrant keeps all of it. A staff move between on
site and online sends the version of the new session.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
from icalendar import Calendar

from eventreg.adapters import ics
from eventreg.domain.backoffice import hybrid, hybrid_rules, registration_edits, sessions
from eventreg.domain.communication import outbox
from eventreg.domain.registration import passes, signup
from eventreg.extensions import db
from eventreg.models import Registration, Status
from eventreg.web.links import registration_links
from eventreg.worker import deliver_due

from .. import factories
from ..domain.test_join_links import MEETING, hybrid_event, session_values

VENUE, ADDRESS, ACCESS = "セミナールーム", "東京都港区港南2-16-3", "2階正面玄関裏手の受付"
DESK_WORDS = ("当日の受付", "受付にご提示", "pass.pdf", "入場証を添付", "At the reception desk",
              "reception desk", "Your entry pass")


def now() -> datetime:
    return datetime.now(timezone.utc)


def sign_up(session, **overrides) -> Registration:
    outcome = signup.register(session, factories.applicant(**overrides), now=now())
    db.session.commit()
    return outcome.registration


def deliver(app) -> None:
    while deliver_due(app, worker_id="test", batch=20):
        pass
    db.session.rollback()  # the worker's last (empty) claim read: a write after it starts afresh


def text(message: EmailMessage) -> str:
    """The mail's plain and HTML parts (not its attachments)."""
    return "".join(part.get_content() for part in message.walk()
                   if part.get_content_type() in ("text/plain", "text/html") and not part.get_filename())


def files(message: EmailMessage) -> dict[str, str]:
    return {part.get_filename(): part.get_content_type() for part in message.iter_attachments()}


def mail_to(smtp_server, person: Registration, subject_word: str = "") -> EmailMessage:
    found = [m for m in smtp_server.to(person.email) if subject_word in m["Subject"]]
    assert len(found) == 1, [m["Subject"] for m in smtp_server.to(person.email)]
    return found[0]


def calendar_location(message: EmailMessage) -> str:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    [entry] = Calendar.from_ical(part.get_content()).walk("VEVENT")
    return str(entry.get("LOCATION", ""))


@pytest.fixture
def hybrid_date(make_event):
    event = hybrid_event(make_event, onsite=30, online=1)
    onsite = event.sessions[0]
    return event, onsite, hybrid.twin_of(onsite)


def assert_online_mail(message: EmailMessage, person: Registration) -> str:
    body = text(message)
    assert "pass.pdf" not in files(message), files(message)
    assert set(files(message).values()) <= {"text/calendar"}
    for words in DESK_WORDS + (VENUE, ADDRESS, ACCESS):
        assert words not in body, words
    assert f"/j/{person.id}." in body  # the personal join link …
    assert MEETING not in message.as_string()  # … never the meeting itself
    return body


@pytest.mark.parametrize("language", ["ja", "en"])
def test_an_online_confirmation_has_no_pass_and_says_how_to_join(app, smtp_server, hybrid_date, language):
    event, onsite, online = hybrid_date
    there = sign_up(onsite, email="there@example.org", language=language)
    away = sign_up(online, email="away@example.org", language=language)
    deliver(app)

    away_mail = mail_to(smtp_server, away)
    body = assert_online_mail(away_mail, away)
    if language == "ja":
        assert "オンライン参加について" in body and "から終了まで使えます" in body
        assert "会場へお越しいただく必要はありません" in body
    else:
        assert "Joining online" in body and "until the end" in body and "no need to come to the venue" in body
    assert "calendar.ics" in files(away_mail)
    assert VENUE not in calendar_location(away_mail) and f"/j/{away.id}." in calendar_location(away_mail)

    there_mail = mail_to(smtp_server, there)
    assert files(there_mail)["pass.pdf"] == "application/pdf"
    there_body = text(there_mail)
    assert ("当日の受付について" if language == "ja" else "At the reception desk") in there_body
    assert VENUE in there_body and ADDRESS in there_body and "/j/" not in there_body
    assert VENUE in calendar_location(there_mail)


def test_the_registration_page_shows_the_join_section_not_a_pass(client, hybrid_date):
    event, onsite, online = hybrid_date
    there, away = sign_up(onsite), sign_up(online)

    page = client.get(f"/r/{away.token}").get_data(as_text=True)
    assert 'id="join-heading"' in page and f"/j/{away.id}." in page
    assert "入場証はなく、会場へお越しいただく必要もありません" in page
    assert 'id="pass-heading"' not in page and "<svg" not in page and "/pass.pdf" not in page
    assert VENUE not in page and ADDRESS not in page and ACCESS not in page
    assert f"/r/{away.token}/calendar.ics" in page  # the calendar stays
    assert client.get(f"/r/{away.token}/pass.pdf").status_code == 404

    page = client.get(f"/r/{there.token}").get_data(as_text=True)
    assert 'id="pass-heading"' in page and "<svg" in page and VENUE in page and 'id="join-heading"' not in page
    assert client.get(f"/r/{there.token}/pass.pdf").status_code == 200


def test_the_calendar_file_of_an_online_session_names_no_venue(app, client, hybrid_date):
    event, onsite, online = hybrid_date
    away = sign_up(online)
    body = client.get(f"/r/{away.token}/calendar.ics").get_data(as_text=True).replace("\r\n ", "")
    [entry] = Calendar.from_ical(body).walk("VEVENT")
    assert f"/j/{away.id}." in str(entry["LOCATION"])
    assert VENUE not in body and ADDRESS not in body and ACCESS not in body and MEETING not in body
    # Without a join link in the values, the place is the word, never the venue.
    ctx = passes.pass_context(away, {**registration_links(away), "join": ""})
    assert ics.entry_text(ctx)["location"] == "オンライン"
    assert ics.entry_text({**ctx, "language": "en"})["location"] == "Online"


def test_a_promoted_online_person_gets_the_join_link_not_a_pass(app, smtp_server, hybrid_date):
    event, onsite, online = hybrid_date  # one online seat
    first, second = sign_up(online), sign_up(online)
    assert second.status == Status.waitlisted
    signup.cancel(first, now=now())
    db.session.commit()
    deliver(app)
    body = assert_online_mail(mail_to(smtp_server, second, "参加確定"), second)
    assert "オンライン参加について" in body
    waiting = text(mail_to(smtp_server, second, "キャンセル待ち"))
    assert "参加用リンクを添えて" in waiting and VENUE not in waiting


@pytest.mark.parametrize("direction", ["to_online", "to_onsite"])
def test_a_move_between_modes_sends_the_new_sessions_version(app, smtp_server, hybrid_date, direction):
    event, onsite, online = hybrid_date
    person = sign_up(onsite if direction == "to_online" else online)
    deliver(app)  # the confirmation of where they were
    target = online if direction == "to_online" else onsite  # the one online seat is free for them
    registration_edits.move(db.session.get(Registration, person.id), target, actor=None, now=now())
    db.session.commit()
    deliver(app)
    moved = mail_to(smtp_server, person, "変更")
    if direction == "to_online":
        body = assert_online_mail(moved, person)
        assert "オンライン参加に変更しました" in body and "以前の入場証(QRコード)は使えなくなりました" in body
    else:
        body = text(moved)
        assert files(moved)["pass.pdf"] == "application/pdf"
        assert "会場参加に変更しました" in body and "以前の参加用リンクは使えなくなりました" in body
        assert "/j/" not in body and "受付にご提示ください" in body and "登録内容・入場証" in body


def test_a_pass_queued_before_a_move_online_is_not_sent(app, smtp_server, hybrid_date):
    """Attachments are decided again at delivery: a confirmation queued on site, delivered after
    the person was moved online, carries no pass (and says how to join)."""
    event, onsite, online = hybrid_date
    person = sign_up(onsite)
    registration_edits.move(db.session.get(Registration, person.id), online, actor=None, now=now())
    db.session.commit()
    deliver(app)
    for message in smtp_server.to(person.email):
        assert_online_mail(message, person)
    assert len(smtp_server.to(person.email)) == 2  # the confirmation and the move


def test_a_changed_date_tells_online_people_the_new_join_window_without_a_pass(app, smtp_server, hybrid_date):
    event, onsite, online = hybrid_date
    away = sign_up(online)
    deliver(app)
    later = {"start": (online.starts_at + timedelta(hours=1)).astimezone(factories.JST).strftime("%H:%M"),
             "end": (online.ends_at + timedelta(hours=1)).astimezone(factories.JST).strftime("%H:%M"),
             "doors": (online.doors_at + timedelta(hours=1)).astimezone(factories.JST).strftime("%H:%M")}
    sessions.update_session(online, session_values(online, **later), actor=None, now=now())
    db.session.commit()
    deliver(app)
    body = assert_online_mail(mail_to(smtp_server, away, "変更"), away)
    assert "新しい日時のカレンダー用ファイル" in body and "入場証と" not in body


def test_the_rule_and_the_outbox_agree(hybrid_date):
    event, onsite, online = hybrid_date
    there, away = sign_up(onsite), sign_up(online)
    assert hybrid_rules.entry_pass(there) and not hybrid_rules.entry_pass(away)
    queued = [outbox.PASS_PDF, outbox.ICS_REQUEST]
    assert outbox.deliverable_attachments(queued, "confirmed", entry_pass=False) == [outbox.ICS_REQUEST]
    assert outbox.deliverable_attachments(queued, "confirmed", entry_pass=True) == queued
    assert outbox.deliverable_attachments(queued, "cancelled", entry_pass=True) == []
