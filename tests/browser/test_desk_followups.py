"""The check-in log on a phone, after two offline desks: the conflict line, the task and its
「対応済み」 button (a plain form: no script), the clock-skew line; the overview's count links there."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import httpx

from eventreg.domain.access import api_tokens
from eventreg.domain.registration import passes
from eventreg.extensions import db

from .. import factories
from .test_attendee_list import no_sideways_scroll, sign_in


def offline_day(app, live_server) -> tuple[int, str]:
    with app.app_context():
        event = factories.make_event(capacity=1)
        person = factories.register_person(event, family_name="山田", given_name="花子")
        owner = factories.make_staff("owner", events=[event])
        token = api_tokens.create_api_token(owner, "desk", now=datetime.now(timezone.utc))
        db.session.commit()
        event_id, email, payload, session_id = event.id, owner.email, passes.qr_payload(person), event.sessions[0].id
        db.session.remove()
    now = datetime.now(timezone.utc)

    def send(desk, ops, sent_at=now):
        body = {"device": desk, "desk": desk, "sent_at": sent_at.isoformat(), "operations": ops}
        response = httpx.post(f"{live_server}/api/v1/events/{event_id}/desk-batches", json=body,
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text

    def op(n, at, kind, **fields):
        return {"id": f"{kind}-{n}", "seq": n, "at": at.isoformat(), "kind": kind, **fields}

    send("受付1", [op(1, now - timedelta(minutes=20), "scan", payload=payload)])
    send("受付2", [op(2, now - timedelta(minutes=19), "scan", payload=payload)])
    fast = now + timedelta(minutes=8)
    send("受付2", [op(3, fast - timedelta(minutes=1), "walk_in", confirm=False, fields={
        "session_id": session_id, "family_name": "当日", "given_name": "一郎", "family_kana": "トウジツ",
        "given_kana": "イチロウ", "sector": "individual"})], sent_at=fast)
    return event_id, email


def test_the_log_on_a_phone(app, live_server, phone, shot):
    event_id, email = offline_day(app, live_server)
    sign_in(phone, live_server, email, f"/admin/events/{event_id}")
    link = phone.locator("#desk-followups a")
    assert "受付の未対応 1件" in link.inner_text() and "2か所で受付 1件" in link.inner_text()
    link.click()
    phone.wait_for_url(f"**/admin/events/{event_id}/checkins#desk-tasks")
    assert "山田 花子" in phone.locator("#desk-conflicts").inner_text()
    assert " 受付1 / " in phone.locator("#desk-conflicts .conflict-text").inner_text()
    assert "当日 一郎" in phone.locator("#desk-tasks").inner_text()
    assert re.search(r"受付2 · \+(7分5\d|8分\d)秒", phone.locator("#desk-skew").inner_text())  # 8 min fast
    assert no_sideways_scroll(phone)
    shot(phone, "checkins-desk-followups-phone")
    phone.click("#desk-tasks button")
    phone.wait_for_load_state()
    assert phone.locator("#desk-tasks").count() == 0
    assert "対応済みにしました" in phone.content()
