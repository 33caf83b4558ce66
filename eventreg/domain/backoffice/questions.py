"""An event's extra questions on the sign-up form, changed by staff.

An answered question is hidden, not deleted (``question_has_answers``), and keeps its kind and its
choices (new ones may be added).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from eventreg.domain.backoffice import audit
from eventreg.domain.backoffice.event_checks import clean_question
from eventreg.domain.backoffice.events import snapshot
from eventreg.domain.errors import DomainError
from eventreg.extensions import db
from eventreg.models import Event, Question, QuestionKind, Registration

_QUESTION_FIELDS = ("kind", "label", "help", "choices", "required", "hidden")


def has_answers(question: Question) -> bool:
    """Whether any registration (cancelled ones too) holds an answer to ``question``."""
    key = str(question.id)
    for answers in db.session.scalars(select(Registration.answers).where(Registration.event_id == question.event_id)):
        if isinstance(answers, dict) and answers.get(key) not in (None, "", []):
            return True
    return False


def add_question(event: Event, values: Mapping[str, Any], *, actor, now: datetime) -> Question:
    cleaned = clean_question(values)
    position = max((q.position for q in event.questions), default=0) + 1
    question = Question(position=position, hidden=False, **cleaned)
    event.questions.append(question)
    db.session.flush()
    audit.record(event.id, "question_added", actor=actor, now=now,
                 changed=audit.changes({}, {"question_id": question.id, **snapshot(question, _QUESTION_FIELDS)}))
    db.session.flush()
    return question


def update_question(question: Question, values: Mapping[str, Any], *, actor, now: datetime) -> dict:
    """Changes a question. Once it has answers its kind stays, and its choices may grow but
    none may go or be renamed (``question_in_use``, detail: the choice)."""
    cleaned = clean_question(values)
    if has_answers(question):
        if cleaned["kind"] != question.kind:
            raise DomainError("question_kind_in_use")
        missing = [c for c in question.choices if c not in cleaned["choices"]]
        if missing and question.kind in (QuestionKind.single, QuestionKind.multiple):
            raise DomainError("question_choice_in_use", missing[0])
    before = snapshot(question, _QUESTION_FIELDS)
    for name, value in cleaned.items():
        setattr(question, name, value)
    changed = audit.changes(before, snapshot(question, _QUESTION_FIELDS))
    if changed:
        audit.record(question.event_id, "question_edited", actor=actor, now=now,
                     changed={"question_id": [question.id, question.id], **changed})
        db.session.flush()
    return changed


def set_question_hidden(question: Question, hidden: bool, *, actor, now: datetime) -> None:
    """A hidden question is no longer asked; its answers stay in the data and the exports."""
    if question.hidden == bool(hidden):
        return
    question.hidden = bool(hidden)
    audit.record(question.event_id, "question_hidden" if hidden else "question_shown", actor=actor, now=now,
                 changed={"question_id": [question.id, question.id], "hidden": [not hidden, bool(hidden)]})
    db.session.flush()


def delete_question(question: Question, *, actor, now: datetime) -> None:
    if has_answers(question):
        raise DomainError("question_has_answers")
    event = question.event
    audit.record(event.id, "question_deleted", actor=actor, now=now,
                 changed=audit.changes({"question_id": question.id, **snapshot(question, _QUESTION_FIELDS)}, {}))
    event.questions.remove(question)
    db.session.flush()
