"""A survey's numbers: response rate (overall, by sector, by attendance mode), each question's
counts, averages and NPS, the free-text answers, the export's rows, and the same across events.

Definitions (docs/statistics.md says the same in words):
- who is asked: the people who came (domain.insight.counts.CHECKED_IN, on site or online), the
  same people the attendee export shows as checked in; a response counts while its person is
  among them (a check-in undone after answering takes the response out of every number);
- response rate = responses / people who came;
- average: the mean of the answers given (1–5, 0–10); nobody's blank counts as a zero;
- NPS = % promoters (9–10) − % detractors (0–6) of the people who answered that question.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from eventreg.domain.backoffice.exports import MULTI_JOIN
from eventreg.domain.insight import counts
from eventreg.domain.insight.surveys import COME_AGAIN, SCALES, answers_of
from eventreg.extensions import db
from eventreg.models import (
    AttendanceMode,
    EventSession,
    Registration,
    Sector,
    Survey,
    SurveyAnswer,
    SurveyKind,
    SurveyQuestion,
    SurveyResponse,
)

SECTORS = [s.value for s in Sector]
MODES = [m.value for m in AttendanceMode]
# The export's fixed columns, then one per question: "q<question id>" (ids never change or come back).
EXPORT_COLUMNS = ("response_id", "registration_id", "family_name", "given_name", "organization", "sector",
                  "session_id", "attendance_mode", "language", "submitted_at", "updated_at")


def _code(value) -> str:
    return value.value if hasattr(value, "value") else value


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def nps(values: Mapping[int, int]) -> float | None:
    """NPS (−100 … 100) from a distribution of 0–10 answers."""
    total = sum(values.values())
    if not total:
        return None
    promoters = sum(n for v, n in values.items() if v >= 9)
    detractors = sum(n for v, n in values.items() if v <= 6)
    return 100 * (promoters - detractors) / total


def _answered_responses(survey_id: int):
    """The responses that count: their person came (a subquery of response ids)."""
    return (select(SurveyResponse.id).join(Registration, Registration.id == SurveyResponse.registration_id)
            .where(SurveyResponse.survey_id == survey_id, counts.CHECKED_IN))


def _rates(event_id: int, survey_id: int | None, group) -> dict:
    """{group value: (came, responded)} over the people who came."""
    responded = func.count(SurveyResponse.id)
    query = (select(group, func.count(Registration.id), responded)
             .select_from(Registration).join(EventSession, EventSession.id == Registration.session_id)
             .outerjoin(SurveyResponse, (SurveyResponse.registration_id == Registration.id)
                        & (SurveyResponse.survey_id == (survey_id or 0)))
             .where(Registration.event_id == event_id, counts.CHECKED_IN).group_by(group))
    return {_code(value): (came, answered) for value, came, answered in db.session.execute(query)}


def response_rates(event_id: int, survey_id: int | None) -> dict:
    """{"overall": {...}, "sectors": [...], "modes": [...]}, each part {came, responded, rate}."""
    def part(key, came_answered):
        came, answered = came_answered
        return {"key": key, "came": came, "responded": answered, "rate": rate(answered, came)}

    by_sector = _rates(event_id, survey_id, Registration.sector)
    by_mode = _rates(event_id, survey_id, EventSession.attendance_mode)
    total = (sum(c for c, _a in by_sector.values()), sum(a for _c, a in by_sector.values()))
    return {"overall": part("all", total),
            "sectors": [part(s, by_sector.get(s, (0, 0))) for s in SECTORS],
            "modes": [part(m, by_mode.get(m, (0, 0))) for m in MODES]}


def question_results(survey: Survey) -> list[dict]:
    """Per question: {"question", "answered", "counts": [(value, n)], "average", "nps"}."""
    counted = _answered_responses(survey.id)
    rows = db.session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.value_number, SurveyAnswer.value_text,
               func.count(), func.count(func.distinct(SurveyAnswer.response_id)))
        .where(SurveyAnswer.response_id.in_(counted))
        .group_by(SurveyAnswer.question_id, SurveyAnswer.value_number, SurveyAnswer.value_text))
    tally: dict[int, dict] = defaultdict(dict)
    for qid, number, text_value, n, _people in rows:
        tally[qid][number if number is not None else text_value] = n
    answered = dict(db.session.execute(
        select(SurveyAnswer.question_id, func.count(func.distinct(SurveyAnswer.response_id)))
        .where(SurveyAnswer.response_id.in_(counted)).group_by(SurveyAnswer.question_id)).all())
    out = []
    for q in survey.questions:
        values = tally.get(q.id, {})
        result = {"question": q, "answered": answered.get(q.id, 0), "counts": [], "average": None, "nps": None}
        if q.kind in SCALES:
            result["counts"] = [(v, values.get(v, 0)) for v in SCALES[q.kind]]
            given = sum(n for _v, n in result["counts"])
            result["average"] = sum(v * n for v, n in result["counts"]) / given if given else None
            if q.kind == SurveyKind.nps:
                result["nps"] = nps(dict(result["counts"]))
        elif q.kind == SurveyKind.come_again:
            result["counts"] = [(v, values.get(v, 0)) for v in COME_AGAIN]
        elif q.kind in (SurveyKind.single, SurveyKind.multi):
            result["counts"] = [(c, values.get(c, 0)) for c in q.choices]
        out.append(result)
    return out


def free_texts(survey: Survey) -> dict[int, list[dict]]:
    """question id -> [{"name", "organization", "sector", "text"}] of the people who came, in answer order."""
    query = (select(SurveyAnswer.question_id, SurveyAnswer.value_text, Registration.family_name,
                    Registration.given_name, Registration.organization, Registration.sector)
             .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
             .join(Registration, Registration.id == SurveyResponse.registration_id)
             .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
             .where(SurveyResponse.survey_id == survey.id, counts.CHECKED_IN, SurveyQuestion.kind == SurveyKind.text)
             .order_by(SurveyResponse.submitted_at, SurveyAnswer.id))
    out: dict[int, list[dict]] = defaultdict(list)
    for qid, text_value, family, given, organization, sector in db.session.execute(query):
        out[qid].append({"name": f"{family} {given}".strip(), "organization": organization,
                         "sector": _code(sector), "text": text_value})
    return dict(out)


def _cell(value) -> str:
    if isinstance(value, list):
        return MULTI_JOIN.join(value)
    return "" if value is None else str(value)


def export_rows(survey: Survey, timezone: str) -> tuple[list[str], list[list[str]]]:
    """The export: a header of column ids (EXPORT_COLUMNS, then "q<id>" per question) and one row
    per counted response, oldest first. Codes, not words (sector, mode, come_again: yes/maybe/no),
    times "YYYY-MM-DD HH:MM" in the event's zone: a schema a spreadsheet or a script can rely on."""
    zone = ZoneInfo(timezone)
    header = [*EXPORT_COLUMNS, *(f"q{q.id}" for q in survey.questions)]
    query = (select(SurveyResponse, Registration, EventSession.attendance_mode)
             .join(Registration, Registration.id == SurveyResponse.registration_id)
             .join(EventSession, EventSession.id == Registration.session_id)
             .where(SurveyResponse.survey_id == survey.id, counts.CHECKED_IN)
             .order_by(SurveyResponse.submitted_at, SurveyResponse.id))
    rows = []
    for response, r, mode in db.session.execute(query):
        answers = answers_of(response)
        rows.append([str(response.id), str(r.id), r.family_name, r.given_name, r.organization, _code(r.sector),
                     str(r.session_id), _code(mode), response.language, _local(response.submitted_at, zone),
                     _local(response.updated_at, zone), *(_cell(answers.get(q.id)) for q in survey.questions)])
    return header, rows


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


