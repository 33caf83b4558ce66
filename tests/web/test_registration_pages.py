from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import EventSession, OutboxMessage, Registration, Status

from ..factories import in_days


def registrations():
    return db.session.scalars(select(Registration).order_by(Registration.id)).all()


def test_event_page_shows_japanese_date_deadline_and_seats(client, make_event):
    event = make_event(capacity=80)
    html = client.get(f"/e/{event.slug}").get_data(as_text=True)
    start = in_days(14)
    weekday = "月火水木金土日"[start.weekday()]
    assert f"{start.year}年{start.month}月{start.day}日({weekday}) 14:00–17:00 日本時間(13:30開場)" in html
    before = start - timedelta(days=1)
    assert f"{before.month}月{before.day}日({'月火水木金土日'[before.weekday()]}) 12:00 締切(日本時間)" in html
    assert "80" in html and 'name="csrf_token"' in html


def test_register_normalises_and_queues_the_confirmation(register, make_event):
    event = make_event()
    response = register(event)
    assert response.status_code == 302
    [r] = registrations()
    assert response.headers["Location"].endswith(f"/r/{r.token}?welcome=1")
    assert (r.family_kana, r.given_kana, r.email) == ("ヤマダ", "ハナコ", "hanako@example.org")
    assert r.status == Status.confirmed and len(r.token) == 32
    assert db.session.get(EventSession, event.sessions[0].id).seats_taken == 1
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    assert mail.kind.value == "confirmation" and mail.registration_id == r.id


def test_the_same_email_twice_takes_one_seat_and_resends_the_link(register, make_event, client):
    event = make_event()
    register(event)
    second = register(event, email="Hanako@Example.org", email_confirm="hanako@example.org")
    assert second.status_code == 302 and second.headers["Location"].endswith(f"/e/{event.slug}/sent")
    assert len(registrations()) == 1
    assert db.session.get(EventSession, event.sessions[0].id).seats_taken == 1
    kinds = sorted(m.kind.value for m in db.session.scalars(select(OutboxMessage)))
    assert kinds == ["confirmation", "pass_resent"]
    # The page does not reveal the pass to whoever typed the address.
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert registrations()[0].token not in page


def test_full_session_goes_to_the_waiting_list_or_refuses(register, make_event):
    event = make_event(capacity=1)
    register(event, email="a@example.org", email_confirm="a@example.org")
    register(event, email="b@example.org", email_confirm="b@example.org")
    assert [r.status for r in registrations()] == [Status.confirmed, Status.waitlisted]

    closed = make_event(capacity=1, waitlist=False)
    register(closed, email="c@example.org", email_confirm="c@example.org")
    refused = register(closed, email="d@example.org", email_confirm="d@example.org")
    assert refused.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == closed.id)) == 1


@pytest.mark.parametrize(("overrides", "field"), [
    ({"email": "not-an-email", "email_confirm": "not-an-email"}, "email"),
    ({"email_confirm": "other@example.org"}, "email_confirm"),
    ({"family_kana": "Yamada"}, "family_kana"),
    ({"family_kana": "山田"}, "family_kana"),
    ({"consent": None}, "consent"),
    ({"family_name": ""}, "family_name"),
    ({"family_name": "山田\u202e"}, "family_name"),
    ({"family_name": "x" * 51}, "family_name"),
    ({"sector": "pirate"}, "sector"),
    ({"phone": "call me"}, "phone"),
])
def test_bad_input_is_refused_with_a_message_and_changes_nothing(register, make_event, overrides, field):
    event = make_event()
    response = register(event, **overrides)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html and f'href="#{field}-field"' in html
    assert registrations() == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_after_the_deadline_the_form_is_gone_and_a_late_post_is_refused(client, make_event):
    event = make_event(deadline={"at": in_days(-1)})
    page = client.get(f"/e/{event.slug}")
    html = page.get_data(as_text=True)
    assert "registration_closed" not in html and 'name="family_name"' not in html
    assert 'class="badge closed"' in html
    late = client.post(f"/e/{event.slug}", data={"session_id": event.sessions[0].id})
    assert late.status_code == 400
    assert registrations() == []


def test_a_post_without_csrf_token_is_refused(client, make_event):
    event = make_event()
    from .conftest import valid_form

    response = client.post(f"/e/{event.slug}", data=valid_form(session_id=event.sessions[0].id))
    assert response.status_code == 400
    assert registrations() == []


def test_cancel_frees_the_seat_and_promotes_the_first_waiting(register, make_event, client):
    event = make_event(capacity=1)
    register(event, email="a@example.org", email_confirm="a@example.org")
    register(event, email="b@example.org", email_confirm="b@example.org")
    first, second = registrations()
    page = client.get(f"/r/{first.token}/cancel")
    assert page.status_code == 200
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(f"/r/{first.token}/cancel", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    first, second = registrations()
    assert (first.status, second.status) == (Status.cancelled, Status.confirmed)
    assert db.session.get(EventSession, event.sessions[0].id).seats_taken == 1
    kinds = [m.kind.value for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds == ["confirmation", "waitlisted", "cancelled", "promoted"]
    # A cancelled pass stops working: no QR, no PDF.
    assert client.get(f"/r/{first.token}/pass.pdf").status_code == 404
    assert "<svg" not in client.get(f"/r/{first.token}").get_data(as_text=True)


@pytest.mark.parametrize("token", ["nope", "A" * 32, "../../etc/passwd", "x" * 500])
def test_unknown_or_tampered_tokens_are_404(client, ctx, token):
    for suffix in ("", "/pass.pdf", "/calendar.ics", "/cancel"):
        assert client.get(f"/r/{token}{suffix}").status_code == 404


def test_english_switch_and_no_open_redirect(client, make_event):
    event = make_event()
    response = client.get(f"/lang/en?next=/e/{event.slug}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/e/{event.slug}")
    html = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert '<html lang="en">' in html and "Register" in html
    assert client.get("/lang/en?next=//evil.example").headers["Location"] == "/"


def test_event_description_markdown_is_sanitised(client, make_event):
    event = make_event(description="**bold** <script>alert(1)</script> [x](javascript:alert(1))")
    html = client.get(f"/e/{event.slug}").get_data(as_text=True)
    assert "<strong>bold</strong>" in html
    assert "<script>alert(1)</script>" not in html and "javascript:" not in html


def test_a_form_from_a_replaced_event_gets_a_message_not_a_500(client, make_event, register):
    from eventreg.domain.backoffice import event_import

    from ..factories import event_spec_dict

    event = make_event()
    shown = SimpleNamespace(slug=event.slug, sessions=[SimpleNamespace(id=event.sessions[0].id)])
    db.session.remove()
    client.get(f"/e/{event.slug}")  # the web process now caches this version
    event_import.replace_event(event_spec_dict(slug=event.slug))
    db.session.commit()
    db.session.remove()
    response = register(shown)  # the attendee's page still shows the old session
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/e/{event.slug}")
    assert registrations() == []
    fresh = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash-error" in fresh and f'value="{shown.sessions[0].id}"' not in fresh
