"""The 個人情報 tab and one person's export / deletion in the back office."""

from __future__ import annotations

import json

from eventreg.extensions import db
from eventreg.models import AuditEntry, Registration, Status

from .. import factories
from .conftest import csrf_token


def test_the_privacy_page_saves_the_period_and_the_notice(client, login, make_event):
    event = make_event()
    login(factories.make_staff("owner", events=[event]))
    url = f"/admin/events/{event.id}/privacy"
    page = client.get(url).get_data(as_text=True)
    assert "個人情報" in page and "受付の読み取り記録" in page and "若者TECHプロジェクト" in page
    bad = client.post(url, data={"csrf_token": csrf_token(client, url), "retention_days": "9999", "privacy_notice": ""})
    assert bad.status_code == 400 and "0〜3650" in bad.get_data(as_text=True)
    ok = client.post(url, data={"csrf_token": csrf_token(client, url), "retention_days": "30",
                                "privacy_notice": "保存期間は30日です。"})
    assert ok.status_code == 303
    db.session.refresh(event)
    assert (event.retention_days, event.privacy_notice) == (30, "保存期間は30日です。")
    assert db.session.query(AuditEntry).filter_by(event_id=event.id, action="privacy_settings").count() == 1
    form = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert 'id="privacy"' in form and "保存期間は30日です。" in form


def test_the_public_form_shows_a_default_notice(client, make_event):
    event = make_event(privacy_notice="")
    form = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "若者TECHプロジェクト" in form and "90日後に削除" in form


def test_one_persons_data_downloaded_then_deleted(client, login, make_event):
    event = make_event(capacity=1)
    reg = factories.register_person(event, family_name="削除", email="bye@example.org")
    waiting = factories.register_person(event, family_name="待機")
    assert waiting.status == Status.waitlisted
    login(factories.make_staff("editor", events=[event]))
    base = f"/admin/events/{event.id}/registrations/{reg.id}"
    assert "この方のデータを削除" in client.get(base).get_data(as_text=True)
    data = json.loads(client.get(f"{base}/personal-data").get_data(as_text=True))
    assert data["registrations"][0]["registration"]["family_name"] == "削除"
    assert client.get(f"{base}/delete-person").status_code == 200
    response = client.post(f"{base}/delete-person", data={"csrf_token": csrf_token(client, f"{base}/delete-person")})
    assert response.status_code == 303
    db.session.expire_all()
    gone = db.session.get(Registration, reg.id)
    assert gone.email is None and gone.family_name == "" and gone.status == Status.cancelled
    assert db.session.get(Registration, waiting.id).status == Status.confirmed
    entry = db.session.query(AuditEntry).filter_by(registration_id=reg.id, action="person_deleted").one()
    assert "削除" not in json.dumps(entry.changes, ensure_ascii=False) + entry.note
