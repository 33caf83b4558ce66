"""The event's survey (アンケート) in the back office: its results, its builder, its export.

GET       /admin/events/<id>/survey                               results: rates, each question's chart, free text
POST      /admin/events/<id>/survey                               create it (the default seminar set, or empty)
GET, POST /admin/events/<id>/survey/edit                          title, introduction, opening and closing time
POST      /admin/events/<id>/survey/questions                     add a question
GET, POST /admin/events/<id>/survey/questions/<sqid>              change a question
POST      /admin/events/<id>/survey/questions/<sqid>/move         one place up or down
GET, POST /admin/events/<id>/survey/questions/<sqid>/delete       confirm, then delete it and its answers
GET       /admin/events/<id>/survey/preview                       the answer page as attendees see it (nothing sent)
GET       /admin/events/<id>/survey/responses.<csv|xlsx>          one row per response (fixed columns)

Who sees what (domain/access/permissions.py): the numbers (rates, counts, averages, NPS) need
``view``, like the statistics; the free-text answers with the names of who wrote them, and the
export, need ``export_personal`` (what a person wrote is personal data); building needs ``edit_event``.
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ... import clock
from ...adapters import charts, sheets
from ...domain.access.permissions import Capability
from ...domain.backoffice import audit
from ...domain.backoffice.event_checks import InvalidValues
from ...domain.errors import DomainError
from ...domain.insight import surveys, surveys_results
from ...extensions import db
from ...models import Event, SurveyKind, SurveyQuestion
from ..access import event_access, may
from ..error_words import message, words
from ..field_words import field_titles, sector_names
from . import bp

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def kind_words() -> dict[str, str]:
    return {"scale5": _("5-point scale (1–5)"), "single": _("One choice"), "multi": _("Several choices"),
            "text": _("Free text"), "come_again": _("Would you come again (yes / maybe / no)"),
            "nps": _("Recommendation (0–10, NPS)")}


def mode_words() -> dict[str, str]:
    return {"onsite": _("On site"), "online": _("Online")}


def come_again_words() -> dict[str, str]:
    return {"yes": _("Yes"), "maybe": _("Maybe"), "no": _("No")}


def _survey_or_404(event: Event):
    survey = surveys.survey_of(event.id)
    if survey is None:
        abort(404)
    return survey


def _question_of(survey, question_id: int) -> SurveyQuestion:
    question = db.session.get(SurveyQuestion, question_id)
    if question is None or question.survey_id != survey.id:
        abort(404)
    return question


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


# --- results -------------------------------------------------------------------------------------

def _chart(result: dict, uid: str, width: int) -> str:
    q = result["question"]
    if not result["counts"]:
        return ""
    labels = come_again_words() if q.kind == SurveyKind.come_again else {}
    return charts.bar_chart(
        uid=uid, title=q.label, desc=_("Answers per choice; the table below has the numbers."),
        categories=[labels.get(v, str(v)) for v, _n in result["counts"]],
        series=[(_("Answers"), [n for _v, n in result["counts"]])], width=width)


@bp.get("/events/<int:event_id>/survey")
@event_access(Capability.view)
def survey_results(event: Event):
    survey = surveys.survey_of(event.id)
    rates = surveys_results.response_rates(event.id, survey.id if survey else None)
    results = surveys_results.question_results(survey) if survey else []
    texts = surveys_results.free_texts(survey) if survey and may(Capability.export_personal, event) else None
    charts_by_q = {r["question"].id: (_chart(r, f"sq{r['question'].id}w", 720), _chart(r, f"sq{r['question'].id}n", 360))
                   for r in results}
    return render_template("admin/survey_results.html", event=event, survey=survey, rates=rates, results=results,
                           texts=texts, charts=charts_by_q, sectors=sector_names(), modes=mode_words(),
                           kinds=kind_words(), again=come_again_words(), pct=_pct, number=_number)


@bp.post("/events/<int:event_id>/survey")
@event_access(Capability.edit_event)
def survey_create(event: Event):
    try:
        surveys.create_survey(event, with_defaults=request.form.get("start") != "empty",
                              title=_("Survey: %(title)s", title=event.title), actor=current_user, now=clock.utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(message(exc.code), "error")
        return redirect(url_for("admin.survey_results", event_id=event.id), 303)
    db.session.commit()
    flash(_("The survey was created. Change its questions, then preview it."))
    return redirect(url_for("admin.survey_edit", event_id=event.id), 303)


# --- the builder ---------------------------------------------------------------------------------

def _local_input(moment: datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _parse_local(text: str, zone: str) -> datetime | None:
    """A datetime-local field in the event's zone; None when empty; ValueError when not a time."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > 20 or not text.isascii():
        raise ValueError(text)
    value = datetime.strptime(text, "%Y-%m-%dT%H:%M").replace(tzinfo=ZoneInfo(zone))
    if not 2000 <= value.year <= 2100:  # year 1 in Tokyo is before the first UTC datetime
        raise ValueError(text)
    return value


