"""Finding 2 at the edge: what the pass page, pass PDF and badge show, and what opens what."""

from __future__ import annotations

import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import zxingcpp
from PIL import Image

from eventreg.domain.access import api_tokens
from eventreg.domain.registration import passes, signup
from eventreg.extensions import db

from .. import factories


def qr_texts(pdf_bytes: bytes, dpi: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf_bytes)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", str(path), f"{tmp}/page"],
                       check=True)
        [png] = Path(tmp).glob("page*.png")
        return [r.text for r in zxingcpp.read_barcodes(Image.open(png))]


def test_neither_the_pass_nor_the_badge_qr_carries_the_management_secret(client, login, make_event):
    event = make_event()
    person = factories.register_person(event)
    secret, payload = person.token, passes.qr_payload(person)

    page = client.get(f"/r/{secret}").get_data(as_text=True)
    assert 'class="qr"' in page
    pass_pdf = client.get(f"/r/{secret}/pass.pdf")
    assert pass_pdf.status_code == 200
    assert qr_texts(pass_pdf.data, 150) == [payload]

    login(factories.make_staff("reception", events=[event]))
    badge = client.get(f"/desk/{event.id}/badge/{person.id}.pdf")
    assert badge.status_code == 200
    assert qr_texts(badge.data, 200) == [payload]  # the badge carries the same entry credential

    for text in (payload, payload.lower()):
        assert secret not in text and secret.lower() not in text.lower()
        assert client.get(f"/r/{text}").status_code == 404  # the QR opens no registration page
        assert client.get(f"/r/{text}/cancel").status_code == 404
    pdf_text = subprocess.run(["pdftotext", "-", "-"], input=pass_pdf.data, capture_output=True).stdout.decode()
    assert secret not in pdf_text


def test_passes_usable_gates_the_page_pdf_calendar_and_badge(client, login, make_event):
    event = make_event(capacity=1)
    person = factories.register_person(event)
    waiting = factories.register_person(event)
    signup.cancel(person, now=datetime.now(timezone.utc))  # waiting is promoted
    db.session.commit()
    gone = factories.register_person(make_event(), email="gone@example.org")
    signup.cancel(gone, now=datetime.now(timezone.utc))
    db.session.commit()
    assert not passes.usable(person) and passes.usable(waiting)
    for path in ("pass.pdf", "calendar.ics"):
        assert client.get(f"/r/{waiting.token}/{path}").status_code == 200
    assert client.get(f"/r/{person.token}/pass.pdf").status_code == 404
    # A cancelled registration's calendar file only takes the entry back out of the calendar.
    cancelled_ics = client.get(f"/r/{person.token}/calendar.ics").get_data(as_text=True)
    assert "METHOD:CANCEL" in cancelled_ics and "STATUS:CANCELLED" in cancelled_ics
    assert 'class="qr"' not in client.get(f"/r/{person.token}").get_data(as_text=True)
    login(factories.make_staff("organizer"))
    assert client.get(f"/desk/{event.id}/badge/{person.id}.pdf").status_code == 404
    assert client.get(f"/desk/{event.id}/badge/{person.id}").status_code == 404


def test_the_links_in_the_context_come_from_the_edge(app, make_event):
    from eventreg.web.links import confirmation_proof, registration_links, unsubscribe_key

    event = make_event()
    person = factories.register_person(event)
    links = registration_links(person)  # outside a request: from BASE_URL
    assert links == {
        "registration": f"http://testserver/r/{person.token}",
        "cancel": f"http://testserver/r/{person.token}/cancel",
        "pdf": f"http://testserver/r/{person.token}/pass.pdf",
        "ics": f"http://testserver/r/{person.token}/calendar.ics",
        "confirm": f"http://testserver/r/{person.token}/confirm/{confirmation_proof(person.token)}",
        "event": f"http://testserver/e/{event.slug}",
        "unsubscribe": f"http://testserver/u/{unsubscribe_key(person)}",
        "join": "",  # an on-site seat has no join link (issue 17: online registrants only)
    }
    ctx = passes.pass_context(person, links)
    assert ctx["registration_id"] == person.id and ctx["session"]["sequence"] == 0
    assert ctx["qr_payload"] == passes.qr_payload(person) and ctx["event"]["url"] == links["event"]
    assert set(ctx["links"]) == {"registration", "cancel", "pdf", "ics", "confirm", "unsubscribe", "join"}
    assert "token" not in ctx


def test_the_pass_key_is_for_staff_of_the_event(app, client, make_event):
    event = make_event()
    other = make_event()
    user = factories.make_staff("reception", events=[event])
    token = api_tokens.create_api_token(user, "t", now=datetime.now(timezone.utc))
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/events/{event.id}/pass-key").status_code == 401
    assert client.get(f"/api/v1/events/{other.id}/pass-key", headers=headers).status_code == 404
    body = client.get(f"/api/v1/events/{event.id}/pass-key", headers=headers).get_json()
    assert body == {"event_id": event.id, "algorithm": "Ed25519", "format": "3",
                    "public_key": passes.public_key(event)}
    assert event.pass_key not in str(body)
