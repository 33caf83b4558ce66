"""Copies of one sign-up POST at the same moment (a double click, a proxy's retry racing the
original): the form's one-time key makes one registration, and every copy answers with it.

Real HTTP requests through the threaded server (tests/races/conftest.py). On PostgreSQL the copies
run side by side and the unique constraint on registration.signup_key decides; on SQLite the
write intent queues them, and the same constraint turns the later ones away.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from eventreg.domain.registration import signup
from eventreg.extensions import db
from eventreg.models import EventSession, OutboxMessage, Registration

from .edge import SESSION_FULL, at_once, client, csrf_from, form, signup_key_from

COPIES = 8
REFUSED = "このフォームはすでに送信されています。"


class OpenForm:
    """One visitor's page: its cookie, CSRF token and key; ``copy()`` is one sending of it."""

    def __init__(self, base_url: str, event):
        db.session.commit()  # end this thread's read: the server's writers need the (SQLite) lock
        self.base_url, self.path, self.session_id = base_url, f"/e/{event.slug}", event.sessions[0].id
        with client(base_url) as http:
            page = http.get(self.path)
            self.cookies = dict(http.cookies)
        self.token, self.key = csrf_from(page.text), signup_key_from(page.text)

    def copy(self, email: str):
        def send():
            with client(self.base_url, cookies=self.cookies) as http:
                response = http.post(self.path, data=form(self.session_id, email, csrf_token=self.token,
                                                          signup_key=self.key))
            if response.status_code == 302:
                return response.headers["location"]
            if response.status_code == 400 and REFUSED in response.text:
                return "refused"
            return "session_full" if SESSION_FULL in response.text else f"http_{response.status_code}"

        return send


def kept(event) -> tuple[list, int, int]:
    """(the registrations' (email, signup_key), mails, seats taken)."""
    db.session.rollback()
    people = db.session.execute(select(Registration.email, Registration.signup_key)
                                .where(Registration.event_id == event.id)).all()
    mails = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    seats = db.session.scalar(select(EventSession.seats_taken).where(EventSession.id == event.sessions[0].id))
    return [tuple(p) for p in people], mails, seats


def test_copies_of_one_post_at_once_make_one_registration(http_server, make_event):
    event = make_event(capacity=50)
    page = OpenForm(http_server, event)
    answers = at_once([page.copy("twin@example.org") for _ in range(COPIES)])
    assert len(set(answers)) == 1 and "/r/" in answers[0], answers  # every copy: the same page
    assert kept(event) == ([("twin@example.org", page.key)], 1, 1)


def test_copies_at_once_on_the_last_seat(http_server, make_event):
    event = make_event(capacity=1, waitlist=False)
    page = OpenForm(http_server, event)
    answers = at_once([page.copy("last@example.org") for _ in range(COPIES)])
    assert len(set(answers)) == 1 and "/r/" in answers[0], answers
    assert kept(event) == ([("last@example.org", page.key)], 1, 1)


def test_one_key_with_two_emails_at_once_makes_one_registration(http_server, make_event):
    event = make_event(capacity=50)
    page = OpenForm(http_server, event)
    emails = [f"copy{n % 2}@example.org" for n in range(COPIES)]
    answers = at_once([page.copy(email) for email in emails])
    people, mails, seats = kept(event)
    [(winner, key)] = people
    assert key == page.key and (mails, seats) == (1, 1)
    # The winner's copies answer with its page; the other email's copies are refused.
    assert sorted(a == "refused" for a in answers) == [False] * (COPIES // 2) + [True] * (COPIES // 2), answers
    assert all(a == "refused" for a, e in zip(answers, emails, strict=True) if e != winner)


@pytest.fixture
def no_unique_signup_key(app, dialect):
    """The guard taken away: registration.signup_key without its unique constraint (PostgreSQL:
    SQLite cannot drop a constraint without rebuilding the table), put back afterwards."""
    if dialect != "postgresql":
        pytest.skip("SQLite cannot drop a constraint in place; the race is shown on PostgreSQL")
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE registration DROP CONSTRAINT uq_registration_signup_key"))
        try:
            yield
        finally:
            db.session.remove()
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE registration SET signup_key = NULL"))
                conn.execute(text("ALTER TABLE registration ADD CONSTRAINT uq_registration_signup_key "
                                  "UNIQUE (signup_key)"))


@pytest.mark.usefixtures("no_unique_signup_key")
def test_without_the_unique_constraint_one_key_makes_two_registrations(http_server, make_event):
    """The same race as above, without the guard: both emails get a registration from one form."""
    event = make_event(capacity=50)
    page = OpenForm(http_server, event)
    at_once([page.copy(f"copy{n % 2}@example.org") for n in range(COPIES)])
    people, _mails, _seats = kept(event)
    assert sorted(people) == [("copy0@example.org", page.key), ("copy1@example.org", page.key)]


def test_without_the_lookup_after_the_conflict_a_copy_answers_as_a_second_sign_up(http_server, make_event,
                                                                                  monkeypatch):
    """The insert's conflict alone is not enough: without looking the key up, the losing copies
    answer "sent again" and mail the pass again instead of answering with the registration."""
    monkeypatch.setattr(signup, "made_with", lambda *args: None)
    event = make_event(capacity=50)
    page = OpenForm(http_server, event)
    answers = at_once([page.copy("twin@example.org") for _ in range(COPIES)])
    assert len(set(answers)) == 2 and kept(event)[1] == COPIES