def _builder(event: Event, survey, *, values=None, errors=None, question_values=None, question_errors=None,
             status: int = 200):
    values = values or {"title": survey.title, "intro": survey.intro, "title_en": survey.title_en,
                        "intro_en": survey.intro_en, "opens_at": _local_input(survey.opens_at, event.timezone),
                        "closes_at": _local_input(survey.closes_at, event.timezone)}
    answered = {q.id: surveys.answer_count(q) for q in survey.questions}
    return render_template("admin/survey_edit.html", event=event, survey=survey, values=values, errors=errors or {},
                           qvalues=question_values or {"kind": "scale5", "required": True}, qerrors=question_errors or {},
                           answered=answered, kinds=kind_words()), status


@bp.route("/events/<int:event_id>/survey/edit", methods=["GET", "POST"])
@event_access(Capability.edit_event)
def survey_edit(event: Event):
    survey = _survey_or_404(event)
    if request.method == "GET":
        return _builder(event, survey)
    values = {name: request.form.get(name, "") for name in ("title", "intro", "title_en", "intro_en",
                                                            "opens_at", "closes_at")}
    errors = {}
    times = {}
    for name in ("opens_at", "closes_at"):
        try:
            times[name] = _parse_local(values[name], event.timezone)
        except ValueError:
            errors[name] = _("Enter a date and time.")
    if not errors:
        try:
            surveys.update_survey(survey, {**values, **times}, actor=current_user, now=clock.utcnow())
        except InvalidValues as exc:
            errors = {p.field: words(p.code, **p.params) for p in exc.problems}
    if errors:
        db.session.rollback()
        return _builder(event, survey, values=values, errors=errors, status=400)
    db.session.commit()
    flash(_("Saved."))
    return redirect(url_for("admin.survey_edit", event_id=event.id), 303)


def _question_form() -> dict:
    return {"kind": request.form.get("kind", ""), "label": request.form.get("label", ""),
            "label_en": request.form.get("label_en", ""), "required": request.form.get("required") == "y",
            "choices": request.form.get("choices", ""), "choices_en": request.form.get("choices_en", "")}


@bp.post("/events/<int:event_id>/survey/questions")
@event_access(Capability.edit_event)
def survey_question_add(event: Event):
    survey = _survey_or_404(event)
    values = _question_form()
    try:
        surveys.add_question(survey, values, actor=current_user, now=clock.utcnow())
    except InvalidValues as exc:
        db.session.rollback()
        return _builder(event, survey, question_values=values,
                        question_errors={p.field: words(p.code, **p.params) for p in exc.problems}, status=400)
    db.session.commit()
    flash(_("The question was added."))
    return redirect(url_for("admin.survey_edit", event_id=event.id, _anchor="questions"), 303)


def _question_data(q: SurveyQuestion) -> dict:
    return {"kind": q.kind.value, "label": q.label, "label_en": q.label_en, "required": q.required,
            "choices": "\n".join(q.choices or []), "choices_en": "\n".join(q.choices_en or [])}


@bp.route("/events/<int:event_id>/survey/questions/<int:survey_question_id>", methods=["GET", "POST"])
@event_access(Capability.edit_event)
def survey_question_edit(event: Event, survey_question_id: int):
    survey = _survey_or_404(event)
    question = _question_of(survey, survey_question_id)
    values, errors = _question_data(question), {}
    if request.method == "POST":
        values = _question_form()
        try:
            surveys.update_question(question, values, actor=current_user, now=clock.utcnow())
        except InvalidValues as exc:
            errors = {p.field: words(p.code, **p.params) for p in exc.problems}
        except DomainError as exc:
            errors = {"kind" if exc.code == "question_kind_in_use" else "choices": message(exc.code, exc.detail)}
        if not errors:
            db.session.commit()
            flash(_("The question was changed."))
            return redirect(url_for("admin.survey_edit", event_id=event.id, _anchor="questions"), 303)
        db.session.rollback()
    return render_template("admin/survey_question.html", event=event, survey=survey, question=question,
                           qvalues=values, qerrors=errors, kinds=kind_words(),
                           answered=surveys.answer_count(question)), 400 if errors else 200


@bp.post("/events/<int:event_id>/survey/questions/<int:survey_question_id>/move")
@event_access(Capability.edit_event)
def survey_question_move(event: Event, survey_question_id: int):
    question = _question_of(_survey_or_404(event), survey_question_id)
    surveys.move_question(question, -1 if request.form.get("direction") == "up" else 1)
    db.session.commit()
    return redirect(url_for("admin.survey_edit", event_id=event.id, _anchor=f"sq{question.id}"), 303)


