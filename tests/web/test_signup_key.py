"""The sign-up form's one-time key: the same POST sent again makes one registration and one mail.

Races of two copies at once are in tests/races/test_signup_key_race.py.
"""

from __future__ import annotations

import logging
import re
import uuid

from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import EventSession, OutboxMessage, Registration

from .conftest import csrf_token, valid_form

KEY = re.compile(r'name="signup_key" value="([^"]*)"')


def key_from(html: str) -> str:
    match = KEY.search(html)
    assert match, "no signup_key on the page"
    return match.group(1)


def opened(client, event) -> dict:
    """The form as a browser holds it after GET /e/<slug>: its CSRF token and its one-time key."""
    page = client.get(f"/e/{event.slug}").get_data(as_text=True)
    return valid_form(session_id=str(event.sessions[0].id), csrf_token=csrf_token(client, f"/e/{event.slug}"),
                      signup_key=key_from(page))


def state(event) -> tuple:
    """(registrations, mails, seats taken): what a copy of a POST must leave unchanged."""
    db.session.rollback()
    count = select(func.count())
    return (db.session.scalar(count.select_from(Registration).where(Registration.event_id == event.id)),
            db.session.scalar(count.select_from(OutboxMessage)),
            db.session.scalar(select(EventSession.seats_taken).where(EventSession.id == event.sessions[0].id)))


def test_every_page_shown_has_a_new_key(client, make_event):
    event = make_event()
    keys = {key_from(client.get(f"/e/{event.slug}").get_data(as_text=True)) for _ in range(3)}
    assert len(keys) == 3 and all(re.fullmatch(r"[A-Za-z0-9_-]{32}", k) for k in keys)


def test_the_same_post_twice_answers_the_same_and_makes_one_registration(client, make_event):
    event = make_event()
    form = opened(client, event)
    first = client.post(f"/e/{event.slug}", data=form)
    assert first.status_code == 302 and "/r/" in first.headers["Location"]
    after_first = state(event)
    assert after_first == (1, 1, 1)
    again = client.post(f"/e/{event.slug}", data=form)
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert state(event) == after_first  # no second registration, no mail, no seat
    assert db.session.scalar(select(Registration.signup_key)) == form["signup_key"]


def test_the_same_key_after_the_session_filled_still_answers_the_first_success(client, make_event):
    event = make_event(capacity=1, waitlist=False)
    form = opened(client, event)
    first = client.post(f"/e/{event.slug}", data=form)
    again = client.post(f"/e/{event.slug}", data=form)  # no seat left: the key is looked up first
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert state(event) == (1, 1, 1)


def test_the_same_key_with_another_email_is_refused_with_a_fresh_form(client, make_event):
    event = make_event()
    form = opened(client, event)
    client.post(f"/e/{event.slug}", data=form)
    before = state(event)
    other = client.post(f"/e/{event.slug}", data={**form, "email": "other@example.org",
                                                   "email_confirm": "other@example.org"})
    assert other.status_code == 400
    html = other.get_data(as_text=True)
    assert "このフォームはすでに送信されています。内容を確認して、もう一度送信してください。" in html
    fresh = key_from(html)
    assert fresh != form["signup_key"]
    assert 'value="other@example.org"' in html  # what they typed is kept
    assert state(event) == before
    # The page's new key goes through.
    resent = client.post(f"/e/{event.slug}", data={**form, "email": "other@example.org",
                                                    "email_confirm": "other@example.org", "signup_key": fresh})
    assert resent.status_code == 302 and state(event)[0] == 2


def test_the_same_key_for_another_event_is_refused(client, make_event):
    event, other = make_event(), make_event()
    form = opened(client, event)
    client.post(f"/e/{event.slug}", data=form)
    on_other = opened(client, other)
    response = client.post(f"/e/{other.slug}", data={**on_other, "signup_key": form["signup_key"]})
    assert response.status_code == 400
    assert "このフォームはすでに送信されています" in response.get_data(as_text=True)
    assert state(other)[0] == 0 and state(event)[0] == 1


def test_the_refusal_in_english(client, make_event):
    event = make_event()
    client.set_cookie("lang", "en")
    form = opened(client, event)
    client.post(f"/e/{event.slug}", data=form)
    response = client.post(f"/e/{event.slug}", data={**form, "email": "x@example.org", "email_confirm": "x@example.org"})
    assert "This form has already been sent. Please check what you entered and send it again." in \
        response.get_data(as_text=True)


def test_a_form_without_a_key_works_as_before(client, make_event):
    event = make_event()
    form = opened(client, event)
    del form["signup_key"]  # a page cached from before the key
    assert client.post(f"/e/{event.slug}", data=form).status_code == 302
    again = client.post(f"/e/{event.slug}", data=form)  # the same email: the link is sent again
    assert again.headers["Location"].endswith(f"/e/{event.slug}/sent")
    assert state(event) == (1, 2, 1)
    assert db.session.scalar(select(Registration.signup_key)) is None


def test_a_damaged_key_is_refused_with_words_not_an_error(client, make_event):
    event = make_event()
    form = opened(client, event)
    for damaged in ("x" * 65, "short", "<script>alert(1)</script>aaaaaaaaaaa", "鍵" * 20):
        response = client.post(f"/e/{event.slug}", data={**form, "signup_key": damaged})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "このフォームは正しく送信されませんでした" in html and key_from(html) != damaged
    assert state(event) == (0, 0, 0)


def test_a_copy_does_not_count_against_the_email_limit(app, make_app, make_event):
    event = make_event(capacity=50)
    limited = make_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "BASE_URL": "http://testserver", "MAIL_PORT": 1, "RATELIMIT_ENABLED": True,
        "RATELIMIT_PREFIX": f"test-{uuid.uuid4().hex}", "RATELIMIT_SIGNUP_PER_EMAIL": "2/hour",
        "RATELIMIT_SIGNUP_PER_ADDRESS": "100/hour",
    })
    client = limited.test_client()
    form = opened(client, event)
    answers = [client.post(f"/e/{event.slug}", data=form).status_code for _ in range(4)]
    assert answers == [302] * 4  # one sign-up and three copies: one count
    second = opened(client, event)  # the same person fills in a new page: the second count
    assert client.post(f"/e/{event.slug}", data=second).status_code == 302
    assert client.post(f"/e/{event.slug}", data=opened(client, event)).status_code == 429


def test_the_key_is_never_logged(app, client, make_event, caplog):
    event = make_event()
    form = opened(client, event)
    with caplog.at_level(logging.DEBUG):
        client.post(f"/e/{event.slug}", data=form)
        client.post(f"/e/{event.slug}", data=form)
        client.post(f"/e/{event.slug}", data={**form, "email": "x@example.org", "email_confirm": "x@example.org"})
    assert caplog.records  # the SQL of the sign-up is logged at DEBUG: the key is a hidden parameter
    assert form["signup_key"] not in caplog.text
    assert all(form["signup_key"] not in r.getMessage() for r in caplog.records)
