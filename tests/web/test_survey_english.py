"""The survey's title and introduction in English (issue 17): optional in the builder; the answer
page and the invitation mail show them to English-language registrants when set, else the words as
written (Japanese) — one rule, domain.insight.surveys.in_language, for titles, introductions,
questions and choices alike."""

from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from eventreg.domain.communication import followups
from eventreg.domain.insight import surveys
from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.models import AuditEntry, Survey
from eventreg.worker import deliver_due, tick

from .. import factories
from .conftest import csrf_token

NOW = datetime.now(timezone.utc)
TITLE, TITLE_EN = "セミナーアンケート", "Seminar feedback"
INTRO, INTRO_EN = "ご参加ありがとうございました。", "Thank you for coming."


@pytest.mark.parametrize("own, english, reader, shown", [
    ("満足度", "Satisfaction", "en", "Satisfaction"),
    ("満足度", "", "en", "満足度"),  # no English: the words as written
    ("満足度", None, "en", "満足度"),
    ("満足度", "Satisfaction", "ja", "満足度"),  # a Japanese reader reads Japanese
])
def test_the_one_rule(own, english, reader, shown):
    assert surveys.in_language(own, english, reader) == shown


@pytest.fixture
def world(app, ctx):
    event = factories.make_event(start=factories.in_days(2))
    survey = surveys.create_survey(event, with_defaults=True, title=TITLE, actor=None, now=NOW)
    japanese = factories.register_person(event, family_name="来田", given_name="花子", email="ja@example.org")
    english = factories.register_person(event, family_name="Smith", given_name="Jo", family_kana="スミス",
                                        given_kana="ジョー", language="en", email="en@example.org")
    for r in (japanese, english):
        checkin.check_in(r, session_id=None, desk="受付1", now=NOW)
    db.session.commit()
    secret = app.config["SECRET_KEY"]
    return {"event": event, "survey": survey, "japanese": surveys.invitation_key(japanese, secret),
            "english": surveys.invitation_key(english, secret)}


def english_words(survey: Survey, title_en: str = TITLE_EN, intro_en: str = INTRO_EN) -> None:
    surveys.update_survey(survey, {"title": TITLE, "intro": INTRO, "title_en": title_en, "intro_en": intro_en,
                                   "opens_at": None, "closes_at": survey.closes_at}, actor=None, now=NOW)
    db.session.commit()


def builder_form(event, **fields) -> dict:
    closes = surveys.survey_of(event.id).closes_at.astimezone(ZoneInfo(event.timezone)).strftime("%Y-%m-%dT%H:%M")
    return {"title": TITLE, "intro": INTRO, "title_en": "", "intro_en": "", "opens_at": "", "closes_at": closes, **fields}


def test_the_builder_saves_the_english_title_and_introduction(client, login, world):
    event = world["event"]
    login(factories.make_staff("organizer", events=[event]))
    url = f"/admin/events/{event.id}/survey/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'name="title_en"' in page and 'name="intro_en"' in page and "タイトルの英語表記" in page
    saved = client.post(url, data={**builder_form(event, title_en=TITLE_EN, intro_en=INTRO_EN),
                                   "csrf_token": csrf_token(client, url)})
    assert saved.status_code == 303
    db.session.expire_all()
    survey = surveys.survey_of(event.id)
    assert (survey.title_en, survey.intro_en) == (TITLE_EN, INTRO_EN)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey_edited"))
    assert entry.changes["title_en"] == ["", TITLE_EN]
    assert TITLE_EN in client.get(url).get_data(as_text=True)  # shown again in the builder


def test_a_bad_english_title_is_refused_with_words_and_nothing_changes(client, login, world):
    event = world["event"]
    login(factories.make_staff("organizer", events=[event]))
    url = f"/admin/events/{event.id}/survey/edit"
    refused = client.post(url, data={**builder_form(event, title="新しい題", title_en="x" * 201),
                                     "csrf_token": csrf_token(client, url)})
    assert refused.status_code == 400 and "200文字以内" in refused.get_data(as_text=True)
    db.session.expire_all()
    survey = surveys.survey_of(event.id)
    assert (survey.title, survey.title_en) == (TITLE, "")


def test_the_answer_page_reads_english_for_an_english_registrant(client, world):
    english_words(world["survey"])
    shown = html.unescape(client.get(f"/s/{world['english']}?lang=en").get_data(as_text=True))
    assert f'<h1 lang="en">{TITLE_EN}</h1>' in shown and INTRO_EN in shown
    assert TITLE not in shown and INTRO not in shown
    japanese = html.unescape(client.get(f"/s/{world['japanese']}?lang=ja").get_data(as_text=True))
    assert f'<h1 lang="ja">{TITLE}</h1>' in japanese and INTRO in japanese and TITLE_EN not in japanese


def test_without_english_words_an_english_registrant_reads_the_japanese(client, world):
    english_words(world["survey"], title_en="", intro_en="")
    shown = html.unescape(client.get(f"/s/{world['english']}?lang=en").get_data(as_text=True))
    assert f'<h1 lang="ja">{TITLE}</h1>' in shown and INTRO in shown
    assert "Send my answers" in shown  # the page's own words are still English


def test_the_builders_english_preview(client, login, world):
    english_words(world["survey"])
    event = world["event"]
    login(factories.make_staff("organizer", events=[event]))
    shown = html.unescape(client.get(f"/admin/events/{event.id}/survey/preview?lang=en").get_data(as_text=True))
    assert TITLE_EN in shown and INTRO_EN in shown


def invitations(app, smtp_server, event) -> dict[str, object]:
    followups.update(event, rule="end+30m", parts={"survey": True}, noshow_text="", materials_url="",
                     actor=None, now=NOW)
    db.session.commit()
    due = event.sessions[0].ends_at + timedelta(minutes=30)
    tick(app, now=due)
    while deliver_due(app, worker_id="test", now=due):
        pass
    return {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages
            if "survey" in m["Subject"] or "アンケート" in m["Subject"]}


def test_the_invitation_mail_names_the_survey_in_english_for_an_english_registrant(app, smtp_server, world):
    english_words(world["survey"])
    sent = invitations(app, smtp_server, world["event"])
    english, japanese = sent["en@example.org"], sent["ja@example.org"]
    assert str(english["Subject"]) == f"A short survey: {TITLE_EN}"
    assert TITLE_EN in english.get_body(("plain",)).get_content()
    assert TITLE_EN in english.get_body(("html",)).get_content()
    assert TITLE not in english.get_body(("plain",)).get_content()
    japanese_text = japanese.get_body(("plain",)).get_content()
    assert TITLE in japanese_text and TITLE_EN not in japanese_text and TITLE_EN not in str(japanese["Subject"])


def test_without_english_the_invitation_names_the_japanese_title(app, smtp_server, world):
    sent = invitations(app, smtp_server, world["event"])
    english = sent["en@example.org"]
    assert str(english["Subject"]) == f"A short survey: {TITLE}"
    assert TITLE in english.get_body(("plain",)).get_content()
