"""The back-office paper cuts of issue 16 as a person sees them, on a desktop and a phone:
/staff (upcoming first, counts), the copy page, a delete confirmation, the 統計 tab's choice
question. Full-page screenshots go to $EVENTREG_SHOTS."""

from __future__ import annotations

from eventreg.extensions import db
from eventreg.models import Question, QuestionKind

from .. import factories
from .organizer import sign_in


def _seed(app):
    with app.app_context():
        past = factories.make_event(title="11月の月例セミナー", start=factories.in_days(-25))
        event = factories.make_event(title="12月の月例セミナー", start=factories.in_days(12), capacity=3)
        event.questions.append(Question(position=1, kind=QuestionKind.single, label="このイベントを何で知りましたか",
                                        help="", choices=["メールマガジン", "SNS", "知人の紹介", "その他"],
                                        required=False, hidden=False))
        db.session.commit()
        qid = str(event.questions[0].id)
        for choice in ("SNS", "SNS", "知人の紹介", "メールマガジン"):
            factories.register_person(event, answers={qid: choice})
        user = factories.make_staff("organizer", [past, event], email="organizer@example.org")
        factories.make_staff("reception", [event], email="desk@example.org")
        return event.id, event.questions[0].id, user.email


def test_the_pages_on_desktop_and_phone(app, live_server, desktop, phone, shot):
    event_id, question_id, email = _seed(app)
    for page, size in ((desktop, "desktop"), (phone, "phone")):
        sign_in(page, live_server, email)
        headings = page.locator("h2.home-group").all_inner_texts()
        assert headings == ["開催予定", "終了したイベント"]
        assert "申し込み完了 3 / 定員 3" in page.locator(".card-counts").first.inner_text().replace("\n", " ")
        shot(page, f"staff-{size}")
        page.locator(".card").first.get_by_role("link", name="コピー").click()
        page.wait_for_url(f"**/admin/events/{event_id}/clone")
        assert page.locator("input[name=keep_team]").is_checked()
        page.fill("input[name=slug]", "monthly-12")
        page.fill("input[name=first_date]", factories.in_days(40).date().isoformat())
        shot(page, f"copy-{size}")
        page.goto(f"{live_server}/admin/events/{event_id}/edit")
        page.locator(f"a[href$='/questions/{question_id}/delete']").click()
        page.wait_for_url(f"**/questions/{question_id}/delete")
        assert "この質問を削除しますか" in page.inner_text("h2")
        shot(page, f"delete-question-{size}")
        page.goto(f"{live_server}/admin/events/{event_id}/statistics")
        page.locator(f"#stat-choice-{question_id}").scroll_into_view_if_needed()
        shot(page, f"statistics-{size}")
        page.goto(f"{live_server}/admin/events/{event_id}/exports")
        shot(page, f"exports-{size}")
        page.goto(f"{live_server}/admin/events/{event_id}/privacy")
        shot(page, f"privacy-{size}")
        page.goto(f"{live_server}/admin/events/{event_id}")
        shot(page, f"overview-{size}")