# --- across events -----------------------------------------------------------------------------

def _first_of(survey: Survey | None, kind: SurveyKind) -> SurveyQuestion | None:
    return next((q for q in survey.questions if q.kind == kind), None) if survey else None


def _averages_by_sector(question: SurveyQuestion | None) -> dict[str, tuple[float, int]]:
    """sector -> (average, answers) of one scale question, over the people who came."""
    if question is None:
        return {}
    query = (select(Registration.sector, func.avg(SurveyAnswer.value_number), func.count())
             .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
             .join(Registration, Registration.id == SurveyResponse.registration_id)
             .where(SurveyAnswer.question_id == question.id, counts.CHECKED_IN,
                    SurveyAnswer.value_number.is_not(None))
             .group_by(Registration.sector))
    return {_code(sector): (float(avg), n) for sector, avg, n in db.session.execute(query)}


def cross_event(event_ids: list[int]) -> list[dict]:
    """Per event, in the given order: response rate, the satisfaction average (its first 1–5
    question), the NPS (its first 0–10 question), and per sector the rate and the satisfaction."""
    surveys = {s.event_id: s for s in db.session.scalars(select(Survey).where(Survey.event_id.in_(event_ids)))}
    out = []
    for event_id in event_ids:
        survey = surveys.get(event_id)
        rates = response_rates(event_id, survey.id if survey else None)
        results = {r["question"].id: r for r in question_results(survey)} if survey else {}
        scale, promoter = _first_of(survey, SurveyKind.scale5), _first_of(survey, SurveyKind.nps)
        by_sector = _averages_by_sector(scale)
        out.append({
            "event_id": event_id, "has_survey": survey is not None, "rates": rates,
            "satisfaction": results[scale.id]["average"] if scale else None,
            "nps": results[promoter.id]["nps"] if promoter else None,
            "sectors": [{**part, "satisfaction": by_sector.get(part["key"], (None, 0))[0]}
                        for part in rates["sectors"]],
        })
    return out
