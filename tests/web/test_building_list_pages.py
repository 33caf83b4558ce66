"""The building-security list pages: settings, per-session status, preview, send now, files."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg import clock
from eventreg.domain.communication import building_list
from eventreg.extensions import db
from eventreg.models import AuditEntry, Event, ScheduledTask, SecurityFormat, TaskKind
from eventreg.worker import deliver_due, tick

from .. import factories
from .conftest import csrf_token

VENUE = "security@venue.example"


@pytest.fixture
def dev_clock(app):
    def at(moment):
        clock.set_setting(moment.isoformat())
        return moment

    yield at
    clock.set_setting("")


@pytest.fixture
def seminar(make_event):
    event = make_event(capacity=10)
    for family, kana in (("渡邊", "ワタナベ"), ("青木", "アオキ")):
        factories.register_person(event, family_name=family, family_kana=kana)
    return event


def page(event):
    return f"/admin/events/{event.id}/security"


def save(client, event, **fields):
    data = {"csrf_token": csrf_token(client, page(event)), "email": VENUE, "format": "xlsx",
            "rule_kind": "deadline", "rule": ""}
    for i, c in enumerate(("name", "kana", "organization", "department", "session"), 1):
        data[f"col_{c}"], data[f"order_{c}"] = "1", str(i)
    data.update(fields)
    return client.post(page(event), data={k: v for k, v in data.items() if v is not None})


def test_settings_are_saved_scheduled_and_audited(app, client, login, seminar):
    login(factories.make_staff("organizer", [seminar]))
    response = save(client, seminar, email=" Security@Venue.Example ", format="csv_cp932", rule_kind="rule",
                    rule="2d@17:00", col_department=None, col_phone="1", order_phone="0")
    assert response.status_code == 303
    db.session.expire_all()
    event = db.session.get(Event, seminar.id)
    assert event.security_email == VENUE  # normalised
    assert event.security_columns == ["phone", "name", "kana", "organization", "session"]  # by the numbers
    assert (event.security_format, event.security_send_rule) == (SecurityFormat.csv_cp932, "2d@17:00")
    task = db.session.scalar(select(ScheduledTask).where(ScheduledTask.kind == TaskKind.security_list))
    local = task.due_at.astimezone(factories.JST)
    assert (local.date(), local.hour) == (event.sessions[0].starts_at.astimezone(factories.JST).date()
                                          - timedelta(days=2), 17)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "security_list_settings"))
    assert entry.changes["security_email"] == ["", VENUE]
    body = client.get(page(event)).get_data(as_text=True)
    assert "送信予定" in body or "Send time" in body
    assert re.search(r"\d+月\d+日\(.\) 17:00", body)  # the resolved time, in the event's zone


@pytest.mark.parametrize(("fields", "where"), [
    ({"email": "not an address"}, "email"),
    ({"email": "山田@example.jp"}, "email"),
    ({"rule_kind": "rule", "rule": "tomorrow"}, "rule"),
    ({"format": "pdf"}, "format"),
    ({f"col_{c}": None for c in ("name", "kana", "organization", "department", "session")}, "columns"),
])
def test_bad_settings_are_refused_with_a_message_and_nothing_changes(app, client, login, seminar, fields, where):
    login(factories.make_staff("organizer", [seminar]))
    response = save(client, seminar, **fields)
    assert response.status_code == 422
    assert f'href="#{where}-field"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Event, seminar.id).security_email == ""
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_clearing_the_contact_unschedules_the_list(app, client, login, seminar):
    login(factories.make_staff("organizer", [seminar]))
    save(client, seminar)
    save(client, seminar, email="")
    assert db.session.scalar(select(func.count()).select_from(ScheduledTask)
                             .where(ScheduledTask.kind == TaskKind.security_list)) == 0


def test_preview_shows_the_rows_as_they_would_go(app, client, login, seminar):
    login(factories.make_staff("organizer", [seminar]))
    save(client, seminar)
    body = client.get(f"{page(seminar)}/{seminar.sessions[0].id}/preview").get_data(as_text=True)
    assert body.index("青木 花子") < body.index("渡邊 花子")  # furigana order
    assert "会社名・団体名" in body and "2" in body


def test_send_now_needs_the_confirmation_then_queues_a_whole_list(app, client, login, seminar):
    login(factories.make_staff("organizer", [seminar]))
    save(client, seminar)
    url = f"{page(seminar)}/{seminar.sessions[0].id}/send"
    token = csrf_token(client, page(seminar))
    assert client.post(url, data={"csrf_token": token}).status_code == 303
    assert building_list.last_sent(seminar.sessions[0].id) is None  # not confirmed: nothing sent
    response = client.post(url, data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 303
    sent = building_list.last_sent(seminar.sessions[0].id)
    assert (sent.seq, sent.kind, sent.trigger, sent.count) == (1, "full", "manual", 2)


def test_the_status_line_shows_when_the_worker_delivered_it(app, client, login, seminar, dev_clock, smtp_server):
    organizer = factories.make_staff("organizer", [seminar])
    login(organizer)
    save(client, seminar)
    due = db.session.scalar(select(ScheduledTask.due_at).where(ScheduledTask.kind == TaskKind.security_list))
    db.session.commit()
    dev_clock(due + timedelta(seconds=7))
    login(organizer)  # days later by the clock: the first sign-in has expired
    tick(app)
    db.session.rollback()
    body = client.get(page(seminar)).get_data(as_text=True)
    assert "送信待ち" in body or "Queued" in body
    while deliver_due(app, worker_id="test"):
        pass
    db.session.rollback()  # a new transaction: see the worker's commits
    body = client.get(page(seminar)).get_data(as_text=True)
    local = due.astimezone(factories.JST)
    assert f"送信済み {local.month}月{local.day}日" in body
    assert f"12:00:07</strong> → {VENUE} — 2名" in body
    # The file as delivered can be downloaded, and it is the one the venue got.
    send = building_list.last_sent(seminar.sessions[0].id)
    response = client.get(f"{page(seminar)}/sends/{send.id}/file")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    [message] = smtp_server.to(VENUE)
    [part] = list(message.iter_attachments())
    assert part.get_payload(decode=True) == response.data


def test_a_cp932_list_opens_as_csv_with_the_right_rows(app, client, login, seminar, dev_clock, smtp_server):
    login(factories.make_staff("organizer", [seminar]))
    save(client, seminar, format="csv_cp932")
    send = building_list.send_full(db.session.get(Event, seminar.id).sessions[0], trigger="manual",
                                   now=clock.utcnow())
    db.session.commit()
    while deliver_due(app, worker_id="test"):
        pass
    [message] = smtp_server.to(VENUE)
    [part] = list(message.iter_attachments())
    assert part.get_filename().endswith(".csv") and part.get_content_charset() == "shift_jis"
    rows = list(csv.reader(io.StringIO(part.get_payload(decode=True).decode("cp932"))))
    assert rows[0] == ["氏名", "フリガナ", "会社名・団体名", "部署・役職", "参加する回"]
    assert [r[0] for r in rows[1:]] == ["青木 花子", "渡邊 花子"]
    assert send.count == 2


def test_a_name_cp932_cannot_carry_goes_as_utf8_and_the_email_says_so(app, client, login, seminar, smtp_server):
    factories.register_person(seminar, family_name="𠮷田", family_kana="ヨシダ")
    login(factories.make_staff("organizer", [seminar]))
    save(client, seminar, format="csv_cp932")
    body = client.get(f"{page(seminar)}/{seminar.sessions[0].id}/preview").get_data(as_text=True)
    assert "𠮷" in body and ("Shift_JIS" in body)
    building_list.send_full(db.session.get(Event, seminar.id).sessions[0], trigger="manual", now=clock.utcnow())
    db.session.commit()
    while deliver_due(app, worker_id="test"):
        pass
    [message] = smtp_server.to(VENUE)
    [part] = list(message.iter_attachments())
    data = part.get_payload(decode=True)
    assert data.startswith(b"\xef\xbb\xbf") and "𠮷田 花子".encode() in data  # nothing replaced
    assert "𠮷" in message.get_body(("plain",)).get_content() and "UTF-8" in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(("role", "settings", "preview"), [
    ("owner", 200, 200), ("editor", 200, 200), ("viewer", 403, 403), ("reception", 403, 403),
])
def test_who_may_see_what(app, client, login, seminar, role, settings, preview):
    login(factories.make_staff(role, [seminar]))
    assert client.get(page(seminar)).status_code == settings
    assert client.get(f"{page(seminar)}/{seminar.sessions[0].id}/preview").status_code == preview


def test_another_events_session_or_send_is_a_404(app, client, login, seminar, make_event):
    other = make_event()
    login(factories.make_staff("organizer", [seminar]))
    assert client.get(f"{page(seminar)}/{other.sessions[0].id}/preview").status_code == 404
    other.security_email = VENUE
    send = building_list.send_full(other.sessions[0], trigger="manual", now=clock.utcnow())
    db.session.commit()
    assert client.get(f"{page(seminar)}/sends/{send.id}/file").status_code == 404
    assert client.get(f"{page(seminar)}/sends/999999/file").status_code == 404
