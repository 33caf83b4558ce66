"""The Reminders tab: rules with each session's send time and state, adding (with refusals in
words, never a 500), removing, the preview; and the reminder email as it arrives over SMTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventreg.domain.registration import signup
from eventreg.extensions import db
from eventreg.models import AuditEntry, Event, ScheduledTask, TaskKind
from eventreg.worker import deliver_due, tick

from .. import factories
from .conftest import csrf_token


def page(event):
    return f"/admin/events/{event.id}/reminders"


def reminder_tasks(event_id):
    db.session.expire_all()
    return db.session.scalars(select(ScheduledTask).where(
        ScheduledTask.event_id == event_id, ScheduledTask.kind == TaskKind.reminder)).all()


@pytest.fixture
def seminar(make_event):
    event = make_event(capacity=1, access_notes="2階正面玄関裏手のセミナー受付", venue_name="セミナールーム A",
                       venue_address="東京都港区港南2-16-3")
    factories.register_person(event, family_name="渡邊", family_kana="ワタナベ", email="watanabe@example.org")
    factories.register_person(event, email="waiting@example.org")  # the waiting list: no reminder
    return event


def test_the_page_shows_the_default_rule_and_its_send_time_in_the_event_zone(client, login, seminar):
    login(factories.make_staff("viewer", [seminar]))
    body = client.get(page(seminar)).get_data(as_text=True)
    assert "リマインダー" in body and "前日10:00" in body and "1d@10:00" in body
    day_before = seminar.sessions[0].starts_at.astimezone(factories.JST) - timedelta(days=1)
    assert f"{day_before.month}月{day_before.day}日" in body and "10:00(日本時間)" in body
    assert "送信予定" in body
    assert "reminder_add" not in body and "リマインダーを追加する" not in body  # a viewer reads only


def test_an_editor_adds_a_rule_and_removes_it(client, login, seminar):
    login(factories.make_staff("editor", [seminar]))
    response = client.post(page(seminar), data={"csrf_token": csrf_token(client, page(seminar)), "kind": "hours",
                                                "hours": "2", "days": "", "at": ""})
    assert response.status_code == 303
    event = db.session.get(Event, seminar.id)
    assert [r.rule for r in event.reminders] == ["1d@10:00", "2h"]
    assert len(reminder_tasks(event.id)) == 2
    body = client.get(page(seminar)).get_data(as_text=True)
    assert "開始2時間前" in body and "リマインダー(開始2時間前)を追加しました。" in body

    rule_id = event.reminders[1].id
    response = client.post(f"{page(seminar)}/{rule_id}/delete", data={"csrf_token": csrf_token(client, page(seminar))})
    assert response.status_code == 303
    assert [t.ref_id for t in reminder_tasks(event.id)] == [event.reminders[0].id]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.event_id == event.id)).all()
    assert {"reminder_added", "reminder_removed"} <= set(actions)
    # Removing it again (a second tab): no rule of this event has that id any more, as a wrong URL.
    again = client.post(f"{page(seminar)}/{rule_id}/delete", data={"csrf_token": csrf_token(client, page(seminar))})
    assert again.status_code == 404
    assert [r.rule for r in db.session.get(Event, seminar.id).reminders] == ["1d@10:00"]


@pytest.mark.parametrize(("fields", "words"), [
    ({"kind": "days", "days": "abc", "at": "10:00"}, "何日前かを 0〜60 の整数で入力してください。"),
    ({"kind": "days", "days": "1", "at": "25:00"}, "時刻を「10:00」のように 時:分 で入力してください。"),
    ({"kind": "hours", "hours": "99999999999999999999"}, "開始の何時間前かを 1〜72 の整数で入力してください。"),
    ({"kind": "nonsense"}, "「○日前の決まった時刻」か「開始の○時間前」を選んでください。"),
    ({"kind": "days", "days": "1", "at": "10:00"}, "このリマインダーはすでに設定されています。"),  # the default
    ({}, "「○日前の決まった時刻」か「開始の○時間前」を選んでください。"),
])
def test_bad_input_is_refused_in_words(client, login, seminar, fields, words):
    login(factories.make_staff("editor", [seminar]))
    response = client.post(page(seminar), data={"csrf_token": csrf_token(client, page(seminar)), **fields})
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert len(reminder_tasks(seminar.id)) == 1


def test_the_preview_shows_one_real_registration_without_its_secret(client, login, seminar):
    login(factories.make_staff("viewer", [seminar]))
    person = signup.find_active(seminar.sessions[0].id, "watanabe@example.org")
    body = client.get(f"{page(seminar)}/preview").get_data(as_text=True)
    assert "渡邊" in body and "セミナールーム A" in body and "2階正面玄関裏手のセミナー受付" in body
    assert "キャンセル待ちの方にお席をお譲りいただけるよう" in body and "添付: 入場証(pass.pdf)" in body
    assert person.token not in body and "/r/••••••/cancel" in body
    assert client.get(f"{page(seminar)}/preview?registration=999999").status_code == 404


def test_the_reminder_arrives_with_venue_access_notes_cancel_link_and_pass(app, client, login, seminar, smtp_server):
    person = signup.find_active(seminar.sessions[0].id, "watanabe@example.org")
    seminar.sessions[0].capacity = 3  # a seat for an English speaker (nobody promoted: waiting stays waiting)
    db.session.commit()
    english = factories.register_person(seminar, email="en@example.org", family_name="Smith", given_name="Ann")
    english.language = "en"
    token, english_token = person.token, english.token
    db.session.commit()
    [task] = reminder_tasks(seminar.id)
    now = task.due_at + timedelta(seconds=20)
    db.session.commit()  # end the read: the worker writes
    assert tick(app, now=now)["done"] == 1
    while deliver_due(app, worker_id="test", now=now):
        pass

    [mail] = [m for m in smtp_server.to("watanabe@example.org") if "開催のご案内" in m["Subject"]]
    text = mail.get_body(("plain",)).get_content()
    for expected in ("セミナールーム A", "東京都港区港南2-16-3", "2階正面玄関裏手のセミナー受付", "13:30開場",
                     f"/r/{token}/cancel", "キャンセル待ちの方にお席をお譲りいただけるよう", "入場証(pass.pdf)"):
        assert expected in text, expected
    assert "入場証" in mail["Subject"] or seminar.title in mail["Subject"]
    assert [part.get_filename() for part in mail.iter_attachments()] == ["pass.pdf"]
    html = mail.get_body(("html",)).get_content()
    assert f"/r/{token}/cancel" in html and "2階正面玄関裏手のセミナー受付" in html
    lines = [line.strip() for line in text.splitlines()]  # each sentence on one line of its own
    assert "ご参加が難しくなった場合は、キャンセル待ちの方にお席をお譲りいただけるよう、キャンセルのお手続きをお願いいたします。" in lines
    assert "添付の入場証(pass.pdf)を印刷してお持ちいただくか、スマートフォンなどで受付にご提示ください。" in lines
    assert not [line for line in lines if re.search(r"[、,]$", line)]

    [en] = [m for m in smtp_server.to("en@example.org") if m["Subject"].startswith("Reminder:")]
    en_text = en.get_body(("plain",)).get_content()
    assert "Can't come? Please cancel so that someone on the waiting list gets your seat." in en_text
    assert f"/r/{english_token}/cancel" in en_text and "Finding the reception desk" in en_text
    assert not smtp_server.to("waiting@example.org") or all(
        "開催のご案内" not in m["Subject"] for m in smtp_server.to("waiting@example.org"))

    db.session.commit()  # a new transaction sees the worker's writes
    login(factories.make_staff("viewer", [seminar]))
    body = client.get(page(seminar)).get_data(as_text=True)
    assert "送信済み" in body and "2名" in body


@pytest.fixture
def dev_clock(app):
    from eventreg import clock

    def at(moment):
        clock.set_setting(moment.isoformat())
        return moment

    yield at
    clock.set_setting("")


def test_a_reminder_more_than_48_hours_late_shows_missed_and_sends_nothing(app, client, login, make_event, dev_clock,
                                                                           smtp_server):
    """The worker was down for two days: with the development clock past due + 48 h, the tick
    (at the clock's time, as the worker runs it) marks the reminder missed, and the page says so."""
    event = make_event(reminders=["3d@10:00"])
    factories.register_person(event, email="late@example.org")
    [task] = reminder_tasks(event.id)
    dev_clock(task.due_at + timedelta(hours=48, minutes=1))
    db.session.commit()
    assert tick(app) == {"missed": 1}
    while deliver_due(app, worker_id="test"):
        pass
    assert [m["Subject"] for m in smtp_server.to("late@example.org") if "開催のご案内" in m["Subject"]] == []
    db.session.commit()
    login(factories.make_staff("viewer", [event]))
    body = client.get(page(event)).get_data(as_text=True)
    assert "未送信(見送り)" in body and "48時間以上遅れたか" in body
