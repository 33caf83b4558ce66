"""The survey after an event (アンケート): built by staff, answered once per attendee through a personal link.

- One survey per event, with questions of six kinds (models.survey.SurveyKind); labels in the
  event's language, optionally in English too (an English registrant reads those).
- The link is ``/s/<key>``, key ``<registration id>.<proof>``: an HMAC of the registration's
  management secret with the "survey:" prefix under the app's secret key (as the unsubscribe
  link: nothing stored, the management secret not revealed, a purge's new secret kills it).
- Only people who came may answer (domain.insight.counts.CHECKED_IN, either mode); one response
  per registration and survey (a unique constraint), changed as often as the person likes until
  ``closes_at``; after that it is read-only. A change is a conditional UPDATE on the response's
  version, so two submissions at once leave one whole set of answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from eventreg.domain.backoffice import audit
from eventreg.domain.backoffice.event_checks import InvalidValues, Problem
from eventreg.domain.communication import opt_outs
from eventreg.domain.errors import DomainError
from eventreg.domain.insight import counts
from eventreg.domain.people.text import clean
from eventreg.extensions import db
from eventreg.models import Event, Registration, Survey, SurveyAnswer, SurveyKind, SurveyQuestion, SurveyResponse

CLOSE_AFTER_DAYS = 14  # a new survey closes this many days after the event's last session ends
MAX_CHOICES = 30
MAX_TEXT = 2000  # a free-text answer
SCALES = {SurveyKind.scale5: range(1, 6), SurveyKind.nps: range(0, 11)}
COME_AGAIN = ("yes", "maybe", "no")
CHOICE_KINDS = (SurveyKind.single, SurveyKind.multi)

# A seminar's usual questions (満足度, 役に立った点, また参加したいか, NPS): the organizer starts from
# these and changes them. Data, in both languages: an English event gets the English words.
DEFAULT_QUESTIONS = [
    {"kind": "scale5", "required": True, "label": "本日のセミナーの満足度を教えてください",
     "label_en": "How satisfied were you with today's seminar?"},
    {"kind": "text", "required": False, "label": "役に立った点・印象に残った点を教えてください",
     "label_en": "What was useful or memorable for you?"},
    {"kind": "come_again", "required": True, "label": "また参加したいと思いますか",
     "label_en": "Would you come to this seminar again?"},
    {"kind": "nps", "required": False, "label": "このセミナーを知人・同僚に薦める可能性はどのくらいですか",
     "label_en": "How likely are you to recommend this seminar to a friend or colleague?"},
]


# --- the personal link ---------------------------------------------------------------------------

def invitation_key(registration: Registration, secret: str) -> str:
    """The key of the registration's survey link (in the invitation mail only): the unsubscribe
    link's scheme (domain.communication.opt_outs) with its own purpose."""
    return f"{registration.id}.{opt_outs.proof(registration.token, secret, 'survey')}"


def find_by_key(value: str, secret: str) -> Registration | None:
    """The registration a key names; None for anything else (malformed, unknown, wrong proof)."""
    return opt_outs.find(value, secret, purpose="survey")


# --- the survey and its questions (staff) --------------------------------------------------------

def in_language(own: str, english: str | None, language: str) -> str:
    """The one rule for a survey's words (its title, introduction, a question, a choice): the
    English version for a reader of English when it is set, else the words as written (in the
    event's language). Used by the answer page and the invitation mail alike."""
    return english if language == "en" and english else own


def survey_of(event_id: int) -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.event_id == event_id))


def default_closes_at(event: Event) -> datetime:
    return max(s.ends_at for s in event.sessions) + timedelta(days=CLOSE_AFTER_DAYS)


def _text(problems: list, name: str, value, max_length: int, *, required=False, multiline=False) -> str:
    try:
        cleaned = clean("" if value is None else str(value), max_length=max_length, multiline=multiline,
                        fold=False, keep_spacing=multiline)
    except DomainError as exc:
        problems.append(Problem(name, "too_long" if exc.code == "too_long" else "control_characters",
                                {"max": max_length}))
        return ""
    if required and not cleaned:
        problems.append(Problem(name, "required"))
    return cleaned


