"""Survey answers under retention and one person's request (domain.privacy calls these).

- The event's purge deletes the free-text answers (they may name anyone) and keeps the 1–5,
  0–10, come-again and choice answers on the anonymised registration, as the purge keeps status
  and sector: the results page and the cross-event statistics still add them up, and nothing
  left names a person.
- One person's deletion removes their responses whole (and so leaves the response rate).
- One person's data download lists every answer they gave, with the question's words.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from eventreg.domain.insight.surveys import answers_of
from eventreg.extensions import db
from eventreg.models import Survey, SurveyAnswer, SurveyKind, SurveyQuestion, SurveyResponse


def _free_text_questions(event_id: int):
    return (select(SurveyQuestion.id).join(Survey, Survey.id == SurveyQuestion.survey_id)
            .where(Survey.event_id == event_id, SurveyQuestion.kind == SurveyKind.text))


def free_text_count(event_id: int) -> int:
    """How many free-text answers the purge would delete (the privacy page's preview)."""
    return db.session.scalar(select(func.count()).select_from(SurveyAnswer)
                             .where(SurveyAnswer.question_id.in_(_free_text_questions(event_id)))) or 0


def purge_free_text(event_id: int) -> int:
    """Deletes the event's free-text answers; returns how many went."""
    return db.session.execute(delete(SurveyAnswer).where(SurveyAnswer.question_id.in_(_free_text_questions(event_id)))
                              .execution_options(synchronize_session=False)).rowcount


def delete_responses(registration_ids: list[int]) -> int:
    """Deletes the responses (and their answers) of these registrations; returns how many."""
    if not registration_ids:
        return 0
    responses = select(SurveyResponse.id).where(SurveyResponse.registration_id.in_(registration_ids))
    db.session.execute(delete(SurveyAnswer).where(SurveyAnswer.response_id.in_(responses))
                       .execution_options(synchronize_session=False))
    return db.session.execute(delete(SurveyResponse).where(SurveyResponse.registration_id.in_(registration_ids))
                              .execution_options(synchronize_session=False)).rowcount


def person_answers(registration_id: int) -> list[dict]:
    """[{"survey", "submitted_at", "updated_at", "answers": [{"question", "answer"}]}] of one registration."""
    out = []
    for response in db.session.scalars(select(SurveyResponse).where(SurveyResponse.registration_id == registration_id)):
        survey = db.session.get(Survey, response.survey_id)
        given = answers_of(response)
        out.append({"survey": survey.title, "submitted_at": response.submitted_at.isoformat(),
                    "updated_at": response.updated_at.isoformat(),
                    "answers": [{"question": q.label, "answer": given[q.id]} for q in survey.questions if q.id in given]})
    return out
