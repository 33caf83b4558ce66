"""Survey pages: the attendee's /s/<key> (who may answer, checks, language, one key opens one
person's answers) and the organizer's builder, results and export (who sees what)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from eventreg import clock
from eventreg.domain.access.permissions import GRANTS
from eventreg.domain.insight import surveys
from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.models import AuditEntry, EventRole, Sector, SurveyAnswer, SurveyKind, SurveyQuestion, SurveyResponse

from .. import factories
from .conftest import csrf_token

NOW = datetime.now(timezone.utc)


@pytest.fixture
def world(app, ctx):
    event = factories.make_event(start=factories.in_days(2))
    survey = surveys.create_survey(event, with_defaults=True, title="セミナーアンケート", actor=None, now=NOW)
    db.session.commit()
    came = factories.register_person(event, family_name="来田", given_name="花子", sector=Sector.npo)
    english = factories.register_person(event, family_name="Smith", given_name="Jo", family_kana="スミス",
                                        given_kana="ジョー", language="en", sector=Sector.company)
    absent = factories.register_person(event, family_name="欠席", given_name="太郎")
    for r in (came, english):
        checkin.check_in(r, session_id=None, desk="受付1", now=NOW)
    db.session.commit()
    secret = app.config["SECRET_KEY"]
    keys = {name: surveys.invitation_key(r, secret) for name, r in
            (("came", came), ("english", english), ("absent", absent))}
    return {"event": event, "survey": survey, "keys": keys, "came": came, "english": english}


def _answers(survey, **over):
    q = {x.kind: x for x in survey.questions}
    data = {f"q{q[SurveyKind.scale5].id}": "4", f"q{q[SurveyKind.come_again].id}": "yes",
            f"q{q[SurveyKind.nps].id}": "9", f"q{q[SurveyKind.text].id}": "事例が具体的で役に立った"}
    data.update(over)
    return data


def _post(client, key, data):
    return client.post(f"/s/{key}", data={**data, "csrf_token": csrf_token(client, f"/s/{key}")})


def test_an_attendee_answers_then_changes_the_answers(client, world):
    key = world["keys"]["came"]
    page = client.get(f"/s/{key}")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    html = page.get_data(as_text=True)
    assert "本日のセミナーの満足度" in html and 'type="radio"' in html
    answered = _post(client, key, _answers(world["survey"]))
    assert answered.status_code == 303
    again = client.get(answered.headers["Location"]).get_data(as_text=True)
    assert "保存しました" in again and "checked" in again
    _post(client, key, _answers(world["survey"], **{f"q{world['survey'].questions[0].id}": "2"}))
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    numbers = db.session.scalars(select(SurveyAnswer.value_number).where(
        SurveyAnswer.question_id == world["survey"].questions[0].id)).all()
    assert numbers == [2]


def test_bad_answers_are_words_on_the_page_and_nothing_is_stored(client, world):
    survey = world["survey"]
    scale = survey.questions[0]
    for bad in ({f"q{scale.id}": "9"}, {f"q{scale.id}": ""}, {f"q{scale.id}": ["1", "2"]},
                {f"q{survey.questions[2].id}": "<script>"}):
        answer = _post(client, world["keys"]["came"], _answers(survey, **bad))
        assert answer.status_code == 400
        html = answer.get_data(as_text=True)
        assert "回答を確認してください" in html and "<script>" not in html
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0


def test_without_csrf_nothing_is_stored(client, world):
    answer = client.post(f"/s/{world['keys']['came']}", data=_answers(world["survey"]))
    assert answer.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 0


def test_someone_who_did_not_come_gets_a_polite_page(client, world):
    page = client.get(f"/s/{world['keys']['absent']}")
    assert page.status_code == 200 and "出席された方" in page.get_data(as_text=True)
    assert 'type="radio"' not in page.get_data(as_text=True)


def test_english_registrants_read_english(client, world):
    page = client.get(f"/s/{world['keys']['english']}?lang=en").get_data(as_text=True)
    assert "How satisfied were you with today&#39;s seminar?" in page and "Send my answers" in page


def test_a_closed_survey_is_read_only_with_a_clear_message(client, world):
    key = world["keys"]["came"]
    _post(client, key, _answers(world["survey"]))
    world["survey"].closes_at = NOW - timedelta(minutes=1)
    db.session.commit()
    page = client.get(f"/s/{key}").get_data(as_text=True)
    assert "締め切りました" in page and "disabled" in page and "checked" in page
    token = csrf_token(client, f"/s/{key}")
    refused = client.post(f"/s/{key}", data={**_answers(world["survey"], **{
        f"q{world['survey'].questions[0].id}": "1"}), "csrf_token": token})
    assert refused.status_code == 409
    assert db.session.scalars(select(SurveyAnswer.value_number).where(
        SurveyAnswer.question_id == world["survey"].questions[0].id)).all() == [4]


def test_one_persons_key_opens_nothing_of_anothers(client, world):
    mine, theirs = world["keys"]["came"], world["keys"]["english"]
    forged = f"{world['english'].id}.{mine.split('.')[1]}"
    for key in (forged, mine + "A", "1", "x.y", "9" * 11 + ".abc", "%E3%81%82.x"):
        assert client.get(f"/s/{key}").status_code == 404
        assert client.post(f"/s/{key}", data=_answers(world["survey"])).status_code in (400, 404)
    _post(client, mine, _answers(world["survey"], **{f"q{world['survey'].questions[1].id}": "私だけの感想"}))
    assert "私だけの感想" not in client.get(f"/s/{theirs}").get_data(as_text=True)


def test_the_results_page_shows_names_only_with_the_personal_data_capability(client, world, login):
    _post(client, world["keys"]["came"], _answers(world["survey"]))
    event = world["event"]
    viewer = factories.make_staff("viewer", events=[event])
    editor = factories.make_staff("editor", events=[event])
    login(viewer)
    page = client.get(f"/admin/events/{event.id}/survey").get_data(as_text=True)
    assert 'id="survey-came">2<' in page and 'id="survey-responded">1<' in page and "50%" in page
    assert "事例が具体的" not in page and "来田" not in page
    assert "/survey/preview" not in page and "/survey/edit" not in page  # links a viewer could not open
    assert client.get(f"/admin/events/{event.id}/survey/responses.csv").status_code == 403
    client.get("/logout")
    login(editor)
    page = client.get(f"/admin/events/{event.id}/survey").get_data(as_text=True)
    assert "事例が具体的で役に立った" in page and "来田 花子" in page and "<svg" in page


def test_the_export_has_the_fixed_columns_and_is_audited(client, world, login):
    _post(client, world["keys"]["came"], _answers(world["survey"]))
    event, survey = world["event"], world["survey"]
    login(factories.make_staff("editor", events=[event]))
    answer = client.get(f"/admin/events/{event.id}/survey/responses.csv")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(answer.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["response_id", "registration_id", "family_name"]
    assert rows[0][-4:] == [f"q{q.id}" for q in survey.questions]
    assert len(rows) == 2 and rows[1][2] == "来田" and rows[1][-4:] == ["4", "事例が具体的で役に立った", "yes", "9"]
    assert world["came"].token not in answer.get_data(as_text=True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "personal_data_exported"))
    assert entry.note_params["set"] == "survey" and entry.note_params["people"] == 1
    assert client.get(f"/admin/events/{event.id}/survey/responses.xlsx").status_code == 200


def test_the_builder_adds_changes_moves_and_deletes_after_asking(client, world, login):
    event, survey = world["event"], world["survey"]
    login(factories.make_staff("editor", events=[event]))
    base = f"/admin/events/{event.id}/survey"
    token = csrf_token(client, f"{base}/edit")
    added = client.post(f"{base}/questions", data={"csrf_token": token, "kind": "single", "label": "所属の分野",
                                                    "choices": "教育\n福祉", "choices_en": "Education"})
    assert added.status_code == 400 and "English" in added.get_data(as_text=True) or "英語" in added.get_data(as_text=True)
    added = client.post(f"{base}/questions", data={"csrf_token": token, "kind": "single", "label": "所属の分野",
                                                    "choices": "教育\n福祉", "required": "y"})
    assert added.status_code == 303
    db.session.expire_all()
    new = survey.questions[-1]
    new_id = new.id
    assert new.label == "所属の分野" and new.required
    client.post(f"{base}/questions/{new.id}/move", data={"csrf_token": token, "direction": "up"})
    db.session.expire_all()
    assert survey.questions[-2].id == new.id
    asked = client.get(f"{base}/questions/{new.id}/delete")
    assert asked.status_code == 200 and "所属の分野" in asked.get_data(as_text=True)
    assert len(survey.questions) == 5  # asking deleted nothing
    client.post(f"{base}/questions/{new.id}/delete", data={"csrf_token": token, "confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(SurveyQuestion, new_id) is None
    preview = client.get(f"{base}/preview").get_data(as_text=True)
    assert "本日のセミナーの満足度" in preview and 'type="submit"' not in preview


def test_a_survey_is_created_from_the_results_page(client, login, ctx):
    event = factories.make_event()
    login(factories.make_staff("editor", events=[event]))
    base = f"/admin/events/{event.id}/survey"
    assert "まだアンケートがありません" in client.get(base).get_data(as_text=True)
    made = client.post(base, data={"csrf_token": csrf_token(client, base), "start": "defaults"})
    assert made.status_code == 303
    assert len(surveys.survey_of(event.id).questions) == 4
    assert clock.utcnow() < surveys.survey_of(event.id).closes_at


def test_the_statistics_pages_show_the_surveys_rates_and_scores_by_sector(client, world, login):
    _post(client, world["keys"]["came"], _answers(world["survey"]))
    event = world["event"]
    second = factories.make_event(start=factories.in_days(3), title="第2回 セミナー")
    surveys.create_survey(second, with_defaults=True, title="第2回アンケート", actor=None, now=NOW)
    db.session.commit()
    viewer = factories.make_staff("viewer", events=[event, second])
    login(viewer)
    page = client.get(f"/admin/events/{event.id}/statistics").get_data(as_text=True)
    assert 'id="survey-events"' in page and "50%" in page and "4.00" in page
    cross = client.get("/admin/statistics").get_data(as_text=True)
    assert "第2回 セミナー" in cross and 'id="survey-sectors-' in cross and "<svg" in cross
    npo = cross.split(f'id="survey-sectors-{event.id}"')[1].split("</table>")[0]
    assert "NPO" in npo and "100%" in npo  # the one NPO attendee answered


def test_roles_see_the_survey_pages_their_capability_allows(client, world, login):
    event = world["event"]
    base = f"/admin/events/{event.id}/survey"
    expected = {"viewer": {base: 200, f"{base}/edit": 403, f"{base}/responses.csv": 403},
                "reception": {base: 403, f"{base}/edit": 403, f"{base}/responses.csv": 403},
                "editor": {base: 200, f"{base}/edit": 200, f"{base}/responses.csv": 200}}
    for role, urls in expected.items():
        login(factories.make_staff(role, events=[event]))
        assert {url: client.get(url).status_code for url in urls} == urls, role
        client.get("/logout")
    stranger = factories.make_staff("owner", events=[factories.make_event()])
    login(stranger)
    assert client.get(base).status_code == 404


def test_the_survey_settings_refuse_bad_times_with_words(client, world, login):
    event, survey = world["event"], world["survey"]
    login(factories.make_staff("editor", events=[event]))
    url = f"/admin/events/{event.id}/survey/edit"
    token = csrf_token(client, url)
    closes = survey.closes_at
    for opens_at, closes_at in (("0001-01-01T00:00", "2030-01-01T10:00"), ("x", "2030-01-01T10:00"),
                                ("2030-01-02T10:00", "2030-01-01T10:00"), ("", "")):
        answer = client.post(url, data={"csrf_token": token, "title": "t", "intro": "", "opens_at": opens_at,
                                        "closes_at": closes_at})
        assert answer.status_code == 400
    db.session.expire_all()
    assert survey.closes_at == closes
    saved = client.post(url, data={"csrf_token": token, "title": "新しい題", "intro": "ご協力ください",
                                   "opens_at": "", "closes_at": "2030-01-01T10:00"})
    assert saved.status_code == 303
    db.session.expire_all()
    assert survey.title == "新しい題" and survey.closes_at == datetime(2030, 1, 1, 1, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("role", ["owner", "editor", "reception", "viewer"])
def test_every_survey_route_answers_each_role_as_its_capability_says(app, client, world, login, role):
    """Walks the app's survey routes (read from the url map: a new one is walked too) with the
    survey in place; a refused POST changes nothing, so it is sent too."""
    event, survey = world["event"], world["survey"]
    login(factories.make_staff(role, events=[event]))
    token = csrf_token(client, "/staff")
    granted = GRANTS[EventRole(role)]
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.survey")]
    assert len(rules) >= 9
    for rule in rules:
        needs = app.view_functions[rule.endpoint].access
        values = {"event_id": event.id, "survey_question_id": survey.questions[0].id, "fmt": "csv"}
        url = rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "POST" and needs in granted:
                continue  # allowed POSTs change the survey: the tests above send them
            answer = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            expected = 403 if needs not in granted else None
            assert (answer.status_code == expected) if expected else answer.status_code in (200, 303), (url, method, role)
    assert len(surveys.survey_of(event.id).questions) == 4
