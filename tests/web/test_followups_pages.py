"""The 開催後 tab: the rule resolved per session, the parts on/off, refusals in words (never a 500),
previews without secrets, resend of one person's mail from the registration page, who may do it;
and the no-show note as it arrives over SMTP."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventreg.domain.communication import followups
from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.models import Event, MailKind, OutboxMessage, ScheduledTask, TaskKind
from eventreg.web.links import MASK
from eventreg.worker import deliver_due, tick

from .. import factories
from .conftest import csrf_token


def page(event):
    return f"/admin/events/{event.id}/followups"


@pytest.fixture
def seminar(make_event):
    """One came (渡邊), one did not (山田), one waiting."""
    event = make_event(capacity=2)
    came = factories.register_person(event, family_name="渡邊", family_kana="ワタナベ", email="watanabe@example.org")
    factories.register_person(event, family_name="山田", email="yamada@example.org")
    factories.register_person(event, email="waiting@example.org")
    checkin.check_in(came, session_id=None, desk="受付1", now=event.sessions[0].starts_at)
    db.session.commit()
    return event


def save(client, event, **values):
    data = {"csrf_token": csrf_token(client, page(event)), "rule": "end+30m", "noshow_text": "", "materials_url": ""}
    data.update(values)
    return client.post(page(event), data=data)


def test_an_editor_turns_the_noshow_note_on_and_sees_the_time_per_session(client, login, seminar):
    login(factories.make_staff("editor", [seminar]))
    response = save(client, seminar, rule="終了1時間後", noshow="y", noshow_text="次回は3月です。",
                    materials_url="https://example.org/slides.pdf")
    assert response.status_code == 303
    event = db.session.get(Event, seminar.id)
    db.session.refresh(event)
    assert (event.followup_rule, event.followup_noshow, event.followup_survey) == ("end+1h", True, False)
    body = client.get(page(seminar)).get_data(as_text=True)
    end = seminar.sessions[0].ends_at.astimezone(factories.JST) + timedelta(hours=1)
    assert "開催後" in body and "終了1時間後" in body and f"{end:%H:%M}" in body
    assert "0/1件 送信済み" in body  # one confirmed no-show, nothing sent yet


@pytest.mark.parametrize(("values", "field_words"), [
    ({"rule": "1d@10:00"}, "終了後の時間"), ({"rule": "x" * 60}, "終了後の時間"),
    ({"materials_url": "javascript:alert(1)"}, "URLを1つ"), ({"noshow_text": "あ" * 6000}, "文字以内"),
])
def test_bad_input_is_refused_in_words_and_changes_nothing(client, login, seminar, values, field_words):
    login(factories.make_staff("editor", [seminar]))
    response = save(client, seminar, noshow="y", **values)
    assert response.status_code == 422
    assert field_words in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Event, seminar.id).followup_noshow is False
    assert db.session.scalars(select(ScheduledTask).where(ScheduledTask.kind == TaskKind.followup)).all() == []


@pytest.mark.parametrize("role", ["viewer", "reception"])
def test_only_organizers_see_the_tab(client, login, seminar, role):
    login(factories.make_staff(role, [seminar]))
    assert client.get(page(seminar)).status_code == 403
    assert client.get(page(seminar) + "/preview/noshow").status_code == 403


def test_the_survey_preview_shows_a_placeholder_never_a_real_key(client, login, seminar, app):
    login(factories.make_staff("editor", [seminar]))
    came = db.session.scalar(select(followups.Registration).where(followups.Registration.family_name == "渡邊"))
    body = client.get(page(seminar) + f"/preview/survey?registration={came.id}").get_data(as_text=True)
    assert f"/s/{MASK}" in body and "渡邊" in body
    assert came.token not in body
    assert not re.search(r"/s/\d+\.", body)  # no "<id>.<proof>" key
    assert not re.search(r"/u/\d+\.", body)  # the unsubscribe key is masked too


def test_the_noshow_preview_is_the_mail_with_the_organizers_words(client, login, seminar):
    login(factories.make_staff("editor", [seminar]))
    save(client, seminar, noshow="y", noshow_text="次回は3月です。", materials_url="https://example.org/slides.pdf")
    body = client.get(page(seminar) + "/preview/noshow").get_data(as_text=True)
    assert "【資料と次回のご案内】" in body and "次回は3月です。" in body and "https://example.org/slides.pdf" in body
    assert "山田" in body
    assert client.get(page(seminar) + "/preview/noshow?registration=99999999").status_code == 404
    assert client.get(page(seminar) + "/preview/other").status_code == 404


def test_resend_from_the_registration_page_sends_one_more_to_that_person_only(client, login, seminar):
    login(factories.make_staff("editor", [seminar]))
    save(client, seminar, noshow="y")
    # By email: the waiting person is a 山田 too (the factory's default name)
    noshow = db.session.scalar(select(followups.Registration).where(followups.Registration.email == "yamada@example.org"))
    registration_page = f"/admin/events/{seminar.id}/registrations/{noshow.id}"
    assert "欠席の方へのご案内を再送する" in client.get(registration_page).get_data(as_text=True)
    response = client.post(registration_page + "/followups/noshow/resend",
                           data={"csrf_token": csrf_token(client, registration_page)})
    assert response.status_code == 303
    db.session.expire_all()
    assert Counter(db.session.scalars(select(OutboxMessage.registration_id).where(
        OutboxMessage.kind == MailKind.followup_noshow))) == Counter({noshow.id: 1})
    refused = client.post(registration_page + "/followups/survey/resend",
                          data={"csrf_token": csrf_token(client, registration_page)}, follow_redirects=True)
    assert "受付していません" in refused.get_data(as_text=True)


def test_the_noshow_note_arrives_once_with_the_words_and_the_materials(app, smtp_server, seminar, ctx):
    followups.update(seminar, rule="end+30m", parts={"noshow": True}, noshow_text="次回は3月です。",
                     materials_url="https://example.org/slides.pdf", actor=None, now=seminar.sessions[0].ends_at)
    db.session.commit()
    due = seminar.sessions[0].ends_at + timedelta(minutes=30)
    tick(app, now=due)
    while deliver_due(app, worker_id="test", now=due):
        pass
    notes = [m for m in smtp_server.messages if "資料と次回のご案内" in m["Subject"]]
    assert len(notes) == 1 and "yamada@example.org" in str(notes[0]["To"])  # the no-show only, once
    text = notes[0].get_body(("plain",)).get_content()
    assert "次回は3月です。" in text and "https://example.org/slides.pdf" in text
    assert "/u/" in text and notes[0]["List-Unsubscribe"]  # an organizer message: it can be stopped


def test_send_what_has_not_gone_refuses_before_the_end_and_names_a_session_of_the_event(client, login, seminar,
                                                                                       make_event):
    login(factories.make_staff("editor", [seminar]))
    save(client, seminar, noshow="y")
    url = f"{page(seminar)}/{seminar.sessions[0].id}/send"
    refused = client.post(url, data={"csrf_token": csrf_token(client, page(seminar))}, follow_redirects=True)
    assert "まだ終わっていません" in refused.get_data(as_text=True)
    other = make_event()
    assert client.post(f"{page(seminar)}/{other.sessions[0].id}/send",
                       data={"csrf_token": csrf_token(client, page(seminar))}).status_code == 404
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.followup_noshow)).all() == []


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("part", ["survey", "noshow", "certificate"])
def test_every_mail_renders_in_both_languages_with_subject_and_words(seminar, lang, part):
    from eventreg import clock
    from eventreg.adapters import mail
    from eventreg.domain.registration import passes
    from eventreg.web import followup_values
    from eventreg.web.links import masked_links

    followups.update(seminar, rule="end+30m", parts={}, noshow_text="Next: March.", materials_url="https://example.org/m",
                     actor=None, now=seminar.sessions[0].starts_at)
    registration = db.session.scalar(select(followups.Registration).where(followups.Registration.email == "yamada@example.org"))
    ctx = passes.pass_context(registration, masked_links(registration))
    ctx.update(followup_values.values(registration, followups.KINDS[part].value, ctx, lang=lang, preview=True))
    built = mail.build_message(kind=followups.KINDS[part].value, lang=lang, values=ctx,
                               to=("山田 花子", registration.email), message_id_left="t", date=clock.utcnow())
    subject = str(built.message["Subject"])
    text = built.message.get_body(("plain",)).get_content()
    html = built.message.get_body(("html",)).get_content()
    assert seminar.title in subject and subject.strip() != seminar.title
    assert {"survey": "/s/", "noshow": "Next: March.", "certificate": "certificate.pdf"}[part] in text
    assert ("Dear" in text) == (lang == "en") and ("様" in text) == (lang == "ja")
    assert "<html" in html
    assert bool(built.message["List-Unsubscribe"]) == (part != "certificate")
