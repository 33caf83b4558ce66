"""/verify: a real certificate is confirmed with its name, event, date and organizer (and nothing
else of anyone); an unknown or forged code is refused in words; any input is a page, never a 500;
answers are not cached; the checks are rate-limited per client address."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from eventreg.domain.reception import checkin
from eventreg.domain.registration import certificates
from eventreg.extensions import db

from .. import factories

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def issued(make_event):
    event = make_event(title="NPO会計セミナー", organizer="ちば市民活動サポートクラブ")
    person = factories.register_person(event, family_name="渡邊", given_name="真由美", organization="株式会社ミライ会計",
                                       phone="090-1234-5678")
    checkin.check_in(person, session_id=None, desk="受付1", now=NOW)
    cert = certificates.issue(person, NOW)
    db.session.commit()
    return cert, person


def test_a_real_certificate_is_confirmed_without_other_personal_data(client, issued):
    cert, person = issued
    answer = client.get(f"/verify/{certificates.formatted(cert.code)}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert "正規のもの" in html and "渡邊 真由美" in html and "NPO会計セミナー" in html
    assert "ちば市民活動サポートクラブ" in html and "2026年" in html
    for secret in (person.email, person.organization, person.phone, person.token, person.family_kana):
        assert secret not in html


def test_the_code_as_typed_from_paper_is_found(client, issued):
    cert, _ = issued
    typed = " " + cert.code.lower()[:4] + "ー" + cert.code.lower()[4:] + " "
    answer = client.get("/verify", query_string={"code": typed})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/verify/{certificates.formatted(cert.code)}")


def test_a_forged_code_is_refused_in_words(client, issued):
    cert, _ = issued
    forged = cert.code[:-1] + ("0" if cert.code[-1] != "0" else "1")
    answer = client.get(f"/verify/{forged}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 404 and "このコードの参加証明書はありません" in html and "渡邊" not in html
    client.set_cookie("lang", "en")
    assert "No certificate has this code" in client.get(f"/verify/{forged}").get_data(as_text=True)


def test_a_renamed_person_or_event_does_not_change_what_is_confirmed(client, issued):
    cert, person = issued
    person.family_name = "田中"
    person.event.title = "別の名前"
    db.session.commit()
    html = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "渡邊 真由美" in html and "NPO会計セミナー" in html


def test_a_withdrawn_certificate_is_not_confirmed(client, issued):
    cert, _ = issued
    cert.revoked_at = NOW + timedelta(days=1)
    db.session.commit()
    html = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "取り消されています" in html and "正規のもの" not in html


@pytest.mark.parametrize("junk", ["", "x" * 5000, "%00", "ABCD%2FEFGH", "' OR 1=1 --", "𠮷" * 12, "%E3%83%BC" * 30,
                                  "..%2F..%2Fetc"])
def test_no_input_is_a_server_error(client, issued, junk):
    assert client.get(f"/verify/{junk}").status_code in (400, 404, 308)
    assert client.get("/verify", query_string={"code": junk}).status_code in (400, 303)
    page = client.get("/verify")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"


def test_checks_are_rate_limited_per_address(app, make_app, issued):
    cert, _ = issued
    limited = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "BASE_URL": "http://testserver", "MAIL_PORT": 1, "RATELIMIT_ENABLED": True,
                        "RATELIMIT_PREFIX": f"test-{uuid.uuid4().hex}", "RATELIMIT_VERIFY": "5 per minute"})
    client = limited.test_client()
    here = {"REMOTE_ADDR": "192.0.2.10"}
    for n in range(5):
        assert client.get(f"/verify/{'0' * 11}{n}", environ_base=here).status_code == 404
    refused = client.get(f"/verify/{cert.code}", environ_base=here)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert client.get(f"/verify/{cert.code}", environ_base={"REMOTE_ADDR": "192.0.2.99"}).status_code == 200