def create_survey(event: Event, *, with_defaults: bool, title: str, actor, now: datetime) -> Survey:
    """The event's survey (DomainError ``survey_exists`` if it has one), optionally with the default
    questions in the event's language."""
    if survey_of(event.id) is not None:
        raise DomainError("survey_exists")
    survey = Survey(event_id=event.id, title=title[:200], intro="", closes_at=default_closes_at(event),
                    created_at=now)
    db.session.add(survey)
    if with_defaults:
        english = event.language == "en"
        for position, q in enumerate(DEFAULT_QUESTIONS, 1):
            survey.questions.append(SurveyQuestion(
                position=position, kind=SurveyKind(q["kind"]), required=q["required"], choices=[], choices_en=[],
                label=q["label_en"] if english else q["label"], label_en="" if english else q["label_en"]))
    db.session.flush()
    audit.record(event.id, "survey_created", actor=actor, now=now, changed={"survey_id": [None, survey.id]})
    db.session.flush()
    return survey


def copy_definition(survey: Survey, event: Event, *, shift: Callable[[datetime | None], datetime | None],
                    actor, now: datetime) -> Survey:
    """A copy of ``survey``'s definition for ``event`` (a copied event without a survey, domain
    .backoffice.clone): title, introduction (and their English), questions with their kind,
    required flag, choices (and their English) in the same order. Never a response or an answer.
    The opening and closing times move by ``shift`` (the copy's days). A survey has no published
    state of its own: it is answerable only by people who came to its event, and the copy's event
    is a draft nobody can register for yet."""
    copy = Survey(event_id=event.id, title=survey.title, intro=survey.intro, title_en=survey.title_en,
                  intro_en=survey.intro_en, opens_at=shift(survey.opens_at), closes_at=shift(survey.closes_at),
                  created_at=now)
    for q in survey.questions:
        copy.questions.append(SurveyQuestion(position=q.position, kind=q.kind, label=q.label, label_en=q.label_en,
                                             required=q.required, choices=list(q.choices or []),
                                             choices_en=list(q.choices_en or [])))
    db.session.add(copy)
    db.session.flush()
    audit.record(event.id, "survey_created", actor=actor, now=now,
                 changed={"survey_id": [None, copy.id], "copied_from": [None, survey.id]})
    db.session.flush()
    return copy


def update_survey(survey: Survey, values: Mapping, *, actor, now: datetime) -> None:
    """Title, intro (and their optional English), opening and closing time (aware datetimes; opens may be None)."""
    problems: list[Problem] = []
    after = {"title": _text(problems, "title", values.get("title"), 200, required=True),
             "intro": _text(problems, "intro", values.get("intro"), 2000, multiline=True),
             "title_en": _text(problems, "title_en", values.get("title_en"), 200),
             "intro_en": _text(problems, "intro_en", values.get("intro_en"), 2000, multiline=True),
             "opens_at": values.get("opens_at"), "closes_at": values.get("closes_at")}
    opens, closes = after["opens_at"], after["closes_at"]
    if closes is None:
        problems.append(Problem("closes_at", "required"))
    elif opens is not None and opens >= closes:
        problems.append(Problem("closes_at", "survey_closes_before_opening"))
    if problems:
        raise InvalidValues(problems)
    before = {name: getattr(survey, name) for name in after}
    for name, value in after.items():
        setattr(survey, name, value)
    changed = {k: [_plain(before[k]), _plain(after[k])] for k in before if before[k] != after[k]}
    if changed:
        audit.record(survey.event_id, "survey_edited", actor=actor, now=now, changed=changed)
    db.session.flush()


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _lines(value) -> list[str]:
    if value is None:
        return []
    items = value.splitlines() if isinstance(value, str) else list(value)
    return [" ".join(str(item).split()) for item in items if str(item).strip()]


def clean_question(values: Mapping) -> dict:
    """One question as typed: kind, label, label_en, required, choices and choices_en (text, one a line)."""
    problems: list[Problem] = []
    try:
        kind = SurveyKind(str(values.get("kind") or ""))
    except ValueError:
        problems.append(Problem("kind", "unknown_kind"))
        kind = SurveyKind.text
    label = _text(problems, "label", values.get("label"), 300, required=True)
    label_en = _text(problems, "label_en", values.get("label_en"), 300)
    choices, choices_en = [], []
    if kind in CHOICE_KINDS:
        choices = [_text(problems, "choices", c, 200) for c in _lines(values.get("choices"))]
        choices_en = [_text(problems, "choices_en", c, 200) for c in _lines(values.get("choices_en"))]
        if not choices:
            problems.append(Problem("choices", "choices_required"))
        elif len(set(choices)) != len(choices):
            problems.append(Problem("choices", "duplicate_choice",
                                    {"choice": next(c for c in choices if choices.count(c) > 1)}))
        elif len(choices) > MAX_CHOICES:
            problems.append(Problem("choices", "too_many_choices", {"max": MAX_CHOICES}))
        if choices_en and len(choices_en) != len(choices):
            problems.append(Problem("choices_en", "survey_choices_en_count"))
    if problems:
        raise InvalidValues(problems)
    return {"kind": kind, "label": label, "label_en": label_en, "required": bool(values.get("required")),
            "choices": choices, "choices_en": choices_en}


