"""The A4 badge sheet for 1,000 people as a worker job, followed in Chromium.

An organizer signs in through the real /login form, starts the sheet, watches the <progress>
bar move (static/job.js polls the job's JSON), and downloads the PDF when the worker (a thread
running eventreg.worker.run_job with the same app, as `flask worker` would) has stored it. The
PDF is checked as a printer would get it: 100 pages, names in the text layer, QR codes that
decode at 200 dpi. A screenshot of the page mid-way goes to $EVENTREG_SHOTS/badge-sheet-job.png.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from urllib.parse import quote

import pytest
import zxingcpp
from PIL import Image

from eventreg.adapters import badges
from eventreg.domain.backoffice import jobs
from eventreg.domain.registration.passes import qr_payload
from eventreg.worker import run_job

from .. import factories
from .test_registration_flow import database

pytestmark = pytest.mark.browser

PEOPLE = 1000


def worker_thread(app, stop: threading.Event, ran: list) -> threading.Thread:
    def loop() -> None:
        while not stop.is_set():
            try:
                job = run_job(app, worker_id="browser-test-worker")
            except BaseException as exc:  # surfaced by the test
                ran.append(exc)
                return
            if job is not None:
                ran.append(job)
                return
            stop.wait(0.2)

    thread = threading.Thread(target=loop, name="worker", daemon=True)
    thread.start()
    return thread


def hold_midway(monkeypatch, shown: threading.Event) -> None:
    """The sheet is now laid out in about two seconds, faster than the page polls (once a
    second): the worker pauses after its first stored, partial progress until the page has
    shown it (30 s at most), so the test sees the bar mid-way rather than racing the renderer."""
    real = badges.render_badge_sheet

    def render(ctxs, *, progress=None):
        def report(done: int) -> None:
            progress(done)  # stored and committed before the pause
            if 0 < done < len(ctxs):
                shown.wait(30)
        return real(ctxs, progress=report if progress else None)

    monkeypatch.setattr(badges, "render_badge_sheet", render)


def test_the_badge_sheet_is_a_job_with_a_progress_bar(app, live_server, desktop, shot, tmp_path, monkeypatch):
    with database(app):
        event = factories.make_event(capacity=PEOPLE, title="名札シート作成テスト 2026")
        names = factories.bulk_confirmed(event.sessions[0], PEOPLE)
        organizer = factories.make_staff("organizer", name="主催 花子").email
        event_id, slug = event.id, event.slug
        first_page = [qr_payload(r) for r in jobs.badge_sheet_people(event_id)[:10]]

    page = desktop
    badges_url = f"/admin/events/{event_id}/badges"
    page.goto(f"{live_server}/login?next={quote(badges_url, safe='')}")
    page.fill("#email", organizer)
    page.fill("#password", factories.PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{badges_url}")

    stop, ran, shown = threading.Event(), [], threading.Event()
    hold_midway(monkeypatch, shown)
    worker = worker_thread(app, stop, ran)
    try:
        page.click("form button.primary")
        page.wait_for_url(re.compile(r".*/admin/jobs/\d+$"))
        bar = page.locator("progress#job-progress")
        seen, screenshot = [], None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            value, maximum, status = page.evaluate(
                "() => { const b = document.getElementById('job-progress');"
                " return [b.value, b.max, document.getElementById('job').dataset.status]; }")
            seen.append((value, maximum))
            if screenshot is None and 0 < value < maximum == PEOPLE:
                screenshot = shot(page, "badge-sheet-job")
                mid_text = page.locator("#job-state").inner_text()
                assert page.locator("#job-download").is_hidden()  # no link before the file exists
                shown.set()
            if status in ("done", "failed"):
                break
            time.sleep(0.1)
        assert status == "done", (status, page.locator("#job-state").inner_text(), ran)
        assert screenshot is not None, f"no value between 0 and {PEOPLE} was shown: {sorted(set(seen))}"
        assert re.fullmatch(rf"{PEOPLE} 枚中 \d+ 枚できました…", mid_text), mid_text
        assert bar.get_attribute("max") is not None
        link = page.locator("#job-download")
        link.wait_for(state="visible")
        assert page.locator("#job-state").inner_text() == f"できあがりました:名札 {PEOPLE} 枚。"
        with page.expect_download() as download:
            link.click()
        pdf = tmp_path / "sheet.pdf"
        download.value.save_as(pdf)
        assert download.value.suggested_filename == f"badges-{slug}.pdf"
        assert page.js_errors == []
    finally:
        shown.set()
        stop.set()
        worker.join(timeout=120)
    assert len(ran) == 1 and isinstance(ran[0], int), ran

    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+100$", info, re.M), info
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                             text=True, check=True).stdout)
    for name in (names[0], names[14], names[999], "勅使河原 龍之介"):
        assert name.replace(" ", "") in text, name
    assert text.count("名札シート作成テスト2026") == PEOPLE

    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                   check=True)
    [png] = tmp_path.glob("p*.png")
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(png))]
    assert sorted(decoded) == sorted(first_page)  # the first ten in furigana order, each decodes
