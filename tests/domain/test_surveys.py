"""Surveys: who may answer, the checks, one response per person, editable until the close, the
numbers (rates by sector and mode, averages, NPS), the export's schema, retention and deletion."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from eventreg.domain.backoffice import events, exports
from eventreg.domain.backoffice.event_checks import InvalidValues
from eventreg.domain.backoffice.roster import ListFilter
from eventreg.domain.communication import opt_outs
from eventreg.domain.errors import DomainError
from eventreg.domain.insight import surveys, surveys_results
from eventreg.domain.privacy import person_requests, retention
from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.models import AttendanceMode, Sector, Survey, SurveyAnswer, SurveyKind, SurveyQuestion, SurveyResponse

from .. import factories

NOW = datetime.now(timezone.utc)
SECRET = "test-secret"


def _came(registration):
    checkin.check_in(registration, session_id=None, desk="受付1", now=NOW)
    db.session.commit()
    return registration


def _world(make_event, *, people=4, come=3, sectors=(Sector.npo, Sector.company, Sector.npo, Sector.government)):
    event = make_event(start=factories.in_days(2))
    survey = surveys.create_survey(event, with_defaults=True, title="アンケート", actor=None, now=NOW)
    db.session.commit()
    regs = [factories.register_person(event, sector=sectors[i % len(sectors)]) for i in range(people)]
    for r in regs[:come]:
        _came(r)
    return event, survey, regs


def _form(survey, scale="5", again="yes", nps="10", text="とても参考になりました"):
    q = {x.kind: x for x in survey.questions}
    return {f"q{q[SurveyKind.scale5].id}": [scale], f"q{q[SurveyKind.come_again].id}": [again],
            f"q{q[SurveyKind.nps].id}": [nps], f"q{q[SurveyKind.text].id}": [text]}


def test_the_default_set_is_a_seminars_four_questions(make_event):
    _event, survey, _regs = _world(make_event, people=0, come=0)
    assert [q.kind for q in survey.questions] == [SurveyKind.scale5, SurveyKind.text, SurveyKind.come_again,
                                                  SurveyKind.nps]
    assert survey.questions[0].label.startswith("本日のセミナーの満足度") and survey.questions[0].label_en
    with pytest.raises(DomainError, match="survey_exists"):
        surveys.create_survey(_event, with_defaults=False, title="x", actor=None, now=NOW)


def test_the_key_names_one_registration_and_nothing_else(make_event):
    _event, _survey, regs = _world(make_event, people=2, come=2)
    key = surveys.invitation_key(regs[0], SECRET)
    assert surveys.find_by_key(key, SECRET).id == regs[0].id
    assert regs[0].token not in key
    number, proof = key.split(".")
    other = f"{regs[1].id}.{proof}"  # one person's proof on another's id
    for bad in (other, key + "x", key[:-1], "", ".", f"{number}.", "x" * 200, f"-{key}", key.replace(".", ""),
                surveys.invitation_key(regs[0], "another-secret"), opt_outs.key(regs[0], SECRET)):
        assert surveys.find_by_key(bad, SECRET) is None
    assert opt_outs.find(key, SECRET) is None  # the survey's key stops no messages either


def test_only_people_who_came_may_answer_and_only_while_open(make_event):
    _event, survey, regs = _world(make_event, people=2, come=1)
    assert surveys.state(survey, regs[0], NOW) == "open"
    assert surveys.state(survey, regs[1], NOW) == "not_attended"
    with pytest.raises(DomainError, match="survey_not_attended"):
        surveys.submit(survey, regs[1], _form(survey), now=NOW, language="ja")
    after = survey.closes_at + timedelta(seconds=1)
    assert surveys.state(survey, regs[0], after) == "closed"
    with pytest.raises(DomainError, match="survey_closed"):
        surveys.submit(survey, regs[0], _form(survey), now=after, language="ja")
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 0


def test_bad_answers_are_named_per_question_and_nothing_is_stored(make_event):
    _event, survey, regs = _world(make_event, people=1, come=1)
    scale, text, again, nps = survey.questions
    for bad, field in ((_form(survey, scale="6"), scale), (_form(survey, scale=""), scale),
                       (_form(survey, again="perhaps"), again), (_form(survey, nps="11"), nps),
                       (_form(survey, nps="-1"), nps), (_form(survey, scale="５"), scale),
                       (_form(survey, text="x" * 2001), text), (_form(survey, text="a\x00b"), text)):
        with pytest.raises(InvalidValues) as caught:
            surveys.submit(survey, regs[0], bad, now=NOW, language="ja")
        assert [p.field for p in caught.value.problems] == [f"q{field.id}"]
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 0
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0


def test_one_response_per_person_changed_until_the_close(make_event):
    _event, survey, regs = _world(make_event, people=1, come=1)
    first = surveys.submit(survey, regs[0], _form(survey, scale="3"), now=NOW, language="ja")
    db.session.commit()
    later = NOW + timedelta(hours=2)
    second = surveys.submit(survey, regs[0], _form(survey, scale="4", text=""), now=later, language="en")
    db.session.commit()
    assert first.id == second.id and second.version == 2
    assert second.submitted_at == NOW and second.updated_at == later and second.language == "en"
    answers = surveys.answers_of(second)
    assert answers[survey.questions[0].id] == 4 and survey.questions[1].id not in answers
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1


def test_multi_choice_answers_are_one_row_each_and_counted(make_event):
    _event, survey, regs = _world(make_event, people=3, come=3)
    q = surveys.add_question(survey, {"kind": "multi", "label": "関心のある分野", "choices": "教育\n福祉\n環境",
                                      "choices_en": "Education\nWelfare\nEnvironment"}, actor=None, now=NOW)
    db.session.commit()
    picks = [["教育", "環境"], ["環境"], ["教育", "教育"]]
    for r, chosen in zip(regs, picks, strict=True):
        surveys.submit(survey, r, {**_form(survey), f"q{q.id}": chosen}, now=NOW, language="ja")
    db.session.commit()
    result = next(x for x in surveys_results.question_results(survey) if x["question"].id == q.id)
    assert result["counts"] == [("教育", 2), ("福祉", 0), ("環境", 2)] and result["answered"] == 3
    with pytest.raises(InvalidValues):
        surveys.submit(survey, regs[0], {**_form(survey), f"q{q.id}": ["原子力"]}, now=NOW, language="ja")
    db.session.rollback()
    with pytest.raises(DomainError, match="question_choice_in_use"):
        surveys.update_question(q, {"kind": "multi", "label": "分野", "choices": "教育\n福祉"}, actor=None, now=NOW)


def test_rates_by_sector_and_mode_averages_and_nps(make_event):
    event, survey, regs = _world(make_event, people=5, come=4,
                                 sectors=(Sector.npo, Sector.company, Sector.npo, Sector.government, Sector.npo))
    # npo: 2 came (0, 2), both answer; company: 1 came, answers; government: came, does not answer
    for r, scale, score in ((regs[0], "5", "10"), (regs[1], "3", "6"), (regs[2], "4", "9")):
        surveys.submit(survey, r, _form(survey, scale=scale, nps=score), now=NOW, language="ja")
    db.session.commit()
    rates = surveys_results.response_rates(event.id, survey.id)
    assert rates["overall"] == {"key": "all", "came": 4, "responded": 3, "rate": 0.75}
    sectors = {p["key"]: (p["came"], p["responded"]) for p in rates["sectors"]}
    assert sectors["npo"] == (2, 2) and sectors["company"] == (1, 1) and sectors["government"] == (1, 0)
    assert sectors["university"] == (0, 0)
    assert {p["key"]: p["came"] for p in rates["modes"]} == {"onsite": 4, "online": 0}
    results = {r["question"].kind: r for r in surveys_results.question_results(survey)}
    assert results[SurveyKind.scale5]["average"] == pytest.approx(4.0)
    assert results[SurveyKind.nps]["nps"] == pytest.approx(100 * (2 - 1) / 3)
    assert dict(results[SurveyKind.come_again]["counts"]) == {"yes": 3, "maybe": 0, "no": 0}
    # the same people as the attendee export's checked-in rows
    header, body = exports.export(event, "attendees", ListFilter(), now=NOW, labels={})
    checked = header.index("column.checked_in_at") if "column.checked_in_at" in header else header.index("checked_in_at")
    assert sum(1 for row in body if row[checked]) == rates["overall"]["came"]
    columns, rows = surveys_results.export_rows(survey, event.timezone)
    assert len(rows) == rates["overall"]["responded"]
    assert columns[:len(surveys_results.EXPORT_COLUMNS)] == list(surveys_results.EXPORT_COLUMNS)
    assert columns[len(surveys_results.EXPORT_COLUMNS):] == [f"q{q.id}" for q in survey.questions]
    cross = surveys_results.cross_event([event.id])[0]
    assert cross["satisfaction"] == pytest.approx(4.0)
    assert {s["key"]: s["satisfaction"] for s in cross["sectors"]}["npo"] == pytest.approx(4.5)


def test_an_undone_check_in_takes_the_response_out_of_every_number(make_event):
    event, survey, regs = _world(make_event, people=1, come=1)
    surveys.submit(survey, regs[0], _form(survey), now=NOW, language="ja")
    db.session.commit()
    checkin.undo(regs[0].id, event=event, desk="受付1", user_id=None, now=NOW)
    db.session.commit()
    assert surveys_results.response_rates(event.id, survey.id)["overall"]["responded"] == 0
    assert surveys_results.export_rows(survey, event.timezone)[1] == []


def test_the_purge_removes_free_text_and_keeps_the_scores(make_event):
    event, survey, regs = _world(make_event, people=2, come=2)
    surveys.submit(survey, regs[0], _form(survey, text="鬼頭さんの話が良かった"), now=NOW, language="ja")
    db.session.commit()
    assert retention.purge(event.id, NOW, dry_run=True)["survey_answer"] == 1  # the privacy page's preview
    counts = retention.purge(event.id, NOW)
    db.session.commit()
    assert counts["survey_answer"] == 1
    texts = db.session.scalars(select(SurveyAnswer.value_text).where(SurveyAnswer.value_text.is_not(None))).all()
    assert "鬼頭さんの話が良かった" not in texts
    results = {r["question"].kind: r for r in surveys_results.question_results(survey)}
    assert results[SurveyKind.scale5]["average"] == 5 and surveys_results.free_texts(survey) == {}


def test_a_persons_download_and_deletion_include_their_answers(make_event):
    event, survey, regs = _world(make_event, people=2, come=2)
    for r in regs:
        surveys.submit(survey, r, _form(survey), now=NOW, language="ja")
    db.session.commit()
    data = person_requests.export_person(regs[0].email)
    answered = data["registrations"][0]["survey_responses"][0]["answers"]
    assert {"question": survey.questions[0].label, "answer": 5} in answered
    counts = person_requests.delete_person(regs[0].email, NOW)
    db.session.commit()
    assert counts["survey_response"] == 1
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    assert surveys_results.response_rates(event.id, survey.id)["overall"]["responded"] == 1


def test_the_rate_by_attendance_mode_counts_online_check_ins(make_event):
    start = factories.in_days(2)
    event = make_event(start=start, sessions=[
        {"date": start.date().isoformat(), "doors": "13:30", "start": "14:00", "end": "17:00", "capacity": 30},
        {"date": start.date().isoformat(), "doors": "13:30", "start": "14:00", "end": "17:00", "capacity": 300}])
    onsite, online = event.sessions
    online.attendance_mode, online.hybrid_of_id = AttendanceMode.online, onsite.id
    survey = surveys.create_survey(event, with_defaults=True, title="アンケート", actor=None, now=NOW)
    db.session.commit()
    here = [factories.register_person(event, 0) for _ in range(2)]
    there = [factories.register_person(event, 1) for _ in range(3)]
    for r in here + there:
        _came(r)
    for r in (here[0], there[0], there[1]):
        surveys.submit(survey, r, _form(survey), now=NOW, language="ja")
    db.session.commit()
    modes = {p["key"]: (p["came"], p["responded"]) for p in surveys_results.response_rates(event.id, survey.id)["modes"]}
    assert modes == {"onsite": (2, 1), "online": (3, 2)}
    columns, rows = surveys_results.export_rows(survey, event.timezone)
    mode = columns.index("attendance_mode")
    assert sorted(row[mode] for row in rows) == ["online", "online", "onsite"]


def test_deleting_an_event_deletes_its_survey(make_event):
    event, _survey, _regs = _world(make_event, people=0, come=0)
    events.delete_event(event, actor=None, now=NOW)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 0
    assert db.session.scalar(select(func.count()).select_from(SurveyQuestion)) == 0