def answer_count(question: SurveyQuestion) -> int:
    """How many responses answered ``question``."""
    return db.session.scalar(select(func.count(func.distinct(SurveyAnswer.response_id)))
                             .where(SurveyAnswer.question_id == question.id)) or 0


def add_question(survey: Survey, values: Mapping, *, actor, now: datetime) -> SurveyQuestion:
    cleaned = clean_question(values)
    position = max((q.position for q in survey.questions), default=0) + 1
    question = SurveyQuestion(position=position, **cleaned)
    survey.questions.append(question)
    db.session.flush()
    audit.record(survey.event_id, "survey_question_added", actor=actor, now=now,
                 changed={"survey_question_id": [None, question.id], "label": [None, question.label]})
    db.session.flush()
    return question


def update_question(question: SurveyQuestion, values: Mapping, *, actor, now: datetime) -> None:
    """Once answered, a question keeps its kind and its choices (new ones may be added)."""
    cleaned = clean_question(values)
    if answer_count(question):
        if cleaned["kind"] != question.kind:
            raise DomainError("question_kind_in_use")
        missing = [c for c in question.choices if c not in cleaned["choices"]]
        if missing and question.kind in CHOICE_KINDS:
            raise DomainError("question_choice_in_use", missing[0])
    changed = {k: [_enum(getattr(question, k)), _enum(v)] for k, v in cleaned.items() if getattr(question, k) != v}
    for name, value in cleaned.items():
        setattr(question, name, value)
    if changed:
        audit.record(question.survey.event_id, "survey_question_edited", actor=actor, now=now,
                     changed={"survey_question_id": [question.id, question.id], **changed})
    db.session.flush()


def _enum(value):
    return value.value if isinstance(value, SurveyKind) else value


def move_question(question: SurveyQuestion, step: int) -> None:
    """One place up (step -1) or down (+1); the positions are renumbered 1..n."""
    ordered = list(question.survey.questions)
    index = ordered.index(question)
    target = min(max(index + step, 0), len(ordered) - 1)
    ordered.insert(target, ordered.pop(index))
    for position, q in enumerate(ordered, 1):
        q.position = position
    db.session.flush()


def delete_question(question: SurveyQuestion, *, actor, now: datetime) -> int:
    """Deletes the question and its answers (the page asked first, naming how many); returns that number."""
    answered = answer_count(question)
    survey = question.survey
    audit.record(survey.event_id, "survey_question_deleted", actor=actor, now=now,
                 changed={"survey_question_id": [question.id, None], "label": [question.label, None]},
                 note="answers_deleted", params={"answers": answered})
    db.session.execute(delete(SurveyAnswer).where(SurveyAnswer.question_id == question.id)
                       .execution_options(synchronize_session=False))
    survey.questions.remove(question)
    db.session.flush()
    return answered


# --- answering (the attendee) --------------------------------------------------------------------

def came(registration: Registration) -> bool:
    """Who may answer: the one definition of "came" (counts.CHECKED_IN), either mode."""
    return bool(db.session.scalar(select(func.count()).where(Registration.id == registration.id, counts.CHECKED_IN)))


def state(survey: Survey | None, registration: Registration, now: datetime) -> str:
    """"no_survey", "not_attended", "not_open", "open" or "closed"."""
    if survey is None or not survey.questions or registration.anonymised_at is not None:
        return "no_survey"
    if not came(registration):
        return "not_attended"
    if survey.opens_at is not None and now < survey.opens_at:
        return "not_open"
    return "open" if now < survey.closes_at else "closed"


def response_of(survey: Survey, registration: Registration) -> SurveyResponse | None:
    return db.session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id,
                                                          SurveyResponse.registration_id == registration.id))


