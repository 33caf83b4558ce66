"""The email-confirmation pages: the attendee's page while held, the confirm button, expiry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from eventreg import clock
from eventreg.domain.registration import holds
from eventreg.extensions import db
from eventreg.models import MailKind, OutboxMessage, Registration, Status

from .conftest import csrf_token


def _held(register, make_event, minutes=30):
    event = make_event(capacity=1, confirm_email=True, hold_minutes=minutes)
    response = register(event)
    assert response.status_code == 302
    return event, db.session.scalar(select(Registration).where(Registration.event_id == event.id))


def _kinds(registration_id):
    db.session.rollback()
    return [m.kind for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.registration_id == registration_id).order_by(OutboxMessage.id))]


def _confirm_url(app, reg) -> str:
    """The confirmation link as the mail carries it (its proof is in the mail only)."""
    from eventreg.web.links import registration_links

    with app.app_context():
        return registration_links(reg)["confirm"].removeprefix("http://testserver")


def test_the_attendee_page_asks_to_confirm_by_a_time(client, register, make_event):
    event, reg = _held(register, make_event)
    assert reg.status == Status.held
    page = client.get(f"/r/{reg.token}?welcome=1").get_data(as_text=True)
    assert "までにメールアドレスを確認してください" in page and reg.email in page
    assert "<svg" not in page  # no pass while held
    assert _kinds(reg.id) == [MailKind.confirm_email]


def test_the_page_after_sign_up_confirms_nothing(app, client, register, make_event):
    """Whoever signed up knows /r/<token>; that must not confirm a mailbox they may not own."""
    event, reg = _held(register, make_event)
    page = client.get(f"/r/{reg.token}?welcome=1").get_data(as_text=True)
    assert "/confirm" not in page and "メールアドレスを確認する" not in page
    url = f"/r/{reg.token}/confirm"
    token = csrf_token(client, f"/r/{reg.token}")
    assert client.post(url, data={"csrf_token": token}).status_code == 404
    assert client.post(f"{url}/{'A' * 22}", data={"csrf_token": token}).status_code == 404
    assert client.get(f"{_confirm_url(app, reg)}x").status_code == 404
    db.session.refresh(reg)
    assert reg.status == Status.held and reg.email_confirmed_at is None


def test_the_page_after_sign_up_resends_to_the_same_address_only(client, register, make_event):
    event, reg = _held(register, make_event)
    url = f"/r/{reg.token}/resend-confirmation"
    token = csrf_token(client, f"/r/{reg.token}")
    for _ in range(holds.RESENDS):
        response = client.post(url, data={"csrf_token": token, "email": "elsewhere@example.org"})
        assert response.status_code == 302
    assert "メールを再送しました" in client.get(response.headers["Location"]).get_data(as_text=True)
    refused = client.post(url, data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "再送できる回数" in refused
    assert _kinds(reg.id) == [MailKind.confirm_email] * (1 + holds.RESENDS)
    addresses = {m.to_address for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.registration_id == reg.id))}
    assert addresses <= {None, reg.email}  # None: the registration's own address, read at delivery


def test_get_confirms_nothing_post_confirms_once(app, client, register, make_event):
    event, reg = _held(register, make_event)
    url = _confirm_url(app, reg)
    page = client.get(url)
    assert page.status_code == 200 and "メールアドレスを確認する" in page.get_data(as_text=True)
    db.session.refresh(reg)
    assert reg.status == Status.held  # a mail scanner fetching the link confirms nothing
    token = csrf_token(client, url)
    first = client.post(url, data={"csrf_token": token})
    second = client.post(url, data={"csrf_token": token})
    assert first.status_code == 303 and second.status_code == 200
    assert "メールアドレスは確認済みです" in second.get_data(as_text=True)
    db.session.refresh(reg)
    assert reg.status == Status.confirmed
    assert _kinds(reg.id).count(MailKind.confirmation) == 1


def test_a_click_after_expiry_says_so_and_offers_to_sign_up_again(client, register, make_event, app):
    event, reg = _held(register, make_event, minutes=5)
    url = _confirm_url(app, reg)
    token = csrf_token(client, url)
    later = clock.utcnow() + timedelta(minutes=6)
    assert holds.expire(reg.id, later)
    db.session.commit()
    response = client.post(url, data={"csrf_token": token})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "確認の期限" in body and f"/e/{event.slug}" in body
    db.session.refresh(reg)
    assert reg.status == Status.cancelled and _kinds(reg.id)[-1] == MailKind.hold_expired


def test_hold_minutes_is_checked_with_a_localized_message(make_event):
    from eventreg.domain.backoffice import event_checks

    try:
        event_checks.clean_event({"title": "x", "hold_minutes": "2", "timezone": "Asia/Tokyo"})
    except event_checks.InvalidValues as exc:
        assert [(p.field, p.code, p.params) for p in exc.problems] == [
            ("hold_minutes", "hold_minutes_range", {"min": 5, "max": 1440})]
    else:
        raise AssertionError("2 minutes was accepted")


def _deliver(app, now=None):
    from eventreg import worker

    db.session.commit()
    while worker.deliver_due(app, worker_id="test", now=now):
        pass


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_the_emails_at_the_smtp_server(app, client, register, make_event, smtp_server):
    """Held → confirm_email (with the link); a second person waits and confirms; the hold runs
    out in the tick → hold_expired to the first, promoted (with the pass) to the second."""
    from eventreg import worker

    event, first = _held(register, make_event, minutes=5)
    register(event, email="second@example.org", email_confirm="second@example.org")
    second = db.session.scalar(select(Registration).where(Registration.email == "second@example.org"))
    _deliver(app)
    ask = smtp_server.to("hanako@example.org")[-1]
    assert "メールアドレスの確認のお願い" in ask["Subject"]
    assert f"http://testserver{_confirm_url(app, first)}" in _text(ask) and "仮押さえ" in _text(ask)
    url = _confirm_url(app, second)
    assert client.post(url, data={"csrf_token": csrf_token(client, url)}).status_code == 303
    later = clock.utcnow() + timedelta(minutes=6)
    assert worker.tick(app, now=later)["hold_expired"] == 1
    _deliver(app, later)
    expired = smtp_server.to("hanako@example.org")[-1]
    assert "確認期限切れ" in expired["Subject"] and f"/e/{event.slug}" in _text(expired)
    promoted = smtp_server.to("second@example.org")[-1]
    assert "参加確定" in promoted["Subject"]
    assert any(part.get_filename() == "pass.pdf" for part in promoted.iter_attachments())


def test_a_second_sign_up_while_held_resends_the_confirm_link(app, register, make_event, smtp_server):
    event, first = _held(register, make_event)
    assert register(event).status_code == 302  # the same email again: a pass_resent
    _deliver(app)
    resent = smtp_server.to("hanako@example.org")[-1]
    assert "仮押さえ中" in _text(resent) and _confirm_url(app, first) in _text(resent)
    assert not any(part.get_filename() == "pass.pdf" for part in resent.iter_attachments())
