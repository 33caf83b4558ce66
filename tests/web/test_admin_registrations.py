"""The registration pages of the back office: view, edit, cancel, move, promote, resend, add."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.models import AuditEntry, EventSession, MailKind, OutboxMessage, Registration, ScanMethod, Status

from .. import factories
from .conftest import csrf_token


@pytest.fixture
def event(ctx):
    return factories.make_event(capacity=1, questions=[
        {"label": "昼食", "kind": "single", "choices": ["要", "不要"], "required": True},
        {"label": "旧設問", "kind": "text"},
    ])


@pytest.fixture
def owner(event):
    return factories.make_staff("owner", [event], name="主催 花子")


def url(event, reg=None, action=""):
    base = f"/admin/events/{event.id}/registrations"
    return f"{base}/{reg.id}{action}" if reg is not None else f"{base}{action}"


def person(event, **overrides):
    overrides.setdefault("answers", {str(event.questions[0].id): "要"})
    return factories.register_person(event, **overrides)


def token(client, event) -> str:
    """The session's CSRF token, from a page every signed-in role can open (the public form,
    while it is open)."""
    page = client.get(f"/e/{event.slug}").get_data(as_text=True)
    if 'name="csrf_token"' not in page:
        return csrf_token(client, url(event, action="/new"))
    return csrf_token(client, f"/e/{event.slug}")


def post(client, event, target, **data):
    data.setdefault("csrf_token", token(client, event))
    return client.post(target, data=data)


def edit_data(reg, event, **overrides):
    data = {name: getattr(reg, name) or "" for name in (
        "family_name", "given_name", "family_kana", "given_kana", "email", "organization", "department", "phone")}
    data.update(sector=reg.sector.value, **{f"q_{event.questions[0].id}": "要"})
    data.update(overrides)
    return data


def fresh(reg) -> Registration:
    db.session.expire_all()
    return db.session.get(Registration, reg.id)


def audit_actions(reg) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.registration_id == reg.id)
                                   .order_by(AuditEntry.id)))


def mails(reg) -> list[MailKind]:
    return list(db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.registration_id == reg.id)
                                   .order_by(OutboxMessage.id)))


def test_the_page_shows_everything_about_the_registration(client, login, event, owner):
    hidden = event.questions[1]
    reg = person(event, answers={str(event.questions[0].id): "要", str(hidden.id): "古い回答"})
    hidden.hidden = True
    db.session.commit()
    checkin.check_in_by_id(reg.id, event=event, method=ScanMethod.search, desk="受付A", user_id=owner.id,
                           now=factories.in_days(14))
    db.session.commit()
    login(owner)
    page = client.get(url(event, reg))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("山田 花子", "ヤマダ ハナコ", reg.email, "育て上げネット", "昼食", "要", "旧設問", "古い回答",
                 "フォームに表示しない", "申し込み完了", "受付A", "登録完了"):
        assert text in html, text
    assert reg.token not in html and reg.entry_id not in html  # no secret link, no pass payload


def test_a_registration_of_another_event_is_a_404(client, login, event, owner):
    other = factories.make_event()
    stranger = factories.register_person(other)
    factories.make_staff("owner", [other])
    login(owner)
    assert client.get(f"/admin/events/{event.id}/registrations/{stranger.id}").status_code == 404
    assert client.get(f"/admin/events/{event.id}/registrations/{stranger.id}/edit").status_code == 404
    assert post(client, event, f"/admin/events/{event.id}/registrations/{stranger.id}/cancel",
                notify="y").status_code == 404
    assert client.get(f"/admin/events/{event.id}/registrations/999999").status_code == 404
    assert fresh(stranger).status == Status.confirmed


def test_a_viewer_sees_but_cannot_change(client, login, event):
    reg = person(event)
    viewer = factories.make_staff("viewer", [event])
    login(viewer)
    page = client.get(url(event, reg)).get_data(as_text=True)
    assert "編集" not in page and "/cancel" not in page
    assert client.get(url(event, reg, "/edit")).status_code == 403
    assert post(client, event, url(event, reg, "/cancel")).status_code == 403
    assert post(client, event, url(event, reg, "/resend")).status_code == 403
    assert fresh(reg).status == Status.confirmed and mails(reg) == [MailKind.confirmation]


def test_the_edit_form_is_filled_in_with_what_is_stored(client, login, event, owner):
    reg = person(event, phone="042-527-6051")
    login(owner)
    html = client.get(url(event, reg, "/edit")).get_data(as_text=True)
    checked = re.findall(r'<input checked id="[^"]+" name="([^"]+)"[^>]*value="([^"]+)"', html)
    assert sorted(checked) == sorted([("sector", "npo"), (f"q_{event.questions[0].id}", "要")])
    assert 'value="042-527-6051"' in html and f'value="{reg.email}"' in html


def test_edit_normalises_saves_and_shows_the_change(client, login, event, owner):
    reg = person(event)
    login(owner)
    response = post(client, event, url(event, reg, "/edit"), **edit_data(reg, event, given_name="太郎", given_kana="たろう"))
    assert response.status_code == 303 and response.headers["Location"].endswith(url(event, reg))
    reg = fresh(reg)
    assert (reg.given_name, reg.given_kana) == ("太郎", "タロウ")
    page = client.get(url(event, reg)).get_data(as_text=True)
    assert "保存しました" in page and "花子 → 太郎" in page and "ハナコ → タロウ" in page and "主催 花子" in page


@pytest.mark.parametrize(("overrides", "shown"), [
    ({"family_name": ""}, "入力してください"),
    ({"family_kana": "yamada"}, "カタカナ"),
    ({"email": "not-an-address"}, "メールアドレス"),
    ({"given_name": "花子😀"}, "絵文字"),
    ({"sector": "pirate"}, "選択肢"),
])
def test_bad_input_is_a_localized_message_and_nothing_changes(client, login, event, owner, overrides, shown):
    reg = person(event)
    before = (reg.family_name, reg.given_name, reg.family_kana, reg.email, reg.sector)
    login(owner)
    response = post(client, event, url(event, reg, "/edit"), **edit_data(reg, event, **overrides))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert shown in html and "error-summary" in html
    reg = fresh(reg)
    assert (reg.family_name, reg.given_name, reg.family_kana, reg.email, reg.sector) == before
    assert audit_actions(reg) == []


def test_a_required_answer_cannot_be_removed(client, login, event, owner):
    reg = person(event)
    login(owner)
    response = post(client, event, url(event, reg, "/edit"), **edit_data(reg, event, **{f"q_{event.questions[0].id}": ""}))
    assert response.status_code == 400 and "お答えください" in response.get_data(as_text=True)


def test_an_email_of_another_registration_is_refused_on_the_field(client, login, event, owner):
    event.sessions[0].capacity = 5
    db.session.commit()
    person(event, email="taken@example.org")
    reg = person(event)
    login(owner)
    response = post(client, event, url(event, reg, "/edit"), **edit_data(reg, event, email="Taken@Example.org"))
    assert response.status_code == 400
    assert "すでに使われています" in response.get_data(as_text=True)
    assert fresh(reg).email != "taken@example.org"


def test_names_are_escaped(client, login, event, owner):
    reg = person(event, organization="<script>alert(1)</script>")
    login(owner)
    html = client.get(url(event, reg)).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    post(client, event, url(event, reg, "/edit"), **edit_data(reg, event, department='"><img src=x onerror=alert(1)>'))
    html = client.get(url(event, reg)).get_data(as_text=True)
    assert "<img src=x" not in html


def test_cancel_asks_first_then_frees_the_seat_and_tells_the_attendee(client, login, event, owner):
    reg = person(event)
    waiting = person(event)
    login(owner)
    page = client.get(url(event, reg, "/cancel")).get_data(as_text=True)
    assert 'name="notify" value="y" checked' in page
    response = post(client, event, url(event, reg, "/cancel"), notify="y")
    assert response.status_code == 303
    assert fresh(reg).status == Status.cancelled and fresh(waiting).status == Status.confirmed
    assert mails(reg) == [MailKind.confirmation, MailKind.cancelled]
    assert "キャンセル待ちの1名が参加確定" in client.get(url(event, reg)).get_data(as_text=True)


def test_cancel_without_telling_the_attendee(client, login, event, owner):
    reg = person(event)
    login(owner)
    assert post(client, event, url(event, reg, "/cancel")).status_code == 303  # the box unticked
    assert fresh(reg).status == Status.cancelled and mails(reg) == [MailKind.confirmation]
    response = post(client, event, url(event, reg, "/cancel"))
    assert response.status_code == 303
    assert "すでにキャンセル" in client.get(url(event, reg)).get_data(as_text=True)


def test_promote_and_its_refusal(client, login, event, owner):
    person(event)
    waiting = person(event)
    login(owner)
    response = post(client, event, url(event, waiting, "/promote"))
    assert response.status_code == 303
    assert "空席がありません" in client.get(url(event, waiting)).get_data(as_text=True)
    assert fresh(waiting).status == Status.waitlisted
    session = db.session.get(EventSession, event.sessions[0].id)
    session.capacity = 2
    db.session.commit()
    post(client, event, url(event, waiting, "/promote"))
    assert fresh(waiting).status == Status.confirmed
    assert mails(waiting) == [MailKind.waitlisted, MailKind.promoted]


def test_resend_pass(client, login, event, owner):
    reg = person(event)
    login(owner)
    assert post(client, event, url(event, reg, "/resend")).status_code == 303
    assert mails(reg) == [MailKind.confirmation, MailKind.pass_resent]
    assert audit_actions(reg) == ["pass_resent"]


def test_move_to_the_other_session(client, login, ctx):
    spec = factories.event_spec_dict(capacity=3)
    first = spec["sessions"][0]
    spec["sessions"] = [{**first, "title": "第1回"}, {**first, "title": "第2回", "date": factories.in_days(21).date().isoformat()}]
    event = factories.make_event(**spec)
    owner = factories.make_staff("owner", [event])
    reg = factories.register_person(event)
    login(owner)
    page = client.get(url(event, reg)).get_data(as_text=True)
    assert "第2回" in page and "3席中3席空き" in page
    second = event.sessions[1]
    response = post(client, event, url(event, reg, "/move"), session_id=str(second.id))
    assert response.status_code == 303
    reg = fresh(reg)
    assert reg.session_id == second.id and reg.entry_version == 2
    assert "第1回 → 第2回" in client.get(url(event, reg)).get_data(as_text=True)
    for bad in ("", "abc", "999999", str(second.id)):  # nothing, garbage, unknown, the same session
        assert post(client, event, url(event, reg, "/move"), session_id=bad).status_code == 303
    assert fresh(reg).session_id == second.id


def add_data(event, **overrides):
    data = {"session_id": str(event.sessions[0].id), "family_name": "佐藤", "given_name": "一郎",
            "family_kana": "さとう", "given_kana": "イチロウ", "email": "ichiro@example.org", "sector": "company",
            f"q_{event.questions[0].id}": "不要", "send_confirmation": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_add_by_hand_after_the_deadline(client, login, event, owner):
    session = db.session.get(EventSession, event.sessions[0].id)
    session.closes_at = factories.in_days(-1)
    db.session.commit()
    login(owner)
    page = client.get(url(event, action="/new")).get_data(as_text=True)
    assert "定員を超えても追加" in page and 'name="send_confirmation"' in page
    response = post(client, event, url(event, action="/new"), **add_data(event))
    assert response.status_code == 303
    reg = db.session.scalar(select(Registration).where(Registration.email == "ichiro@example.org"))
    assert reg.status == Status.confirmed and reg.family_kana == "サトウ"
    assert mails(reg) == [MailKind.confirmation] and audit_actions(reg) == ["registration_added"]


def test_add_by_hand_to_a_full_session(client, login, event, owner):
    person(event)
    login(owner)
    response = post(client, event, url(event, action="/new"), **add_data(event, send_confirmation=None))
    assert response.status_code == 400 and "満席" in response.get_data(as_text=True)
    assert db.session.scalar(select(Registration).where(Registration.email == "ichiro@example.org")) is None
    response = post(client, event, url(event, action="/new"), **add_data(event, send_confirmation=None, override_capacity="y"))
    assert response.status_code == 303
    reg = db.session.scalar(select(Registration).where(Registration.email == "ichiro@example.org"))
    assert reg.status == Status.confirmed and mails(reg) == []
    db.session.expire_all()
    assert db.session.get(EventSession, event.sessions[0].id).capacity == 2
    html = client.get(url(event, reg)).get_data(as_text=True)
    assert "定員を超えて追加" in html and "定員</span>: 1 → 2" in html


def test_add_by_hand_shows_every_refusal_at_once(client, login, event, owner):
    login(owner)
    response = post(client, event, url(event, action="/new"), **add_data(
        event, session_id="", given_name="", email="x", **{f"q_{event.questions[0].id}": None}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for shown in ("回を選んでください", "入力してください", "メールアドレス", "お答えください"):
        assert shown in html, shown
    assert db.session.scalar(select(Registration.id)) is None


def test_posts_need_the_csrf_token(client, login, event, owner):
    reg = person(event)
    login(owner)
    for action in ("/cancel", "/resend", "/edit", "/promote"):
        assert client.post(url(event, reg, action), data={"notify": "y"}).status_code == 400
    assert client.post(url(event, action="/new"), data=add_data(event)).status_code == 400
    assert fresh(reg).status == Status.confirmed and mails(reg) == [MailKind.confirmation]


def test_garbage_never_breaks_a_page(client, login, event, owner):
    reg = person(event)
    login(owner)
    csrf = token(client, event)
    for data in ({"sector": ["npo", "company"]}, {"family_name": "\x00"}, {"email": "a" * 5000},
                 {f"q_{event.questions[0].id}": ["要", "不要"]}, {"phone": "\ufffd"}, {"organization": "\U000e0001"}):
        response = client.post(url(event, reg, "/edit"), data={**edit_data(reg, event), **data, "csrf_token": csrf})
        assert response.status_code in (303, 400), data
        response = client.post(url(event, action="/new"), data={**add_data(event), **data, "csrf_token": csrf})
        assert response.status_code in (303, 400), data
    assert client.get(url(event, reg) + "x").status_code == 404


def test_a_late_edit_date_is_shown_in_the_event_time_zone(client, login, event, owner):
    reg = person(event)
    login(owner)
    post(client, event, url(event, reg, "/edit"), **edit_data(reg, event, given_name="次郎"))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.registration_id == reg.id))
    local = (entry.at + timedelta(hours=9)).strftime("%H:%M")
    assert local in client.get(url(event, reg)).get_data(as_text=True)