def answers_of(response: SurveyResponse | None) -> dict[int, object]:
    """question id -> int (scales), str (single, text, come_again) or list[str] (multi)."""
    if response is None:
        return {}
    out: dict[int, object] = {}
    rows = db.session.execute(select(SurveyAnswer.question_id, SurveyAnswer.value_number, SurveyAnswer.value_text)
                              .where(SurveyAnswer.response_id == response.id).order_by(SurveyAnswer.id))
    kinds = {q.id: q.kind for q in db.session.get(Survey, response.survey_id).questions}
    for qid, number, text_value in rows:
        if kinds.get(qid) == SurveyKind.multi:
            out.setdefault(qid, []).append(text_value)
        else:
            out[qid] = number if number is not None else text_value
    return out


def clean_answers(survey: Survey, given: Mapping[str, list[str]]) -> dict[int, object]:
    """The form's values (name ``q<id>`` -> the list of values sent) checked against each question:
    InvalidValues naming ``q<id>`` for each problem, nothing else. Unanswered optional questions are left out."""
    problems: list[Problem] = []
    out: dict[int, object] = {}
    for q in survey.questions:
        name = f"q{q.id}"
        values = [v for v in given.get(name, []) if isinstance(v, str) and v.strip() != ""]
        if not values:
            if q.required:
                problems.append(Problem(name, "survey_answer_required"))
            continue
        if q.kind in SCALES:
            raw = values[0].strip()
            if len(values) != 1 or not (raw.isascii() and raw.isdigit()) or int(raw) not in SCALES[q.kind]:
                problems.append(Problem(name, "survey_invalid_choice"))
            else:
                out[q.id] = int(raw)
        elif q.kind == SurveyKind.come_again:
            if len(values) != 1 or values[0] not in COME_AGAIN:
                problems.append(Problem(name, "survey_invalid_choice"))
            else:
                out[q.id] = values[0]
        elif q.kind in CHOICE_KINDS:
            chosen = list(dict.fromkeys(values))
            if any(v not in q.choices for v in chosen) or (q.kind == SurveyKind.single and len(chosen) != 1):
                problems.append(Problem(name, "survey_invalid_choice"))
            else:
                out[q.id] = chosen if q.kind == SurveyKind.multi else chosen[0]
        else:
            text_value = _text(problems, name, values[0], MAX_TEXT, multiline=True)
            if text_value:
                out[q.id] = text_value
            elif q.required and not any(p.field == name for p in problems):
                problems.append(Problem(name, "survey_answer_required"))
    if problems:
        raise InvalidValues(problems)
    return out


@lru_cache(maxsize=2)
def _insert_once(dialect: str):
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (dialect_insert(SurveyResponse.__table__)
            .on_conflict_do_nothing(index_elements=["survey_id", "registration_id"])
            .returning(SurveyResponse.__table__.c.id))


def submit(survey: Survey, registration: Registration, given: Mapping[str, list[str]], *, now: datetime,
           language: str) -> SurveyResponse:
    """Stores the person's answers (first time or a change). Refuses (DomainError) outside the open
    window or for someone who did not come; InvalidValues for bad answers: nothing is stored then."""
    current = state(survey, registration, now)
    if current != "open":
        raise DomainError(f"survey_{current}")
    cleaned = clean_answers(survey, given)
    db.session.execute(_insert_once(db.session.get_bind().dialect.name), {
        "survey_id": survey.id, "registration_id": registration.id, "submitted_at": now, "updated_at": now,
        "version": 0, "language": language})
    response = response_of(survey, registration)
    # The guard: this change is decided from the version just read; a submission that got in
    # first (the same person on two devices) makes this one re-read instead of mixing answers.
    for _attempt in range(3):
        seen = db.session.scalar(select(SurveyResponse.version).where(SurveyResponse.id == response.id))
        claimed = db.session.execute(
            update(SurveyResponse).where(SurveyResponse.id == response.id, SurveyResponse.version == seen)
            .values(version=seen + 1, updated_at=now, language=language)
            .execution_options(synchronize_session=False)).rowcount
        if claimed == 1:
            break
    else:
        raise DomainError("registration_changed")
    db.session.execute(delete(SurveyAnswer).where(SurveyAnswer.response_id == response.id)
                       .execution_options(synchronize_session=False))
    rows = []
    for qid, value in cleaned.items():
        for item in value if isinstance(value, list) else [value]:
            rows.append({"response_id": response.id, "question_id": qid,
                         "value_number": item if isinstance(item, int) else None,
                         "value_text": item if isinstance(item, str) else None})
    if rows:
        db.session.execute(insert(SurveyAnswer), rows)
    db.session.flush()
    db.session.refresh(response)
    return response
