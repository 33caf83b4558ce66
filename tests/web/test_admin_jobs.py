"""The badge sheet as a job: the request queues it, the worker makes it, the page follows it."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from eventreg.domain.backoffice import jobs
from eventreg.extensions import db
from eventreg.models import Job, JobStatus
from eventreg.worker import run_job

from .. import factories
from .conftest import csrf_token


def start_sheet(client, event_id: int):
    token = csrf_token(client, f"/admin/events/{event_id}/badges")
    return client.post(f"/admin/events/{event_id}/badges", data={"csrf_token": token})


def test_no_request_renders_the_sheet(app, client, login, make_event, monkeypatch):
    """POST queues a job and answers at once; the old synchronous PDF URL is gone."""
    from eventreg.adapters import badges

    def refuse(*args, **kwargs):
        raise AssertionError("a web request rendered the badge sheet")

    monkeypatch.setattr(badges, "render_badge_sheet", refuse)
    event = make_event()
    for _ in range(2):
        factories.register_person(event)
    login(factories.make_staff("organizer"))
    assert client.get(f"/admin/events/{event.id}/badges.pdf").status_code == 404

    started = time.perf_counter()
    response = start_sheet(client, event.id)
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 303
    job = db.session.scalar(select(Job))
    assert response.headers["Location"] == f"/admin/jobs/{job.id}"
    assert (job.status, job.total, job.event_id) == (JobStatus.queued, 2, event.id)

    page = client.get(f"/admin/jobs/{job.id}").get_data(as_text=True)
    assert re.search(r'<progress id="job-progress"[^>]*max="2" value="0"', page)
    assert f'data-status-url="/admin/jobs/{job.id}.json"' in page
    assert '<script src="/static/job.js" defer></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)  # no inline script
    assert 'id="job-download"' in page and " hidden>" in page

    state = client.get(f"/admin/jobs/{job.id}.json")
    assert state.headers["Cache-Control"] == "no-store"
    assert state.json == {"id": job.id, "status": "queued", "progress": 0, "total": 2,
                          "message": "作成の開始を待っています…", "download_url": None}
    assert client.get(f"/admin/jobs/{job.id}/download").status_code == 404


def test_the_finished_sheet_downloads(app, client, login, make_event):
    event = make_event()
    factories.register_person(event)
    login(factories.make_staff("organizer"))
    job_id = int(start_sheet(client, event.id).headers["Location"].rsplit("/", 1)[1])
    assert run_job(app, worker_id="test-worker") == job_id

    state = client.get(f"/admin/jobs/{job_id}.json").json
    assert state["status"] == "done" and state["progress"] == state["total"] == 1
    assert state["message"] == "できあがりました:名札 1 枚。"
    response = client.get(state["download_url"])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"] == f"attachment; filename=badges-{event.slug}.pdf"
    page = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert f'href="/admin/jobs/{job_id}/download"' in page and " hidden>" not in page
    listing = client.get(f"/admin/events/{event.id}/badges").get_data(as_text=True)
    assert f'/admin/jobs/{job_id}/download' in listing


def test_a_failed_job_says_so_in_the_visitors_language(app, client, login, make_event):
    event = make_event()
    login(factories.make_staff("organizer"))
    job_id = jobs.queue_badge_sheet(event.id, factories.in_days(0)).id
    db.session.commit()
    jobs.claim("w", factories.in_days(0), lease_seconds=60)
    jobs.fail(job_id, "w", factories.in_days(0))
    db.session.commit()

    from flask_babel import refresh

    ja = client.get(f"/admin/jobs/{job_id}.json").json
    refresh()  # the test's app context is shared by its requests: forget the first one's locale
    en = client.get(f"/admin/jobs/{job_id}.json?lang=en").json
    refresh()
    assert ja["status"] == "failed" and ja["download_url"] is None
    assert ja["message"].startswith("ファイルを作成できませんでした")
    assert en["message"].startswith("The file could not be made.")
    page = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "ファイルを作成できませんでした" in page and 'class="job job-failed"' in page


def test_unknown_jobs_are_404(ctx, client, login):
    login(factories.make_staff("organizer"))
    for url in ("/admin/jobs/999999", "/admin/jobs/999999.json", "/admin/jobs/99999999999/download",
                "/admin/events/99999999999/badges"):
        assert client.get(url).status_code == 404, url
