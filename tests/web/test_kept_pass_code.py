"""A pass's QR code is encoded once, when its mail issues the pass, and kept (models.PassQr): the
mail's PDF, the pass page and the pass PDF all draw that code, and what they draw decodes
(zxing-cpp) to a valid entry credential of the right person."""

from __future__ import annotations

from sqlalchemy import func, select, update

from eventreg import clock
from eventreg.adapters import qr
from eventreg.domain.registration import passes
from eventreg.domain.registration.signup import register
from eventreg.extensions import db
from eventreg.models import PassQr, Registration
from eventreg.worker import deliver_due

from ..factories import applicant
from .test_credentials import qr_texts


def sign_up(event, email="kept@example.org"):
    outcome = register(event.sessions[0], applicant(email=email), now=clock.utcnow())
    db.session.commit()
    return outcome.registration


def deliver(app) -> int:
    db.session.commit()
    return deliver_due(app, worker_id="test-worker")


def kept_rows() -> list[PassQr]:
    db.session.expire_all()
    return db.session.scalars(select(PassQr)).all()


def mailed_pass(message) -> bytes:
    [pdf] = [a for a in message.iter_attachments() if a.get_filename() == "pass.pdf"]
    return pdf.get_content()


def assert_credential_of(text: str, registration: Registration) -> None:
    credential = passes.parse(text)
    assert credential is not None
    assert passes.verify(credential, registration.event.pass_key, registration.event_id)
    assert passes.find_entry(credential).id == registration.id


def test_the_confirmation_mail_keeps_the_code_it_drew(app, make_event, smtp_server):
    person = sign_up(make_event())
    assert kept_rows() == []  # signing up encodes nothing
    assert deliver(app) == 1
    [row] = kept_rows()
    payload = passes.qr_payload(person)
    assert (row.registration_id, row.payload) == (person.id, payload)
    assert (row.size, row.path) == (qr.symbol(payload).size, qr.symbol(payload).path)
    [text] = qr_texts(mailed_pass(smtp_server.received[0]), 150)
    assert text == payload
    assert_credential_of(text, person)


def test_a_mail_that_was_not_sent_keeps_nothing(app, make_event, smtp_server):
    smtp_server.stop()
    sign_up(make_event())
    assert deliver(app) == 0
    assert kept_rows() == []


def test_a_stale_code_is_replaced_by_the_next_mail_with_the_pass(app, make_event, smtp_server):
    event = make_event()
    person = sign_up(event, email="twice@example.org")
    assert deliver(app) == 1
    old = kept_rows()[0].payload
    db.session.execute(update(Registration).where(Registration.id == person.id)
                       .values(entry_version=Registration.entry_version + 1))
    db.session.commit()
    sign_up(event, email="twice@example.org")  # a duplicate sign-up: the pass is mailed again
    assert deliver(app) == 1
    db.session.expire_all()
    [row] = kept_rows()
    assert row.payload == passes.qr_payload(person) != old
    [text] = qr_texts(mailed_pass(smtp_server.received[-1]), 150)
    assert text == row.payload
    assert_credential_of(text, person)


def test_the_pass_page_and_pdf_draw_the_kept_code_and_write_nothing(client, make_event):
    event = make_event()
    person, other = sign_up(event), sign_up(event, email="other@example.org")
    # A kept code that draws another text, so what is drawn shows where it came from.
    planted = qr.symbol("4242424242")
    db.session.add(PassQr(registration_id=person.id, payload=passes.qr_payload(person),
                          size=planted.size, path=planted.path))
    db.session.commit()

    assert qr_texts(client.get(f"/r/{person.token}/pass.pdf").data, 150) == ["4242424242"]
    assert planted.path in client.get(f"/r/{person.token}").get_data(as_text=True)

    # No kept code yet (its mail not sent): encoded for the answer, nothing stored by a GET.
    [text] = qr_texts(client.get(f"/r/{other.token}/pass.pdf").data, 150)
    assert text == passes.qr_payload(other)
    assert_credential_of(text, other)
    assert client.get(f"/r/{other.token}").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PassQr)) == 1
