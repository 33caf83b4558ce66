"""Copying an event copies its survey's definition (issue 17): title, introduction and their
English, questions with kind, required flag, choices and their English, in order, the survey's
times moved with the event; never a response or an answer, and editing the copy leaves the
original alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from eventreg import clock
from eventreg.domain.backoffice import clone
from eventreg.domain.insight import surveys, surveys_results
from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.models import AuditEntry, Survey, SurveyAnswer, SurveyKind, SurveyQuestion, SurveyResponse

from .. import factories


def definition(survey: Survey) -> tuple:
    return (survey.title, survey.intro, survey.title_en, survey.intro_en,
            [(q.position, q.kind, q.label, q.label_en, q.required, q.choices, q.choices_en) for q in survey.questions])


def answered_seminar(make_event):
    now = clock.utcnow()
    event = make_event(start=factories.in_days(2))
    survey = surveys.create_survey(event, with_defaults=True, title="アンケート:月例セミナー", actor=None, now=now)
    surveys.update_survey(survey, {"title": "アンケート:月例セミナー", "intro": "ご参加ありがとうございました。",
                                   "title_en": "Monthly seminar survey", "intro_en": "Thank you for coming.",
                                   "opens_at": None, "closes_at": now + timedelta(days=30)}, actor=None, now=now)
    surveys.add_question(survey, {"kind": "multi", "label": "関心のある分野", "label_en": "Your interests",
                                  "required": True, "choices": "会計\n労務\n広報", "choices_en": "Accounting\nHR\nPR"},
                         actor=None, now=now)
    surveys.move_question(survey.questions[-1], -1)  # an order that is not the order of adding
    person = factories.register_person(event)
    checkin.check_in(person, session_id=None, desk="受付1", now=now)
    given = {f"q{q.id}": ["4" if q.kind == SurveyKind.scale5 else "yes" if q.kind == SurveyKind.come_again
                          else "会計" if q.kind == SurveyKind.multi else "8" if q.kind == SurveyKind.nps else "よかった"]
             for q in survey.questions}
    surveys.submit(survey, person, given, now=now, language="ja")
    db.session.commit()
    return event, survey


def test_the_copy_has_the_surveys_definition_and_no_answers(make_event):
    event, survey = answered_seminar(make_event)
    before = definition(survey)
    answers_before = db.session.scalar(select(func.count()).select_from(SurveyAnswer))
    first = min(s.starts_at for s in event.sessions)
    copy = clone.clone_event(event, (first + timedelta(days=28)).date(), actor=None, now=clock.utcnow())
    db.session.commit()
    copied = surveys.survey_of(copy.id)
    assert copied is not None and copied.id != survey.id
    assert definition(copied) == before
    assert [q.kind for q in copied.questions][:2] == [SurveyKind.scale5, SurveyKind.text]
    assert copied.questions[-2].label == "関心のある分野"  # moved up one place: the order is kept
    assert copied.closes_at == survey.closes_at + timedelta(days=28) and copied.opens_at is None
    assert not {q.id for q in copied.questions} & {q.id for q in survey.questions}
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)
                             .where(SurveyResponse.survey_id == copied.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == answers_before
    assert surveys_results.response_rates(copy.id, copied.id)["overall"]["responded"] == 0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.event_id == copy.id,
                                                       AuditEntry.action == "survey_created"))
    assert entry.changes["copied_from"] == [None, survey.id]


def test_editing_the_copy_leaves_the_original_alone(make_event):
    event, survey = answered_seminar(make_event)
    before = definition(survey)
    copy = clone.clone_event(event, factories.in_days(40).date(), actor=None, now=clock.utcnow())
    copied = surveys.survey_of(copy.id)
    question = next(q for q in copied.questions if q.kind == SurveyKind.multi)
    surveys.update_question(question, {"kind": "multi", "label": "関心", "choices": "会計\n労務\n広報\nIT",
                                       "choices_en": ""}, actor=None, now=clock.utcnow())
    surveys.delete_question(copied.questions[0], actor=None, now=clock.utcnow())
    db.session.commit()
    db.session.expire_all()
    assert definition(db.session.get(Survey, survey.id)) == before
    assert db.session.scalar(select(func.count()).select_from(SurveyQuestion)
                             .where(SurveyQuestion.survey_id == survey.id)) == len(before[-1])


def test_an_event_without_a_survey_is_copied_without_one(make_event):
    event = make_event()
    copy = clone.clone_event(event, factories.in_days(40).date(), actor=None, now=clock.utcnow())
    db.session.commit()
    assert surveys.survey_of(copy.id) is None
