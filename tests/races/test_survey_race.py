"""One person sends the survey from several devices at once: one response, and its answers are one
whole set (never rows of two submissions mixed), on both databases.

Each attempt is a real POST of /s/<key> with its own cookies and CSRF token, served by a threaded
server, released together: the INSERT … ON CONFLICT and the conditional UPDATE on the response's
version (domain.insight.surveys.submit) are what keeps it right.
"""

from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import func, select

from eventreg.domain.insight import surveys
from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.models import SurveyAnswer, SurveyKind, SurveyResponse

from .. import factories
from .edge import at_once, client, csrf_from

DEVICES = 8


def test_many_devices_at_once_leave_one_whole_response(app, http_server, make_event):
    now = datetime.now(timezone.utc)
    event = make_event(start=factories.in_days(2))
    survey = surveys.create_survey(event, with_defaults=True, title="アンケート", actor=None, now=now)
    multi = surveys.add_question(survey, {"kind": "multi", "label": "関心", "choices": "a\nb\nc\nd"}, actor=None, now=now)
    person = factories.register_person(event)
    checkin.check_in(person, session_id=None, desk="受付1", now=now)
    db.session.commit()
    key = surveys.invitation_key(person, app.config["SECRET_KEY"])
    q = {x.kind: x.id for x in survey.questions}
    multi_id = multi.id

    def device(n: int):
        http = client(http_server)
        token = csrf_from(http.get(f"/s/{key}").text)
        chosen = ["a", "b", "c", "d"][: 1 + n % 4]

        def job():
            try:
                answer = http.post(f"/s/{key}", data={
                    "csrf_token": token, f"q{q[SurveyKind.scale5]}": str(1 + n % 5),
                    f"q{q[SurveyKind.come_again]}": "yes", f"q{multi_id}": chosen})
            finally:
                http.close()
            return answer.status_code

        return job

    results = at_once([device(n) for n in range(DEVICES)])
    assert Counter(results) == {303: DEVICES}, results
    db.session.rollback()
    response = db.session.scalar(select(SurveyResponse))
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    assert response.version == DEVICES  # every submission was applied, one after another
    scales = db.session.scalars(select(SurveyAnswer.value_number).where(
        SurveyAnswer.question_id == q[SurveyKind.scale5])).all()
    chosen = db.session.scalars(select(SurveyAnswer.value_text).where(SurveyAnswer.question_id == multi_id)).all()
    assert len(scales) == 1  # one submission's answer, not several
    n = scales[0] - 1  # which device's set it is: its multi choices must be that device's, whole
    assert sorted(chosen) in [["a", "b", "c", "d"][: 1 + m % 4] for m in range(DEVICES) if m % 5 == n]
