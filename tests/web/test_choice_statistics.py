"""The 統計 tab counts the answers to each choice question (people still registered: a cancelled
registration's answer is not counted), with a chart, a table and a CSV."""

from __future__ import annotations

import csv
import io

from eventreg.extensions import db
from eventreg.models import Question, QuestionKind, Registration, Status

from .. import factories


def test_choice_questions_get_counts_and_a_chart(client, ctx, login):
    event = factories.make_event()
    event.questions.extend([
        Question(position=1, kind=QuestionKind.single, label="何で知りましたか", help="", choices=["SNS", "メール", "知人"],
                 required=False, hidden=False),
        Question(position=2, kind=QuestionKind.multiple, label="関心のある分野", help="", choices=["教育", "福祉"],
                 required=False, hidden=False),
        Question(position=3, kind=QuestionKind.text, label="自由記述", help="", choices=[], required=False, hidden=False)])
    db.session.commit()
    single, multiple, text = (str(q.id) for q in event.questions)
    for answers in ({single: "SNS", multiple: ["教育", "福祉"]}, {single: "SNS", multiple: ["福祉"]},
                    {single: "メール"}, {}):
        factories.register_person(event, answers=answers)
    gone = factories.register_person(event, answers={single: "知人", multiple: ["教育"]})
    db.session.get(Registration, gone.id).status = Status.cancelled
    db.session.commit()
    login(factories.make_staff("viewer", [event]))
    html = client.get(f"/admin/events/{event.id}/statistics").get_data(as_text=True)
    assert f'id="stat-choice-{single}"' in html and f'id="stat-choice-{multiple}"' in html
    assert f'id="stat-choice-{text}"' not in html
    section = html.split(f'id="stat-choice-{single}"')[1].split("</section>")[0]
    assert "回答：何で知りましたか" in section and "<svg" in section
    def rows(qid):
        response = client.get(f"/admin/events/{event.id}/statistics/choice-{qid}.csv")
        assert response.status_code == 200
        return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))[1:]
    assert rows(single) == [["SNS", "2"], ["メール", "1"], ["知人", "0"], ["回答なし", "1"]]
    assert rows(multiple) == [["教育", "1"], ["福祉", "2"], ["回答なし", "2"]]
    assert client.get(f"/admin/events/{event.id}/statistics/choice-{text}.csv").status_code == 404
    assert client.get(f"/admin/events/{event.id}/statistics/choice-999999.csv").status_code == 404
