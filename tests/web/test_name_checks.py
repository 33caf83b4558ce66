"""The registration form and the walk-in API refuse, with words naming the character, what the
PDFs could not print or what is not a name; they store deliverable email addresses."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from eventreg.domain.access import api_tokens
from eventreg.extensions import db
from eventreg.models import Registration

from .. import factories
from .test_api import assert_error, call


@pytest.fixture
def desk(make_event):
    """An event and a reception user's API token for it."""
    event = make_event()
    user = factories.make_staff("reception", events=[event])
    token = api_tokens.create_api_token(user, "desk", now=datetime.now(timezone.utc))
    db.session.commit()
    return SimpleNamespace(event=event.id, session=event.sessions[0].id, token=token)


def stored() -> list[Registration]:
    return db.session.scalars(select(Registration)).all()


@pytest.mark.parametrize("field, value, words", [
    ("family_name", "𣒺田", "「𣒺 (U+234BA)」は入場証・名札に印刷できない文字です"),
    ("given_name", "花子😀", "名前・所属には絵文字を使えません: 😀 (U+1F600)"),
    ("family_name", "\u3164", "見えない文字(U+3164)が含まれています"),
    ("given_name", "\u2800\u2800", "見えない文字(U+2800)が含まれています"),
    ("given_name", "a" + "\u0301" * 30, "1文字に付いている記号"),
    ("family_name", "山\ufffd", "文字化けの印(U+FFFD)"),
    ("organization", "🏢 株式会社", "絵文字を使えません"),
    ("department", "・・・", "記号や空白だけでは登録できません"),
    ("email", "山田@example.jp", "@より前が半角英数字と記号だけのメールアドレス"),
])
def test_the_form_refuses_with_a_message_and_stores_nothing(register, make_event, field, value, words):
    overrides = {field: value}
    if field == "email":
        overrides["email_confirm"] = value
    response = register(make_event(), **overrides)
    assert response.status_code == 400  # the form again, with the message
    assert words in response.get_data(as_text=True)
    assert stored() == []


def test_english_pages_name_the_character_too(client, register, make_event):
    client.set_cookie("lang", "en")
    response = register(make_event(), family_name="𣒺田")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and stored() == []
    assert "The character 𣒺 (U+234BA) cannot be printed on the entry pass and name badge" in page


def test_a_non_bmp_name_and_an_idn_address_are_stored(register, make_event):
    response = register(make_event(), family_name="𠮷野", given_name="𩸽子", organization="（株）髙﨑",
                        email="taro@例え.jp", email_confirm="TARO@例え.jp")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    [r] = stored()
    assert (r.family_name, r.given_name, r.organization, r.email) == \
        ("𠮷野", "𩸽子", "(株)髙﨑", "taro@xn--r8jz45g.jp")


@pytest.mark.parametrize("change, field", [
    ({"family_name": "😀"}, "family_name"),
    ({"given_name": "\u3164"}, "given_name"),
    ({"organization": "𣒺"}, "organization"),
    ({"email": "山田@example.jp"}, "email"),
])
def test_the_walk_in_api_refuses_the_same(client, desk, change, field):
    form = {"session_id": desk.session, "family_name": "佐藤", "given_name": "次郎", "family_kana": "サトウ",
            "given_kana": "ジロウ", "sector": "individual", **change}
    error = assert_error(call(client, "POST", f"/events/{desk.event}/walk-ins", desk.token, form),
                         422, "invalid_input")
    assert list(error["fields"]) == [field]
