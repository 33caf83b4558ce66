"""Parts (a) and (c) of the post-event loop end to end, at the SMTP server: the survey invitation
carries the person's own link (it opens their survey and nobody else's) and goes to those who came,
not to those who stopped organizer messages; the certificate goes to those who came, opt-outs
included (it is about their own registration), with its PDF attached, issued once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg.domain.communication import followups, opt_outs
from eventreg.domain.insight import surveys
from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.models import Certificate, MailKind, OutboxMessage
from eventreg.worker import deliver_due, tick

from .. import factories


@pytest.fixture
def seminar(make_event):
    """Three came (one of them stopped organizer messages), two did not, one waiting; a survey;
    every part of the loop on."""
    event = make_event(capacity=5)
    people = [factories.register_person(event, email=f"p{i}@example.org") for i in range(5)]
    factories.register_person(event, email="waiting@example.org")
    for registration in people[:3]:
        checkin.check_in(registration, session_id=None, desk="受付1", now=event.sessions[0].starts_at)
    opt_outs.stop(people[2], event.sessions[0].starts_at)
    surveys.create_survey(event, with_defaults=True, title="アンケート", actor=None, now=event.sessions[0].starts_at)
    followups.update(event, rule="end+30m", parts={"survey": True, "noshow": True, "certificate": True},
                     noshow_text="", materials_url="", actor=None, now=event.sessions[0].starts_at)
    db.session.commit()
    return event, people


def run_loop(app, event):
    due = event.sessions[0].ends_at + timedelta(minutes=30)
    db.session.commit()
    tick(app, now=due)
    while deliver_due(app, worker_id="test", now=due):
        pass


def kinds_per_person() -> Counter:
    db.session.expire_all()
    return Counter(db.session.execute(select(OutboxMessage.registration_id, OutboxMessage.kind)).all())


def test_each_part_goes_to_the_right_people_once(app, smtp_server, seminar):
    event, people = seminar
    run_loop(app, event)
    sent = kinds_per_person()
    came, stopped, noshows = people[:2], people[2], people[3:]
    for registration in came:
        assert sent[(registration.id, MailKind.followup_survey)] == 1
        assert sent[(registration.id, MailKind.followup_certificate)] == 1
        assert sent[(registration.id, MailKind.followup_noshow)] == 0
    assert sent[(stopped.id, MailKind.followup_survey)] == 0  # an organizer message: left out
    assert sent[(stopped.id, MailKind.followup_certificate)] == 1  # their own registration's paper
    for registration in noshows:
        assert sent[(registration.id, MailKind.followup_noshow)] == 1
        assert sent[(registration.id, MailKind.followup_survey)] == sent[(registration.id, MailKind.followup_certificate)] == 0
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 3
    assert len([m for m in smtp_server.messages if "アンケート" in m["Subject"]]) == 2
    assert len([m for m in smtp_server.messages if "参加証明書" in m["Subject"]]) == 3
    assert len([m for m in smtp_server.messages if "資料と次回" in m["Subject"]]) == 2


def test_the_survey_link_opens_that_persons_survey_only(app, smtp_server, seminar):
    event, people = seminar
    run_loop(app, event)
    for message in (m for m in smtp_server.messages if "アンケート" in m["Subject"]):
        text = message.get_body(("plain",)).get_content()
        key = text.split("/s/", 1)[1].split()[0].split("?")[0]
        found = surveys.find_by_key(key, app.config["SECRET_KEY"])
        assert found is not None and found.email in str(message["To"])


def test_the_certificate_is_attached_as_a_pdf(app, smtp_server, seminar):
    event, _people = seminar
    run_loop(app, event)
    message = next(m for m in smtp_server.messages if "参加証明書" in m["Subject"])
    attached = [part for part in message.iter_attachments() if part.get_filename() == "certificate.pdf"]
    assert len(attached) == 1 and attached[0].get_content_type() == "application/pdf"
    assert attached[0].get_content().startswith(b"%PDF")