@bp.route("/events/<int:event_id>/survey/questions/<int:survey_question_id>/delete", methods=["GET", "POST"])
@event_access(Capability.edit_event)
def survey_question_delete(event: Event, survey_question_id: int):
    question = _question_of(_survey_or_404(event), survey_question_id)
    if not (request.method == "POST" and request.form.get("confirm") == "yes"):
        answered = surveys.answer_count(question)
        what = question.label + (" — " + _("its %(n)s answers are deleted too.", n=answered) if answered else "")
        return render_template("admin/confirm_delete.html", event=event, question=_("Delete this question?"),
                               what=what, when=None, button=_("Delete"),
                               back=url_for("admin.survey_edit", event_id=event.id, _anchor="questions"))
    surveys.delete_question(question, actor=current_user, now=clock.utcnow())
    db.session.commit()
    flash(_("The question was deleted."))
    return redirect(url_for("admin.survey_edit", event_id=event.id, _anchor="questions"), 303)


@bp.get("/events/<int:event_id>/survey/preview")
@event_access(Capability.edit_event)
def survey_preview(event: Event):
    survey = _survey_or_404(event)
    return render_template("public/survey.html", survey=survey, event=event, state="open", answers={}, problems={},
                           reader="en" if request.args.get("lang") == "en" else event.language, saved=False,
                           preview=True)


# --- export --------------------------------------------------------------------------------------

@bp.get("/events/<int:event_id>/survey/responses.<any(csv,xlsx):fmt>")
@event_access(Capability.export_personal)
def survey_export(event: Event, fmt: str):
    survey = _survey_or_404(event)
    now = clock.utcnow()
    header, rows = surveys_results.export_rows(survey, event.timezone)
    data = sheets.csv_bytes(header, rows) if fmt == "csv" else sheets.xlsx_bytes(header, rows, sheet="survey")
    audit.record(event.id, "personal_data_exported", actor=current_user, now=now, note="export",
                 params={"set": "survey", "format": fmt, "people": len(rows), "filter": {}})
    db.session.commit()
    day = now.astimezone(ZoneInfo(event.timezone)).strftime("%Y%m%d")
    response = send_file(BytesIO(data), mimetype=FORMATS[fmt].split(";")[0], as_attachment=True,
                         download_name=f"event-{event.id}-survey-{day}.{fmt}", max_age=0)
    response.headers["Content-Type"] = FORMATS[fmt]
    response.headers["Cache-Control"] = "no-store"
    return response


# --- on the statistics pages (web/admin/stats.py) ------------------------------------------------

def _survey_rows(item: dict, sectors: dict) -> list[list[str]]:
    return [[sectors[part["key"]], str(part["came"]), str(part["responded"]), _pct(part["rate"]),
             _number(part["satisfaction"])] for part in item["sectors"]]


def survey_stats_tables(event_ids: list[int], titles: dict[int, str]) -> dict[str, dict]:
    """The survey's numbers for the statistics pages, as (title, header, rows) tables: per event
    (response rate, satisfaction — the first 1–5 question's average —, NPS) and per event by sector.
    Counts and averages only, no names: the view capability is enough."""
    items = [i for i in surveys_results.cross_event(event_ids) if i["has_survey"]]
    if not items:
        return {}
    sectors = sector_names()
    header = [_("Came"), _("Responses"), _("Response rate"), _("Satisfaction (average of 1–5)")]
    tables = {"survey-events": {
        "title": _("Survey: response rate and scores per event"),
        "header": [_("Event"), *header, "NPS"],
        "rows": [[titles.get(i["event_id"], ""), str(i["rates"]["overall"]["came"]),
                  str(i["rates"]["overall"]["responded"]), _pct(i["rates"]["overall"]["rate"]),
                  _number(i["satisfaction"]), _number(i["nps"], 0)] for i in items]}}
    for i in items:
        tables[f"survey-sectors-{i['event_id']}"] = {
            "title": _("Survey by sector: %(event)s", event=titles.get(i["event_id"], "")),
            "header": [field_titles()["sector"], *header], "rows": _survey_rows(i, sectors)}
    return tables


def survey_stats_chart(tables: dict, width: int) -> str:
    """Response rate per event (the series' 第1回, 第2回 … side by side)."""
    table = tables.get("survey-events")
    if not table or len(table["rows"]) < 2:
        return ""
    return charts.bar_chart(
        uid=f"sv{width}", title=table["title"], desc=_("Response rate per event, in percent; the table has the numbers."),
        categories=[row[0] for row in table["rows"]],
        series=[(_("Response rate"), [float(row[3].rstrip("%")) if row[3] != "—" else 0 for row in table["rows"]])],
        width=width)
