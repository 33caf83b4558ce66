"""The survey's answer page: the attendee's personal link from the invitation mail.

GET, POST /s/<key>     the survey (key: domain.insight.surveys.invitation_key); the POST stores the
                       answers (first time or a change) while the survey is open

The key is the credential: it names one registration and opens only that person's answers.
Nothing is stored for it. People who did not come, a survey not open yet or closed, get a page
that says so (a closed survey shows the person's answers read-only). CSRF as every form.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask_babel import get_locale

from .. import clock
from ..domain.backoffice.event_checks import InvalidValues
from ..domain.errors import DomainError
from ..domain.insight import surveys
from ..extensions import db
from .error_words import message, words

bp = Blueprint("survey", __name__)


@bp.app_template_global("in_language")
def in_language(own: str, english: str | None, reader: str) -> tuple[str, str]:
    """For templates: the words a reader of ``reader`` sees (domain.insight.surveys.in_language, the
    one rule) and their language, for the ``lang`` attribute ("en", or "" for the event's own)."""
    shown = surveys.in_language(own, english, reader)
    return shown, "en" if shown != own else ""


def _page(survey, registration, *, state: str, answers: dict, problems: dict | None = None, status: int = 200):
    html = render_template("public/survey.html", survey=survey, event=registration.event, state=state,
                           answers=answers, problems=problems or {}, reader=str(get_locale()),
                           saved=request.args.get("saved") == "1")
    return html, status, {"Cache-Control": "no-store"}


@bp.route("/s/<key>", methods=["GET", "POST"])
def answer(key: str):
    registration = surveys.find_by_key(key, current_app.config["SECRET_KEY"])
    if registration is None:
        abort(404)
    survey = surveys.survey_of(registration.event_id)
    now = clock.utcnow()
    state = surveys.state(survey, registration, now)
    response = surveys.response_of(survey, registration) if survey is not None else None
    if request.method == "GET" or state != "open":
        answers = surveys.answers_of(response)
        db.session.rollback()
        return _page(survey, registration, state=state, answers=answers, status=200 if request.method == "GET" else 409)
    given = {name: request.form.getlist(name) for name in request.form if name.startswith("q")}
    try:
        surveys.submit(survey, registration, given, now=now, language=str(get_locale()))
    except InvalidValues as exc:
        db.session.rollback()
        problems = {p.field: words(p.code, **p.params) for p in exc.problems}
        return _page(survey, registration, state=state, answers=_typed(given), problems=problems, status=400)
    except DomainError as exc:
        db.session.rollback()
        return _page(survey, registration, state=state, answers={}, problems={"": message(exc.code, exc.detail)},
                     status=409)
    db.session.commit()
    return redirect(request.path + "?" + _query(saved="1"), 303)


def _query(**extra) -> str:
    """The page's own query (its ?lang=) with ``extra``."""
    args = {k: v for k, v in request.args.items() if k == "lang"} | extra
    return "&".join(f"{k}={v}" for k, v in args.items() if v.isascii() and v.isalnum())


def _typed(given: dict) -> dict:
    """What was sent, shown again in the form (question id -> value or list)."""
    out = {}
    for name, values in given.items():
        if name[1:].isdigit():
            out[int(name[1:])] = values if len(values) > 1 else (values[0] if values else "")
    return out
