"""/j/<key>: the join link's pages, its redirect, its headers and the check-in log."""

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from eventreg import clock
from eventreg.domain.backoffice import hybrid
from eventreg.domain.registration import join_links, signup
from eventreg.extensions import db
from eventreg.models import Registration, Scan, ScanMethod
from eventreg.web.security import redact_path

from .. import factories
from ..domain.test_join_links import MEETING, hybrid_event, register


@pytest.fixture
def at():
    """Sets the development clock to a moment (aware) for the requests that follow."""

    def set_to(moment):
        clock.set_setting(moment.isoformat())

    yield set_to
    clock.set_setting("")


def person_and_link(make_event):
    event = hybrid_event(make_event)
    person = register(hybrid.twin_of(event.sessions[0]))
    return event, person, "/j/" + join_links.key(person, current_app.config["SECRET_KEY"])


def test_before_inside_after(client, make_event, at):
    event, person, link = person_and_link(make_event)
    session = person.session

    at(session.doors_at - timedelta(hours=26, minutes=3))
    early = client.get(link)
    html = early.get_data(as_text=True)
    assert early.status_code == 200 and 'id="join-countdown"' in html
    assert "1 日 02:03:00" in html or "1日 02:03:00" in html or "1 d 02:03:00" in html, html
    assert "山田 花子" in html  # a forwarded link shows whose it is
    assert MEETING not in html and "meet.example.net" not in html
    assert early.headers["Cache-Control"] == "no-store" and early.headers["Referrer-Policy"] == "no-referrer"

    at(session.doors_at + timedelta(minutes=1))
    inside = client.get(link)
    assert inside.status_code == 303 and inside.headers["Location"] == MEETING
    assert inside.headers["Cache-Control"] == "no-store" and inside.headers["Referrer-Policy"] == "no-referrer"
    assert MEETING not in inside.get_data(as_text=True)
    db.session.expire_all()
    came = db.session.get(Registration, person.id)
    assert came.checked_in_desk == "online" and came.checked_in_at is not None

    at(session.ends_at + timedelta(minutes=1))
    event.materials_url = "https://example.org/materials/seminar.pdf"
    db.session.commit()
    after = client.get(link)
    assert 'href="https://example.org/materials/seminar.pdf"' in after.get_data(as_text=True)
    assert after.status_code == 200 and MEETING not in after.get_data(as_text=True)
    assert "終了しました" in after.get_data(as_text=True)
    methods = db.session.scalars(select(Scan.method).where(Scan.registration_id == person.id)).all()
    assert methods == [ScanMethod.join] * 3


def test_refused_after_cancel_and_unknown_keys(client, make_event, at):
    event, person, link = person_and_link(make_event)
    at(person.session.doors_at + timedelta(minutes=1))
    signup.cancel(db.session.get(Registration, person.id), now=clock.utcnow())
    db.session.commit()
    refused = client.get(link)
    assert refused.status_code == 410 and MEETING not in refused.get_data(as_text=True)
    assert "キャンセル" in refused.get_data(as_text=True)
    assert client.get(link + "x").status_code == 404
    assert client.get("/j/" + "1" * 80 + ".a").status_code == 404


def test_one_persons_key_opens_nothing_of_anothers(client, make_event, at):
    event, person, link = person_and_link(make_event)
    other = register(person.session)
    at(person.session.doors_at + timedelta(minutes=1))
    proof = link.rsplit(".", 1)[1]
    assert client.get(f"/j/{other.id}.{proof}").status_code == 404
    assert db.session.get(Registration, other.id).checked_in_at is None


def test_no_meeting_url_yet_says_so(client, make_event, at):
    event = make_event()
    hybrid.apply_mode(event.sessions[0], {"mode": "online"}, actor=None, now=clock.utcnow())
    db.session.commit()
    person = factories.register_person(event)
    at(person.session.doors_at)
    answer = client.get("/j/" + join_links.key(person, current_app.config["SECRET_KEY"]))
    assert answer.status_code == 200 and "準備" in answer.get_data(as_text=True)


def test_the_path_is_redacted_in_logs():
    assert redact_path("GET /j/12.abcDEF_-x HTTP/1.1") == "GET /j/[redacted] HTTP/1.1"
    assert redact_path("/%6a/12.abc") == "/%6a/[redacted]"


def test_openings_are_in_the_check_in_log_next_to_desk_arrivals(client, make_event, at, login):
    from eventreg.domain.reception import checkin

    event, person, link = person_and_link(make_event)
    here = register(event.sessions[0])
    at(person.session.doors_at + timedelta(minutes=1))
    assert client.get(link).status_code == 303
    checkin.check_in_by_id(here.id, event=event, method=ScanMethod.search, desk="受付1", user_id=None,
                           now=clock.utcnow())
    db.session.commit()
    login(factories.make_staff("organizer", events=[event]))
    page = client.get(f"/admin/events/{event.id}/checkins").get_data(as_text=True)
    assert 'data-method="join"' in page and "参加用リンク(オンライン)" in page
    assert 'data-method="search"' in page
    assert MEETING not in page
