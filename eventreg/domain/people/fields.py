"""What a person's registration holds, and how each field is checked.

One set of checks for every way a registration is written: the public form (web.forms calls
``normalizer`` for its validators), the staff pages and domain.backoffice.registration_edits (``clean_person``,
``clean_answers``). The characters themselves are judged by domain.people.text; this module adds the
lengths, which fields are required, and the answers to the event's questions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from eventreg.domain.errors import DomainError
from eventreg.domain.people import names, text
from eventreg.models import Question, QuestionKind, Sector

NAME_MAX = 50  # family and given name (the columns are 50 long)
ORGANIZATION_MAX = 100  # organization, department / title
EMAIL_MAX = 254
ANSWER_MAX = 1000  # a free-text answer

# The person's fields, in the order the forms show them.
PERSON = ("family_name", "given_name", "family_kana", "given_kana", "email", "organization", "department",
          "sector", "phone")
# Furigana is required only for a name in Japanese script (domain.people.names.needs_kana; check_kana).
REQUIRED = frozenset({"family_name", "given_name", "email", "sector"})
KANA = ("family_kana", "given_kana")

Covers = Callable[[str], bool] | None


class InvalidFields(DomainError):
    """One or more fields were refused; ``errors`` maps each field (a PERSON name, or
    ``answers.<question id>``) to its DomainError."""

    def __init__(self, errors: dict[str, DomainError]):
        super().__init__("invalid_fields", ", ".join(sorted(errors)))
        self.errors = errors


def _sector(value: str | None) -> Sector | str:
    if not value:
        return ""
    try:
        return Sector(value)
    except ValueError:
        raise DomainError("invalid_choice") from None


def normalizer(name: str, covers: Covers = None) -> Callable[[str | None], Any]:
    """The check of one person field: raw text in, the stored form out, or DomainError.
    ``covers`` (the PDF fonts, from the caller) refuses names that would not print."""
    if name in ("family_name", "given_name"):
        return partial(text.clean_name, max_length=NAME_MAX, covers=covers)
    if name in ("organization", "department"):
        return partial(text.clean_name, max_length=ORGANIZATION_MAX, covers=covers)
    if name in ("family_kana", "given_kana"):
        return partial(text.normalize_kana, max_length=NAME_MAX)
    if name == "email":
        return text.normalize_email
    if name == "phone":
        return text.normalize_phone
    if name == "sector":
        return _sector
    raise KeyError(name)


def check(name: str, value, *, covers: Covers = None, required: bool | None = None):
    """One field, normalised; an empty optional email is None (a walk-in who gave none)."""
    required = name in REQUIRED if required is None else required
    if value is not None and not isinstance(value, str) and not isinstance(value, Sector):
        raise DomainError("invalid_request")
    raw = value.value if isinstance(value, Sector) else (value or "")
    if name == "email" and not text.clean(raw, max_length=EMAIL_MAX):
        if required:
            raise DomainError("required")
        return None
    cleaned = normalizer(name, covers)(raw)
    if required and not cleaned:
        raise DomainError("required")
    return cleaned


def clean_person(values: Mapping[str, Any], *, covers: Covers = None,
                 required: Iterable[str] = REQUIRED) -> dict:
    """The PERSON fields present in ``values``, normalised; InvalidFields names every refusal."""
    required = set(required)
    cleaned, errors = {}, {}
    for name in PERSON:
        if name not in values:
            continue
        try:
            cleaned[name] = check(name, values[name], covers=covers, required=name in required)
        except DomainError as exc:
            errors[name] = exc
    if "family_name" in cleaned or "given_name" in cleaned:
        for name, problem in check_kana(cleaned).items():
            errors.setdefault(name, problem)
    if errors:
        raise InvalidFields(errors)
    return cleaned


def check_kana(person: Mapping[str, Any]) -> dict[str, DomainError]:
    """The furigana rule (docs/english-and-names.md): a name with kanji, hiragana or katakana
    needs both furigana; a name written only in other letters (Latin …) may leave them empty.
    Returns {field: DomainError("kana_required")} for each missing one."""
    if not names.needs_kana(person.get("family_name"), person.get("given_name")):
        return {}
    return {name: DomainError("kana_required") for name in KANA
            if name in person and not person.get(name)}


def check_answer(question: Question, value, *, required: bool | None = None):
    """One answer, as the public form stores it: text (cleaned), one choice, a list of choices,
    or a checkbox (a required checkbox must be ticked). Hidden questions are never required."""
    required = question.required and not question.hidden if required is None else required
    kind = question.kind
    if kind == QuestionKind.text:
        if value is not None and not isinstance(value, str):
            raise DomainError("invalid_request")
        answer = text.clean(value, max_length=ANSWER_MAX, multiline=True)
    elif kind == QuestionKind.single:
        if value is not None and not isinstance(value, str):
            raise DomainError("invalid_request")
        answer = value or None
        if answer is not None and answer not in question.choices:
            raise DomainError("invalid_choice")
    elif kind == QuestionKind.multiple:
        values = [value] if isinstance(value, str) else list(value or [])
        if any(not isinstance(v, str) or v not in question.choices for v in values):
            raise DomainError("invalid_choice")
        answer = [c for c in question.choices if c in values]  # the choices' order, once each
    else:
        answer = value in (True, "y", "on", "true", "1")
    if required and not answer:
        raise DomainError("answer_required")
    return answer


def clean_answers(questions: Iterable[Question], answers: Mapping[str, Any], *,
                  before: Mapping[str, Any] | None = None, complete: bool = False) -> dict:
    """The answers given (keys: question ids as strings), checked. An answer equal to the stored
    one (``before``) is kept as it is, even if the question's choices changed since. With
    ``complete``, every question is answered (unanswered ones get the empty answer, and a
    required one is refused): a new registration. Unknown keys are refused."""
    before = before or {}
    by_id = {str(q.id): q for q in questions}
    cleaned, errors = {}, {}
    for key in answers:
        if key not in by_id:
            errors[f"answers.{key}"] = DomainError("invalid_request")
    for key, question in by_id.items():
        if key not in answers and not complete:
            continue
        value = answers.get(key)
        if key in before and value == before[key]:
            cleaned[key] = value
            continue
        try:
            cleaned[key] = check_answer(question, value)
        except DomainError as exc:
            errors[f"answers.{key}"] = exc
    if errors:
        raise InvalidFields(errors)
    return cleaned
