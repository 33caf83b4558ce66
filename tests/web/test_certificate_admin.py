"""Certificates in the back office: a preview that issues nothing, one person's certificate issued
and downloaded from their registration page only if they came, the job of every attendee's
certificate queued from the Certificates tab; a reception role without export_personal sees none."""

from __future__ import annotations

from datetime import datetime, timezone

import pymupdf
from sqlalchemy import func, select

from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.models import Certificate, Job, JobKind

from .. import factories
from .conftest import csrf_token

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def text(pdf: bytes) -> str:
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return "".join(page.get_text() for page in document).replace("\n", "")


def setup(make_event, role="organizer"):
    event = make_event(title="NPO会計セミナー")
    came = factories.register_person(event, family_name="渡邊", given_name="真由美", email="came@example.org")
    checkin.check_in(came, session_id=None, desk="受付1", now=NOW)
    absent = factories.register_person(event, family_name="青木", given_name="花子", email="absent@example.org")
    db.session.commit()
    user = factories.make_staff(role, events=[event] if role != "organizer" else ())
    return event, came, absent, user


def count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Certificate))


def test_preview_issues_nothing(client, login, make_event):
    event, came, _, user = setup(make_event)
    login(user)
    sample = client.get(f"/admin/events/{event.id}/certificates/preview.pdf")
    assert sample.status_code == 200 and sample.mimetype == "application/pdf"
    assert "見本" in text(sample.data) and "山田花子" in text(sample.data).replace(" ", "")
    real = client.get(f"/admin/events/{event.id}/certificates/preview.pdf", query_string={"registration_id": came.id})
    assert "渡邊真由美" in text(real.data).replace(" ", "") and "見本" in text(real.data)
    assert client.get(f"/admin/events/{event.id}/certificates/preview.pdf",
                      query_string={"registration_id": "99x"}).status_code == 404
    assert count() == 0


def test_one_persons_certificate_only_if_they_came(client, login, make_event):
    event, came, absent, user = setup(make_event)
    login(user)
    page = client.get(f"/admin/events/{event.id}/registrations/{came.id}").get_data(as_text=True)
    assert "証明書を発行してダウンロード" in page
    absent_page = client.get(f"/admin/events/{event.id}/registrations/{absent.id}").get_data(as_text=True)
    assert "この方は受付されていません" in absent_page
    url = f"/admin/events/{event.id}/registrations/{came.id}/certificate"
    token = csrf_token(client, f"/admin/events/{event.id}/registrations/{came.id}")
    issued = client.post(url, data={"csrf_token": token})
    assert issued.status_code == 303 and issued.headers["Location"].endswith("/certificate.pdf")
    pdf = client.get(url + ".pdf")
    assert pdf.status_code == 200 and "渡邊真由美" in text(pdf.data).replace(" ", "")
    assert client.post(url, data={"csrf_token": token}).status_code == 303  # again: the same one
    assert count() == 1
    refused = client.post(f"/admin/events/{event.id}/registrations/{absent.id}/certificate",
                          data={"csrf_token": token}, follow_redirects=True)
    assert "受付済みの方" in refused.get_data(as_text=True)
    assert client.get(f"/admin/events/{event.id}/registrations/{absent.id}/certificate.pdf").status_code == 404
    assert count() == 1


def test_the_certificates_tab_queues_the_job(client, login, make_event):
    event, _, _, user = setup(make_event)
    login(user)
    page = client.get(f"/admin/events/{event.id}/certificates").get_data(as_text=True)
    assert "参加者1名、発行済み0枚" in page
    token = csrf_token(client, f"/admin/events/{event.id}/certificates")
    queued = client.post(f"/admin/events/{event.id}/certificates", data={"csrf_token": token})
    assert queued.status_code == 303
    db.session.rollback()
    job = db.session.scalar(select(Job).where(Job.kind == JobKind.certificates))
    assert job.total == 1 and queued.headers["Location"].endswith(f"/admin/jobs/{job.id}")
    assert "参加証明書" in client.get(f"/admin/jobs/{job.id}").get_data(as_text=True)


def test_reception_cannot_print_certificates(client, login, make_event):
    event, came, _, user = setup(make_event, role="reception")
    login(user)
    assert client.get(f"/admin/events/{event.id}/certificates").status_code == 403
    page = client.get(f"/admin/events/{event.id}/registrations/{came.id}")
    assert page.status_code in (200, 403) and "証明書を発行" not in page.get_data(as_text=True)
