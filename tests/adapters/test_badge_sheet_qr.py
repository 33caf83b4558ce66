"""The 1,000-badge sheet as the worker makes it: every QR code on it, read back from the printed
pages by an independent decoder (zxing-cpp), is a valid pass of the person whose card it is on."""

from __future__ import annotations

import io
import subprocess

import pymupdf
import pytest
import zxingcpp
from PIL import Image

from eventreg.domain.backoffice import jobs
from eventreg.domain.registration import passes
from eventreg.extensions import db
from eventreg.models import Event, Job, JobStatus
from eventreg.worker import run_job

from .. import factories

PEOPLE = 1000
DPI = 150  # a printer's lowest; 3 pixels a module
MM = 72 / 25.4


def box(result, margin: float = 0) -> tuple[float, float, float, float]:
    """The pixel box (left, top, right, bottom) of a read symbol, widened by ``margin``."""
    p = result.position
    xs = [c.x for c in (p.top_left, p.top_right, p.bottom_left, p.bottom_right)]
    ys = [c.y for c in (p.top_left, p.top_right, p.bottom_left, p.bottom_right)]
    return min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin


def card_code(index: int, results: list, seed: str, event_id: int) -> passes.EntryCredential:
    """The one valid pass among the codes read on a card. zxing-cpp may report one symbol twice, or
    now and then a short text read from inside the modules of the big one (seen once in 1,000
    cards); a read outside the valid symbol is a second code printed on the card, and fails."""
    valid = {}
    for result in results:
        credential = passes.parse(result.text)
        if credential is not None and passes.verify(credential, seed, event_id):
            valid[result.text] = (credential, result)
    assert len(valid) == 1, f"card {index}: {len(valid)} valid codes of {[r.text[:12] for r in results]}"
    credential, symbol = next(iter(valid.values()))
    inside = box(symbol, margin=2 * DPI / 25.4)
    for result in results:
        if result.text not in valid:
            outer = box(result)
            assert (outer[0] >= inside[0] and outer[1] >= inside[1] and outer[2] <= inside[2]
                    and outer[3] <= inside[3]), f"card {index}: a second code {result.text[:20]!r} beside its pass"
    return credential


def slot_of(x_mm: float, y_mm: float) -> int:
    """The card slot (0–9, row by row) of a point on an A4 sheet: 14 mm / 11 mm margins, 91 × 55 mm cards."""
    return int((y_mm - 11) // 55) * 2 + int((x_mm - 14) // 91)


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~40 s on a quiet machine: the job, then 100 pages rasterized and read
def test_every_qr_of_a_1000_badge_sheet_is_a_valid_pass_of_the_person_on_its_card(app, make_event, tmp_path):
    event = make_event(capacity=PEOPLE)
    factories.bulk_confirmed(event.sessions[0], PEOPLE)
    job_id = jobs.queue_badge_sheet(event.id, factories.in_days(0)).id
    db.session.commit()
    assert run_job(app, worker_id="test-worker") == job_id
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == JobStatus.done
    sheet = job.result_file.data
    people = jobs.badge_sheet_people(event.id)  # the sheet's order (五十音)
    seed = db.session.get(Event, event.id).pass_key

    (tmp_path / "sheet.pdf").write_bytes(sheet)
    # Grey PGM pages: what a decoder reads, without PNG's compression both ways.
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", str(tmp_path / "sheet.pdf"), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page-*.pgm"))
    assert len(pages) == PEOPLE // 10

    found: dict[int, passes.EntryCredential] = {}
    reads: dict[int, list] = {}
    for number, png in enumerate(pages):
        # QR only: zxing-cpp may also see a Micro QR code in the modules of a big one.
        for result in zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode):
            corners = (result.position.top_left, result.position.bottom_right)
            x_mm = sum(p.x for p in corners) / 2 / DPI * 25.4
            y_mm = sum(p.y for p in corners) / 2 / DPI * 25.4
            reads.setdefault(number * 10 + slot_of(x_mm, y_mm), []).append(result)
    for index, results in reads.items():
        found[index] = card_code(index, results, seed, event.id)
    assert sorted(found) == list(range(PEOPLE))  # every card has its code, every code decodes
    for index, person in enumerate(people):
        assert (found[index].registration_id, found[index].entry_version) == (person.id, person.entry_version)

    # …and each card shows that person's name.
    with pymupdf.open(stream=sheet, filetype="pdf") as document:
        for index, person in enumerate(people):
            slot = index % 10
            left, top = (14 + 91 * (slot % 2)) * MM, (11 + 55 * (slot // 2)) * MM
            text = document[index // 10].get_text("text", clip=pymupdf.Rect(left, top, left + 91 * MM, top + 55 * MM))
            assert person.family_name + person.given_name in text.replace(" ", "").replace("\n", ""), index


def test_a_second_code_beside_the_pass_fails_the_card_check(app, make_event):
    """The checker itself: a short code printed beside a valid pass is not taken for a misread."""
    from eventreg.adapters import qr

    event = make_event()
    person = factories.register_person(event)
    seed = db.session.get(Event, event.id).pass_key
    image = Image.new("L", (900, 400), 255)
    for left, text in ((20, passes.qr_payload(person)), (500, "17002")):
        symbol = qr.symbol(text)
        drawn = Image.open(io.BytesIO(qr.png(symbol.size, symbol.path))).convert("L")
        image.paste(drawn.resize((symbol.size * 8, symbol.size * 8), Image.NEAREST), (left, 20))
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert sorted(r.text for r in results) == sorted([passes.qr_payload(person), "17002"])
    with pytest.raises(AssertionError, match="a second code '17002' beside its pass"):
        card_code(0, results, seed, event.id)
    assert card_code(0, [r for r in results if r.text != "17002"], seed, event.id).registration_id == person.id
