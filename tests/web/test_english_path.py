"""The attendee path in English, and the paper cuts of issue 8 (docs/english-and-names.md)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from eventreg import clock
from eventreg.domain.registration import passes
from eventreg.domain.registration.signup import register as sign_up
from eventreg.extensions import db
from eventreg.models import EventSession, MailKind, OutboxMessage, Registration, Status

from ..factories import applicant, event_spec_dict, in_days
from .conftest import csrf_token, valid_form

LATIN = {"family_name": "Schmidt", "given_name": "Anna", "family_kana": "", "given_kana": "",
         "email": "anna@example.org", "email_confirm": "anna@example.org"}


def english(client):
    client.set_cookie("lang", "en")  # what /lang/en sets


def two_sessions(make_event, capacity=(10, 40), **overrides):
    spec = event_spec_dict()
    first = spec["sessions"][0]
    later = dict(first, date=(in_days(21)).date().isoformat())
    return make_event(sessions=[dict(first, title="第1回", capacity=capacity[0]),
                                dict(later, title="第2回", capacity=capacity[1])], **overrides)


def test_a_latin_name_without_furigana_is_accepted_and_shown_given_name_first(client, register, make_event):
    event = make_event()
    english(client)
    response = register(event, **LATIN)
    assert response.status_code == 302
    [r] = db.session.scalars(select(Registration)).all()
    assert (r.family_kana, r.given_kana, r.language) == ("", "", "en")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Anna Schmidt" in page and "Schmidt Anna" not in page
    assert '<h2 class="event-title" lang="ja">' in page  # the organizer's Japanese title


def test_a_japanese_name_without_furigana_is_refused_in_the_page_language(client, register, make_event):
    event = make_event()
    response = register(event, family_kana="", given_kana="")
    assert response.status_code == 400
    assert "漢字・かなで書かれたお名前には、フリガナ" in response.get_data(as_text=True)
    assert db.session.scalars(select(Registration)).all() == []


def test_the_furigana_refusal_in_english(client, register, make_event):
    english(client)  # before the first request: the test client keeps the cookie it was given
    event = make_event()
    response = register(event, family_kana="", given_kana="")
    assert "it is needed for a name written in kanji or kana" in response.get_data(as_text=True)
    assert db.session.scalars(select(Registration)).all() == []


def test_the_form_help_text_states_the_furigana_rule(client, make_event):
    event = make_event()
    assert "ローマ字(アルファベット)だけのお名前は空欄でもかまいません" in client.get(f"/e/{event.slug}").get_data(as_text=True)


def test_the_english_form(client, make_event):
    english(client)
    event = make_event()
    page = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "May be left empty for a name written in Latin letters" in page
    assert '<h1 lang="ja">' in page and '<div class="description" lang="ja">' in page and '<html lang="en">' in page


def test_a_too_long_name_says_the_limit(register, make_event):
    page = register(make_event(), family_name="あ" * 51).get_data(as_text=True)
    assert "50文字以内で入力してください" in page


def test_session_choices_show_full_nearly_full_and_open(client, make_event):
    event = two_sessions(make_event, capacity=(10, 40))
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    db.session.execute(update(EventSession).where(EventSession.id == first.id).values(seats_taken=10))
    db.session.execute(update(EventSession).where(EventSession.id == second.id).values(seats_taken=36))
    db.session.commit()
    page = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "第1回" in page and "満席（キャンセル待ち）" in page and "残りわずか（残り4席）" in page
    db.session.execute(update(EventSession).where(EventSession.id == second.id).values(seats_taken=35))
    db.session.commit()
    assert "受付中" in client.get(f"/e/{event.slug}").get_data(as_text=True)  # 5 of 40 left: > 10 %


def test_a_refusal_says_whether_not_open_or_closed_and_keeps_what_was_typed(client, make_event):
    event = make_event()
    session_id = event.sessions[0].id
    token = csrf_token(client, f"/e/{event.slug}")  # the page was loaded while open
    form = valid_form(session_id=str(session_id), organization="株式会社テスト入力", csrf_token=token)
    opens = clock.utcnow() + timedelta(days=2)
    db.session.execute(update(EventSession).where(EventSession.id == session_id).values(opens_at=opens))
    db.session.commit()
    page = client.post(f"/e/{event.slug}", data=form).get_data(as_text=True)
    local = opens.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert f"受付は {local.month}月{local.day}日" in page and "に始まります" in page
    assert 'value="株式会社テスト入力"' in page  # what the person typed is still there
    closed = clock.utcnow() - timedelta(hours=1)
    db.session.execute(update(EventSession).where(EventSession.id == session_id).values(opens_at=None, closes_at=closed))
    db.session.commit()
    page = client.post(f"/e/{event.slug}", data=form).get_data(as_text=True)
    assert "に終了しました" in page and 'value="株式会社テスト入力"' in page
    assert "受付終了または受付開始前" not in page


def test_a_waiting_person_sees_their_place_and_switches_to_a_free_session(client, make_event):
    event = two_sessions(make_event, capacity=(1, 40))
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    now = clock.utcnow()
    outcomes = [sign_up(first, applicant(), now=now) for _ in range(4)]
    db.session.commit()
    third = outcomes[3]
    page = client.get(f"/r/{third.token}").get_data(as_text=True)
    assert "キャンセル待ち 3番目" in page and "空席のある回に変更する" in page and "第2回" in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(f"/r/{third.token}/switch", data={"csrf_token": token, "session_id": second.id})
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(Registration, third.registration_id)
    assert (moved.session_id, moved.status) == (second.id, Status.confirmed)
    assert db.session.get(EventSession, second.id).seats_taken == 1
    assert db.session.get(EventSession, first.id).seats_taken == 1  # the waiting place held no seat
    kinds = [m.kind for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.registration_id == moved.id).order_by(OutboxMessage.id))]
    assert kinds == [MailKind.waitlisted, MailKind.pass_resent]
    # The one after them moves up a place.
    assert "キャンセル待ち 2番目" not in client.get(f"/r/{outcomes[1].token}").get_data(as_text=True)
    assert "キャンセル待ち 1番目" in client.get(f"/r/{outcomes[1].token}").get_data(as_text=True)
    assert passes.usable(moved)


def test_a_switch_to_a_full_session_is_refused(client, make_event):
    event = two_sessions(make_event, capacity=(1, 1))
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    now = clock.utcnow()
    sign_up(first, applicant(), now=now)
    waiting = sign_up(first, applicant(), now=now)
    sign_up(second, applicant(), now=now)
    db.session.commit()
    page = client.get(f"/r/{waiting.token}").get_data(as_text=True)
    assert "空席のある回に変更する" not in page
    token = csrf_token(client, f"/e/{event.slug}")
    client.post(f"/r/{waiting.token}/switch", data={"csrf_token": token, "session_id": second.id})
    db.session.expire_all()
    assert db.session.get(Registration, waiting.registration_id).status == Status.waitlisted
    assert db.session.get(EventSession, second.id).seats_taken == 1


def test_an_unconfirmed_waiting_person_cannot_switch_into_a_seat(client, make_event):
    """With email confirmation, the page left open after signing up must not take a seat for an
    address nobody confirmed (a mistyped one)."""
    event = two_sessions(make_event, capacity=(1, 40))
    event.confirm_email = True
    db.session.commit()
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    now = clock.utcnow()
    sign_up(first, applicant(), now=now)
    waiting = sign_up(first, applicant(), now=now)
    db.session.commit()
    token = csrf_token(client, f"/e/{event.slug}")
    client.post(f"/r/{waiting.token}/switch", data={"csrf_token": token, "session_id": second.id})
    db.session.expire_all()
    still = db.session.get(Registration, waiting.registration_id)
    assert (still.session_id, still.status) == (first.id, Status.waitlisted)
    assert db.session.get(EventSession, second.id).seats_taken == 0
    page = client.get(f"/r/{waiting.token}").get_data(as_text=True)
    assert "先にメールアドレスの確認をお願いします" in page


def test_the_home_page_lists_events_by_their_next_session(client, make_event):
    later = make_event(title="後の会", start=in_days(30))
    sooner = make_event(title="先の会", start=in_days(3))
    make_event(title="終わった会", start=in_days(-3))
    page = client.get("/").get_data(as_text=True)
    assert page.index("先の会") < page.index("後の会") and "終わった会" not in page
    assert later.id < sooner.id  # not by id


def test_favicon(client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.headers["Location"].endswith("/static/favicon.svg")
    assert client.get("/static/favicon.svg").status_code == 200


def test_the_pass_pdf_is_an_entry_pass_in_the_sign_up_language(client, make_event, tmp_path):
    from ..adapters.pdf_checks import squeezed, text_of

    event = make_event()
    now = clock.utcnow()
    anna = sign_up(event.sessions[0], applicant(family_name="Schmidt", given_name="Anna", family_kana="",
                                                given_kana="", language="en"), now=now)
    hanako = sign_up(event.sessions[0], applicant(), now=now)
    db.session.commit()
    texts = {}
    for name, outcome in (("anna", anna), ("hanako", hanako)):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(client.get(f"/r/{outcome.token}/pass.pdf").data)
        texts[name] = squeezed(text_of(path))
    assert "Entrypass" in texts["anna"] and "AnnaSchmidt" in texts["anna"] and "様" not in texts["anna"]
    assert "入場証" in texts["hanako"] and "山田花子様" in texts["hanako"]
    assert "受付票" not in texts["hanako"] + texts["anna"]
