"""The event editor through its HTTP forms, as an organizer's browser sends them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import (
    AuditEntry,
    Event,
    EventMember,
    EventRole,
    EventSession,
    EventStatus,
    MailKind,
    OutboxMessage,
    Question,
    Registration,
    ScheduledTask,
    TaskKind,
)

from .. import factories
from .conftest import csrf_token, valid_form

TOKYO = ZoneInfo("Asia/Tokyo")
SEED_TITLE = "ケーススタディ「企業CSR×NPO」の協働が「政策」になるまで 〜 若者UPプロジェクトを題材に 〜"


def future(days: int = 30) -> date:
    return datetime.now(TOKYO).date() + timedelta(days=days)


CSRF_REFUSED = "フォームの有効期限が切れたか"  # the start of the CSRF error page's words (ja)


def post(client, url: str, data: dict, page: str | None = None):
    data = dict(data, csrf_token=csrf_token(client, page or url))
    return client.post(url, data=data)


def seed_fields(**overrides) -> dict:
    data = {
        "title": SEED_TITLE,
        "description_md": "民間の取り組みが「政策化された」とも言えるこの成果は…\n\n### 当日のプログラム(予定)\n- 基調レポート\n- ディスカッション",
        "venue_name": "日本マイクロソフト株式会社 セミナールーム",
        "venue_address": "東京都港区港南2-16-3 品川グランドセントラルタワー",
        "access_notes": "入館証は当日、2階正面玄関裏手のセミナー受付でお渡しします。",
        "organizer": "若者TECHプロジェクト",
        "contact_name": "若者TECHプロジェクト事務局(認定NPO法人育て上げネット内)担当:山本賢司",
        "contact_phone": "042-527-6051(平日10-17時)",
        "contact_email": "ms.tech@example.org",
        "fee_note": "参加費無料",
        "language": "ja",
        "timezone": "Asia/Tokyo",
        "privacy_notice": "ご記入いただいた個人情報は本イベントの運営にのみ使用します。",
        "waitlist_enabled": "y",
        "registration_opens": "",
        "deadline": "1d@12:00",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def session_fields(day: date, **overrides) -> dict:
    data = {"title": "", "date": day.isoformat(), "doors": "13:30", "start": "14:00", "end": "17:00", "capacity": "80"}
    data.update(overrides)
    return data


@pytest.fixture
def organizer(app, ctx, login, client):
    user = factories.make_staff("organizer", email="organizer@example.org", name="主催 花子")
    login(user)
    return SimpleNamespace(id=user.id, email=user.email)


def create(client, **overrides) -> int:
    response = post(client, "/admin/events/new", seed_fields(**overrides))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].split("/admin/events/")[1].split("/")[0])


def add_session(client, event_id: int, day: date, **overrides):
    return post(client, f"/admin/events/{event_id}/sessions", session_fields(day, **overrides),
                page=f"/admin/events/{event_id}/edit")


def the_event(event_id: int) -> Event:
    db.session.expire_all()
    return db.session.get(Event, event_id)


def publish(client, event_id: int):
    return post(client, f"/admin/events/{event_id}/status", {"status": "published"}, page=f"/admin/events/{event_id}/edit")


def test_organizer_creates_the_seed_seminar_and_publishes_it(client, organizer):
    home = client.get("/staff").get_data(as_text=True)
    assert "/admin/events/new" in home
    day = future(30)
    event_id = create(client)
    assert add_session(client, event_id, day).status_code == 303
    question = post(client, f"/admin/events/{event_id}/questions",
                    {"kind": "single", "label": "このイベントを何で知りましたか",
                     "choices": "メールマガジン\nSNS\n知人の紹介\nその他", "required": "y"},
                    page=f"/admin/events/{event_id}/edit")
    assert question.status_code == 303
    event = the_event(event_id)
    assert event.status == EventStatus.draft and event.title == SEED_TITLE
    assert organizer.id in {m.user_id for m in db.session.scalars(select(EventMember).where(
        EventMember.event_id == event_id, EventMember.role == EventRole.owner))}
    [session] = event.sessions
    local = session.starts_at.astimezone(TOKYO)
    assert (local.date(), local.strftime("%H:%M")) == (day, "14:00")
    assert session.doors_at.astimezone(TOKYO).strftime("%H:%M") == "13:30"
    assert session.ends_at.astimezone(TOKYO).strftime("%H:%M") == "17:00"
    assert session.closes_at.astimezone(TOKYO) == datetime.combine(day - timedelta(days=1), datetime.min.time(), TOKYO).replace(hour=12)
    assert event.questions[0].choices == ["メールマガジン", "SNS", "知人の紹介", "その他"]
    # A draft: not public, but previewable by its staff.
    assert client.get(f"/e/{event.slug}").status_code == 404
    preview = client.get(f"/admin/events/{event_id}/preview").get_data(as_text=True)
    assert "preview-banner" in preview and SEED_TITLE in preview and "disabled" in preview
    assert 'name="csrf_token"' not in preview.split('class="register"')[1]  # the preview cannot sign anyone up
    overview = client.get(f"/admin/events/{event_id}").get_data(as_text=True)
    assert "0</span> / 80" in overview and "前日12:00" in overview and "12:00" in overview
    assert publish(client, event_id).status_code == 303
    assert the_event(event_id).status == EventStatus.published
    page = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert SEED_TITLE in page and "2階正面玄関裏手のセミナー受付" in page and "<h3>当日のプログラム(予定)</h3>" in page
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.event_id == event_id)) >= 4


def test_a_two_session_briefing(client, organizer):
    event_id = create(client, title="ボランティア説明会", deadline="2d@17:00")
    first, second = future(20), future(27)
    assert add_session(client, event_id, first, title="第1回", doors="18:45", start="19:00", end="20:30", capacity="30").status_code == 303
    assert add_session(client, event_id, second, title="第2回", doors="", start="10:00", end="11:30", capacity="30").status_code == 303
    event = the_event(event_id)
    assert [s.title for s in event.sessions] == ["第1回", "第2回"]
    assert event.sessions[1].doors_at == event.sessions[1].starts_at  # empty doors: at the start
    assert event.sessions[0].closes_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") == f"{first - timedelta(days=2)} 17:00"
    assert publish(client, event_id).status_code == 303
    html = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "第1回" in html and "第2回" in html


def test_markdown_preview_is_sanitized_and_saves_nothing(client, organizer):
    event_id = create(client)
    response = post(client, f"/admin/events/{event_id}/edit",
                    seed_fields(description_md="**太字** <script>alert(1)</script>", action="preview"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<strong>太字</strong>" in html and "<script>alert(1)" not in html
    assert "alert(1)</script>" not in html.split("md-preview")[1].split("</div>")[0]
    assert "太字" not in the_event(event_id).description_md


@pytest.mark.parametrize("field, value, words", [
    ("title", "", "入力してください"),
    ("title", "x" * 201, "200"),
    ("timezone", "Mars/Olympus", "タイムゾーン"),
    ("deadline", "tomorrow-ish", "1d@12:00"),
    ("deadline", "0bd@12:00", "1d@12:00"),  # business days start at 1 ("2h" is a deadline since issue 16)
    ("contact_email", "not-an-email", "メールアドレス"),
    ("registration_opens", "2026-13-45T99:99", "日時"),
    ("language", "fr", "日本語"),
    ("title", "タイトル\x01", "制御文字"),  # a NUL is refused before the form: test_bad_input
    ("hold_minutes", "2", "5〜1440"),
    ("hold_minutes", "sixty", "5〜1440"),
])
def test_bad_event_fields_give_a_message_and_change_nothing(client, organizer, field, value, words):
    event_id = create(client)
    before = the_event(event_id).title
    response = post(client, f"/admin/events/{event_id}/edit", seed_fields(**{"title": "Changed", field: value}))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "error-summary" in html and words in html, html[:3000]
    assert the_event(event_id).title == before


@pytest.mark.parametrize("overrides, words", [
    ({"start": "17:00", "end": "14:00"}, "終了"),
    ({"doors": "14:30"}, "開場"),
    ({"capacity": "-1"}, "マイナス"),
    ({"capacity": "100001"}, "100000"),
    ({"capacity": "9" * 40}, "整数"),
    ({"capacity": "ten"}, "整数"),
    ({"date": "2026-02-30"}, "日付"),
    ({"date": "99999-01-01"}, "日付"),
    ({"date": "1900-01-01"}, "2000"),
    ({"start": "25:00"}, "時刻"),
    ({"start": ""}, "入力してください"),
])
def test_bad_session_values_give_a_message_and_change_nothing(client, organizer, overrides, words):
    event_id = create(client)
    response = add_session(client, event_id, future(), **overrides)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and words in html, html[:3000]
    assert the_event(event_id).sessions == []


def test_huge_and_odd_posts_never_500(client, organizer):
    event_id = create(client)
    add_session(client, event_id, future())
    session_id = the_event(event_id).sessions[0].id
    token = csrf_token(client, f"/admin/events/{event_id}/edit")
    odd = ["", "\u202e", "𠮷" * 300, "<b>", "0x10", "1e9", "-0", " 5 ", "１２", "NaN", "\ud800"[:0], "14:00:00:00"]
    for value in odd:
        for url, base in ((f"/admin/events/{event_id}/edit", seed_fields()),
                          (f"/admin/events/{event_id}/sessions/{session_id}", session_fields(future())),
                          (f"/admin/events/{event_id}/questions", {"kind": "single", "label": "Q", "choices": ""}),
                          (f"/admin/events/{event_id}/clone", {"first_date": ""})):
            for key in base:
                # One token for the whole test (Flask-WTF's token holds for the session); the edit
                # page is fetched again only when a post changed something, to show it still renders.
                response = client.post(url, data=dict(base, **{key: value}, csrf_token=token))
                assert response.status_code < 500, (url, key, value)
                assert CSRF_REFUSED not in response.get_data(as_text=True), (url, key, value)
                if response.status_code < 400:
                    assert client.get(f"/admin/events/{event_id}/edit").status_code == 200, (url, key, value)
    for target in ("", "nonsense", "draft", "closed"):
        assert post(client, f"/admin/events/{event_id}/status", {"status": target},
                    page=f"/admin/events/{event_id}/edit").status_code == 303
    assert the_event(event_id).status == EventStatus.draft


def test_capacity_raise_promotes_and_lowering_below_taken_is_refused(client, organizer):
    event_id = create(client)
    add_session(client, event_id, future(), capacity="2")
    publish(client, event_id)
    event = the_event(event_id)
    people = [factories.register_person(event) for _ in range(3)]
    assert [p.status.value for p in people] == ["confirmed", "confirmed", "waitlisted"]
    session_id = event.sessions[0].id
    url = f"/admin/events/{event_id}/sessions/{session_id}"
    low = post(client, url, session_fields(the_event(event_id).sessions[0].starts_at.astimezone(TOKYO).date(), capacity="1"))
    assert low.status_code == 400 and "すでに埋まっている2席" in low.get_data(as_text=True)
    assert the_event(event_id).sessions[0].capacity == 2
    day = the_event(event_id).sessions[0].starts_at.astimezone(TOKYO).date()
    assert post(client, url, session_fields(day, capacity="3")).status_code == 303
    waiting = db.session.get(Registration, people[2].id)
    assert waiting.status.value == "confirmed" and the_event(event_id).sessions[0].seats_taken == 3
    kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.registration_id == people[2].id)).all()
    assert MailKind.promoted in kinds


def test_moving_a_session_tells_each_person_once_and_moves_the_summary(client, organizer):
    event_id = create(client)
    day = future(30)
    add_session(client, event_id, day)
    publish(client, event_id)
    event = the_event(event_id)
    session_id = event.sessions[0].id
    people = [factories.register_person(event) for _ in range(3)]
    from eventreg.domain.registration import signup
    signup.cancel(db.session.get(Registration, people[2].id), now=datetime.now(timezone.utc))
    db.session.commit()
    task = db.session.scalar(select(ScheduledTask).where(ScheduledTask.session_id == session_id,
                                                         ScheduledTask.kind == TaskKind.deadline_summary))
    old_due = task.due_at
    url = f"/admin/events/{event_id}/sessions/{session_id}"
    new_day = day + timedelta(days=7)
    response = post(client, url, session_fields(new_day, start="15:00", end="18:00", doors="14:30"))
    assert response.status_code == 303
    assert "2" in client.get(response.headers["Location"]).get_data(as_text=True)  # "2 registered people will be emailed"
    db.session.expire_all()
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.session_changed)).all()
    assert sorted(m.registration_id for m in mails) == sorted(p.id for p in people[:2])
    assert all({"kind": "ics", "method": "REQUEST"} in m.attachments for m in mails)
    session = db.session.get(EventSession, session_id)
    assert session.sequence == 1 and session.starts_at.astimezone(TOKYO).strftime("%H:%M") == "15:00"
    task = db.session.get(ScheduledTask, task.id)
    assert task.due_at == old_due + timedelta(days=7) == session.closes_at
    # Saving the same values again sends nothing more.
    post(client, url, session_fields(new_day, start="15:00", end="18:00", doors="14:30"))
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.kind == MailKind.session_changed)) == 2


def test_session_changed_email_renders_with_the_new_time_and_ics(app, client, organizer, smtp_server):
    from eventreg import worker

    event_id = create(client)
    day = future(30)
    add_session(client, event_id, day)
    publish(client, event_id)
    person = factories.register_person(the_event(event_id))
    session_id = the_event(event_id).sessions[0].id
    db.session.execute(OutboxMessage.__table__.delete())
    db.session.commit()
    moved = post(client, f"/admin/events/{event_id}/sessions/{session_id}",
                 session_fields(day + timedelta(days=1), start="15:00", end="18:00", doors="14:30"))
    assert moved.status_code == 303
    db.session.rollback()  # the test's own read ends before the worker writes
    assert worker.deliver_due(app, worker_id="t") == 1
    [message] = smtp_server.messages
    assert "日時変更" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "15:00" in body and person.family_name in body
    ics = next(part for part in message.iter_attachments() if part.get_filename() == "calendar.ics").get_content()
    assert "SEQUENCE:1" in ics and "METHOD:REQUEST" in ics


def test_hidden_question_keeps_answers_and_is_no_longer_asked(client, organizer):
    event_id = create(client)
    add_session(client, event_id, future())
    post(client, f"/admin/events/{event_id}/questions", {"kind": "text", "label": "登壇者への質問", "required": "y"},
         page=f"/admin/events/{event_id}/edit")
    publish(client, event_id)
    event = the_event(event_id)
    question_id = event.questions[0].id
    person = factories.register_person(event, answers={str(question_id): "資料はもらえますか"})
    delete = post(client, f"/admin/events/{event_id}/questions/{question_id}/delete", {"confirm": "yes"}, page=f"/admin/events/{event_id}/edit")
    assert "非表示" in client.get(delete.headers["Location"]).get_data(as_text=True)
    assert db.session.get(Question, question_id) is not None
    post(client, f"/admin/events/{event_id}/questions/{question_id}/hidden", {"hidden": "1"}, page=f"/admin/events/{event_id}/edit")
    db.session.expire_all()
    assert db.session.get(Question, question_id).hidden
    assert db.session.get(Registration, person.id).answers == {str(question_id): "資料はもらえますか"}
    page = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "登壇者への質問" not in page
    # The form still works without the hidden (required) question.
    data = valid_form(session_id=str(event.sessions[0].id), email="new@example.org", email_confirm="new@example.org")
    assert post(client, f"/e/{event.slug}", data).status_code == 302


def test_choices_of_an_answered_question_can_grow_but_not_shrink(client, organizer):
    event_id = create(client)
    add_session(client, event_id, future())
    post(client, f"/admin/events/{event_id}/questions", {"kind": "single", "label": "経路", "choices": "SNS\nメール"},
         page=f"/admin/events/{event_id}/edit")
    publish(client, event_id)
    event = the_event(event_id)
    qid = event.questions[0].id
    factories.register_person(event, answers={str(qid): "SNS"})
    url = f"/admin/events/{event_id}/questions/{qid}"
    renamed = post(client, url, {"kind": "single", "label": "経路", "choices": "Twitter\nメール"})
    assert renamed.status_code == 400 and "SNS" in renamed.get_data(as_text=True)
    assert post(client, url, {"kind": "single", "label": "経路", "choices": "SNS\nメール\n知人"}).status_code == 303
    assert the_event(event_id).questions[0].choices == ["SNS", "メール", "知人"]
    unanswered = post(client, f"/admin/events/{event_id}/questions", {"kind": "checkbox", "label": "案内を希望"},
                      page=f"/admin/events/{event_id}/edit")
    assert unanswered.status_code == 303
    other = the_event(event_id).questions[1].id
    post(client, f"/admin/events/{event_id}/questions/{other}/delete", {"confirm": "yes"}, page=f"/admin/events/{event_id}/edit")
    assert db.session.get(Question, other) is None


def test_delete_is_refused_once_anyone_registered(client, organizer):
    event_id = create(client)
    add_session(client, event_id, future())
    publish(client, event_id)
    event = the_event(event_id)
    person = factories.register_person(event)
    from eventreg.domain.registration import signup
    signup.cancel(db.session.get(Registration, person.id), now=datetime.now(timezone.utc))
    db.session.commit()
    page = client.get(f"/admin/events/{event_id}/delete").get_data(as_text=True)
    assert "1件" in page
    refused = post(client, f"/admin/events/{event_id}/delete", {"confirm": "y"}, page=f"/admin/events/{event_id}/edit")
    assert refused.status_code == 400 and "1件" in refused.get_data(as_text=True)
    assert the_event(event_id) is not None
    # Back to draft is refused too.
    post(client, f"/admin/events/{event_id}/status", {"status": "draft"}, page=f"/admin/events/{event_id}/edit")
    assert the_event(event_id).status == EventStatus.published


def test_delete_an_event_nobody_registered_for(client, organizer):
    event_id = create(client)
    add_session(client, event_id, future())
    unconfirmed = post(client, f"/admin/events/{event_id}/delete", {})
    assert unconfirmed.status_code == 400 and the_event(event_id) is not None
    assert post(client, f"/admin/events/{event_id}/delete", {"confirm": "y"}).status_code == 303
    assert the_event(event_id) is None


def test_closed_event_page_says_so_and_the_server_refuses_sign_up(client, organizer):
    event_id = create(client)
    add_session(client, event_id, future())
    publish(client, event_id)
    event = the_event(event_id)
    url = f"/e/{event.slug}"
    token = csrf_token(client, url)  # the form as it was before closing
    assert post(client, f"/admin/events/{event_id}/status", {"status": "closed"},
                page=f"/admin/events/{event_id}/edit").status_code == 303
    html = client.get(url).get_data(as_text=True)
    assert "受付を終了しました" in html and 'name="family_name"' not in html
    data = dict(valid_form(session_id=str(event.sessions[0].id)), csrf_token=token)
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    # And the domain refuses even without the page's check.
    from eventreg.domain.errors import DomainError
    from eventreg.domain.registration import signup
    with pytest.raises(DomainError) as refused:
        signup.register(the_event(event_id).sessions[0], factories.applicant(), now=datetime.now(timezone.utc))
    assert refused.value.code == "registration_closed"
    db.session.rollback()
    # Reopened: sign-up works again.
    post(client, f"/admin/events/{event_id}/status", {"status": "published"}, page=f"/admin/events/{event_id}/edit")
    assert post(client, url, valid_form(session_id=str(event.sessions[0].id))).status_code == 302


def test_draft_is_404_publicly_and_takes_nobody(client, organizer):
    event_id = create(client)
    add_session(client, event_id, future())
    event = the_event(event_id)
    assert client.get(f"/e/{event.slug}").status_code == 404
    from eventreg.domain.errors import DomainError
    from eventreg.domain.registration import signup
    with pytest.raises(DomainError):
        signup.register(event.sessions[0], factories.applicant(), now=datetime.now(timezone.utc))
    db.session.rollback()
    # Published, then back to draft (nobody registered): the public page is gone at once.
    publish(client, event_id)
    assert client.get(f"/e/{event.slug}").status_code == 200
    post(client, f"/admin/events/{event_id}/status", {"status": "draft"}, page=f"/admin/events/{event_id}/edit")
    assert client.get(f"/e/{event.slug}").status_code == 404


def test_clone_through_the_form_keeps_the_day_before_at_noon(client, organizer):
    event_id = create(client)
    day = future(30)
    add_session(client, event_id, day)
    publish(client, event_id)
    factories.register_person(the_event(event_id))
    bad = post(client, f"/admin/events/{event_id}/clone", {"first_date": "someday"})
    assert bad.status_code == 400 and "日付" in bad.get_data(as_text=True)
    new_day = day + timedelta(days=100)
    response = post(client, f"/admin/events/{event_id}/clone", {"first_date": new_day.isoformat()})
    assert response.status_code == 303
    copy_id = int(response.headers["Location"].split("/admin/events/")[1].split("/")[0])
    copy = the_event(copy_id)
    original = the_event(event_id)
    assert copy.status == EventStatus.draft and copy.slug != original.slug and copy.pass_key != original.pass_key
    [session] = copy.sessions
    assert session.starts_at.astimezone(TOKYO).date() == new_day and session.seats_taken == 0
    assert session.closes_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") == f"{new_day - timedelta(days=1)} 12:00"
    assert db.session.scalar(select(func.count()).select_from(Registration).where(Registration.event_id == copy_id)) == 0


@pytest.mark.parametrize("role", ["editor", "owner"])
def test_a_staff_account_may_not_clone_an_event(client, ctx, login, role):
    """A copy makes its maker owner of a new event: the right to create events, not an event role."""
    event = factories.make_event()
    login(factories.make_staff(role, [event]))  # a staff-kind account with that role on the event
    assert "/clone" not in client.get(f"/admin/events/{event.id}/edit").get_data(as_text=True)
    assert client.get(f"/admin/events/{event.id}/clone").status_code == 403
    token = csrf_token(client, f"/admin/events/{event.id}/edit")
    refused = client.post(f"/admin/events/{event.id}/clone", data={"csrf_token": token, "first_date": future(90)})
    assert refused.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1


def test_a_viewer_reads_but_does_not_edit(client, app, ctx, login):
    event = factories.make_event()
    login(factories.make_staff("viewer", [event]))
    assert client.get(f"/admin/events/{event.id}").status_code == 200
    assert client.get(f"/admin/events/{event.id}/preview").status_code == 200
    assert client.get(f"/admin/events/{event.id}/edit").status_code == 403
    assert client.get("/admin/events/new").status_code == 403
    home = client.get("/staff").get_data(as_text=True)
    assert "/admin/events/new" not in home and "閲覧者" in home and "公開中" in home


def test_an_editor_edits_but_does_not_delete(client, app, ctx, login):
    event, other = factories.make_event(), factories.make_event()
    login(factories.make_staff("editor", [event]))
    assert client.get(f"/admin/events/{event.id}/edit").status_code == 200
    assert client.get(f"/admin/events/{event.id}/delete").status_code == 403
    assert client.get(f"/admin/events/{other.id}").status_code == 404
    assert "/admin/events/new" not in client.get("/staff").get_data(as_text=True)


def test_the_layout_wraps_the_other_admin_pages(client, organizer):
    event_id = create(client)
    html = client.get(f"/admin/events/{event_id}/checkins").get_data(as_text=True)
    assert 'class="admin-tabs"' in html and SEED_TITLE in html and "下書き" in html
    assert 'aria-current="page"' in html


def test_email_confirmation_is_an_event_setting(client, organizer):
    event_id = create(client)
    response = post(client, f"/admin/events/{event_id}/edit", seed_fields(confirm_email="y", hold_minutes="45"))
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    event = the_event(event_id)
    assert event.confirm_email is True and event.hold_minutes == 45
