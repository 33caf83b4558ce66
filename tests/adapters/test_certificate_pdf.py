"""The certificate of attendance PDF: every name drawn by the font chain (no .notdef), the name and
the code in its text layer, its QR code read back as the verify URL; the 1,000-certificate job as
the worker makes it: one page per attendee in furigana order, each page naming its person and
code, no glyph missing anywhere."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pymupdf
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select, update

from eventreg.domain.reception import checkin
from eventreg.domain.registration import certificates
from eventreg.extensions import db
from eventreg.models import Certificate, Job, JobStatus, Registration
from eventreg.web import certificates as documents
from eventreg.worker import run_job

from .. import factories
from .pdf_checks import assert_drawn_by_the_chain, missing_glyphs

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
HARD_NAMES = [  # (family, given, kana family, kana given, language)
    ("𠮷野", "由紀子", "ヨシノ", "ユキコ", "ja"),
    ("髙﨑", "德次郎", "タカサキ", "トクジロウ", "ja"),
    ("김", "민준", "キム", "ミンジュン", "ja"),
    ("Wolfeschlegelsteinhausen-Bergerdorff", "Maximiliane Alexandra", "", "", "en"),
    ("Παπαδοπούλου", "Ελένη", "", "", "en"),
    ("Nguyễn", "Thị Ánh", "", "", "en"),
]


def came(event, family, given, family_kana, given_kana, language, n):
    person = factories.register_person(event, family_name=family, given_name=given, family_kana=family_kana,
                                       given_kana=given_kana, language=language, email=f"hard{n}@example.org")
    checkin.check_in(person, session_id=None, desk="受付1", now=NOW)
    return person


def page_text(pdf: bytes, index: int) -> str:
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return document[index].get_text()


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("spec", HARD_NAMES, ids=[s[0] for s in HARD_NAMES])
def test_every_name_is_drawn_with_its_code_and_a_qr_of_the_verify_url(app, make_event, spec):
    event = make_event(title="NPO法人のための会計・税務実務セミナー ―― 寄附税制と髙﨑・齋藤・渡邉の実例で学ぶ",
                       organizer="特定非営利活動法人 ちば市民活動・市民事業サポートクラブ")
    issued = certificates.issue(came(event, *spec, 0), NOW)
    db.session.commit()
    pdf = documents.certificate_pdf(issued)
    assert_drawn_by_the_chain(pdf, issued.holder_name + event.title)
    text = squeezed(page_text(pdf, 0))
    code = certificates.formatted(issued.code)
    assert squeezed(issued.holder_name) in text and code in text
    assert ("参加証明書" in text) == (spec[4] == "ja") and ("Certificateofattendance" in text) == (spec[4] == "en")
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        pixmap = document[0].get_pixmap(dpi=150)
    image = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
    read = [r.text for r in zxingcpp.read_barcodes(image)]
    assert read == [f"{app.config['BASE_URL'].rstrip('/')}/verify/{code}"]


def test_a_preview_is_marked_and_names_no_real_code(app, make_event):
    event = make_event()
    pdf = documents.sample_pdf(event, None, NOW)
    text = squeezed(page_text(pdf, 0))
    assert "見本" in text and documents.SAMPLE_CODE in text and missing_glyphs(pdf) == []
    assert certificates.find(documents.SAMPLE_CODE) is None


PEOPLE = 1000


def test_the_1000_certificate_job_names_everyone_with_no_missing_glyph(app, make_event):
    event = make_event(capacity=PEOPLE + 10, title="NPO法人のための会計・税務実務セミナー ―― 新しい寄附税制をわかりやすく解説します",
                       organizer="特定非営利活動法人 ちば市民活動・市民事業サポートクラブ")
    factories.bulk_confirmed(event.sessions[0], PEOPLE - len(HARD_NAMES))
    for n, spec in enumerate(HARD_NAMES):
        came(event, *spec, n)
    db.session.execute(update(Registration).where(Registration.event_id == event.id).values(checked_in_at=NOW))
    factories.register_person(event, email="absent@example.org")  # did not come: no certificate
    db.session.commit()
    job_id = certificates.queue_job(event.id, NOW).id
    db.session.commit()
    assert run_job(app, worker_id="test") == job_id
    db.session.rollback()
    job = db.session.get(Job, job_id)
    assert job.status == JobStatus.done, job.error
    pdf = job.result_file.data
    issued = db.session.scalars(select(Certificate).where(Certificate.event_id == event.id)).all()
    assert len(issued) == PEOPLE
    order = {r.id: i for i, r in enumerate(db.session.scalars(certificates.attendees(event.id)))}
    by_page = sorted(issued, key=lambda c: order[c.registration_id])
    assert missing_glyphs(pdf) == []
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        assert document.page_count == PEOPLE
        for page, cert in zip(document, by_page, strict=True):
            text = squeezed(page.get_text())
            assert squeezed(cert.holder_name) in text and certificates.formatted(cert.code) in text, page.number
