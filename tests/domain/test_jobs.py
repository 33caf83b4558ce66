"""Background jobs: claim with a lease, progress renews it, a crashed worker's job is taken over."""

from __future__ import annotations

import io
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from eventreg.domain.backoffice import jobs
from eventreg.extensions import db
from eventreg.models import Job, JobKind, JobStatus, StoredFile
from eventreg.worker import run_job

from .. import factories

T0 = datetime(2030, 5, 1, 9, 0, tzinfo=timezone.utc)
LEASE = 60


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


@pytest.fixture
def job_id(make_event):
    event = make_event()
    for _ in range(3):
        factories.register_person(event)
    queued = jobs.queue_badge_sheet(event.id, T0).id
    db.session.commit()  # and no read after it: the workers' writes must be visible to get()
    return queued


def get(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def claim(worker: str, at: datetime):
    claimed = jobs.claim(worker, at, lease_seconds=LEASE)
    db.session.commit()
    return claimed


def test_queue_counts_the_confirmed_people(job_id):
    job = get(job_id)
    assert (job.kind, job.status, job.total, job.progress) == (JobKind.badge_sheet, JobStatus.queued, 3, 0)


def test_one_worker_owns_a_job_while_its_lease_runs(job_id):
    assert claim("a", T0) == job_id
    assert claim("b", seconds(1)) is None
    job = get(job_id)
    assert (job.status, job.claimed_by, job.attempts, job.claimed_until) == (
        JobStatus.running, "a", 1, seconds(LEASE))


def test_progress_renews_the_lease(job_id):
    claim("a", T0)
    assert jobs.progress(job_id, "a", seconds(50), 2, lease_seconds=LEASE)
    db.session.commit()
    assert get(job_id).progress == 2
    assert claim("b", seconds(LEASE + 10)) is None  # a reported at 50 s: its lease runs to 110 s
    assert claim("b", seconds(50 + LEASE + 1)) == job_id


def test_a_crashed_workers_job_is_taken_over_after_its_lease(job_id):
    assert claim("crashed", T0) == job_id
    assert claim("b", seconds(LEASE - 1)) is None
    assert claim("b", seconds(LEASE)) is None  # the lease's last instant is still the owner's
    assert claim("b", seconds(LEASE + 1)) == job_id
    job = get(job_id)
    assert (job.claimed_by, job.attempts, job.progress, job.started_at) == ("b", 2, 0, T0)

    # The first worker wakes up: its progress and its result are refused, nothing is stored.
    assert not jobs.progress(job_id, "crashed", seconds(62), 1, lease_seconds=LEASE)
    assert not jobs.finish(job_id, "crashed", seconds(63), filename="x.pdf",
                           content_type="application/pdf", data=b"%PDF-stale")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0

    assert jobs.finish(job_id, "b", seconds(70), filename="badges.pdf", content_type="application/pdf",
                       data=b"%PDF-1.7 fresh")
    db.session.commit()
    job = get(job_id)
    assert (job.status, job.progress, job.finished_at, job.claimed_until) == (JobStatus.done, 3, seconds(70), None)
    assert (job.result_file.filename, job.result_file.size, job.result_file.data) == (
        "badges.pdf", 14, b"%PDF-1.7 fresh")
    assert claim("c", seconds(1000)) is None  # done is done


def test_a_job_that_keeps_losing_its_worker_is_failed(job_id):
    at = T0
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        assert claim(f"w{attempt}", at) == job_id
        at += timedelta(seconds=LEASE + 1)
    assert claim("last", at) is None
    job = get(job_id)
    assert (job.status, job.error, job.attempts) == (JobStatus.failed, jobs.ABANDONED, jobs.MAX_ATTEMPTS)


def test_fail_records_a_code_only_for_the_owner(job_id):
    claim("a", T0)
    assert not jobs.fail(job_id, "b", seconds(1))
    assert jobs.fail(job_id, "a", seconds(2))
    db.session.commit()
    assert (get(job_id).status, get(job_id).error) == (JobStatus.failed, jobs.FAILED)


# ---- the worker's side ------------------------------------------------------------------------

def pdf_pages(data: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def test_the_worker_makes_the_sheet_and_stores_it(app, job_id):
    assert run_job(app, worker_id="w") == job_id
    job = get(job_id)
    assert (job.status, job.progress, job.total, job.error) == (JobStatus.done, 3, 3, None)
    stored = job.result_file
    assert stored.content_type == "application/pdf" and stored.filename.startswith("badges-event-")
    assert stored.size == len(stored.data) and pdf_pages(stored.data) == 1
    text = subprocess.run(["pdftotext", "-", "-"], input=stored.data, capture_output=True).stdout.decode()
    assert text.count("山田 花子") == 3
    assert run_job(app, worker_id="w") is None  # nothing else queued


def test_the_worker_takes_over_a_crashed_workers_job(app, job_id):
    assert claim("crashed", T0) == job_id
    assert run_job(app, worker_id="w", now=seconds(30)) is None  # still leased to the crashed one
    assert run_job(app, worker_id="w", now=seconds(LEASE + 1)) == job_id
    job = get(job_id)
    assert (job.status, job.claimed_by, job.attempts) == (JobStatus.done, "w", 2)


def test_a_sheet_that_fails_is_recorded_as_failed(app, job_id, monkeypatch):
    from eventreg.adapters import badges

    def broken(*args, **kwargs):
        raise RuntimeError("layout exploded")

    monkeypatch.setattr(badges, "render_badge_sheet", broken)
    assert run_job(app, worker_id="w") == job_id
    job = get(job_id)
    assert (job.status, job.error, job.result_file_id) == (JobStatus.failed, jobs.FAILED, None)


def test_a_worker_whose_job_was_taken_over_stops_mid_sheet(app, job_id, monkeypatch):
    """Progress reports are where a worker learns that it lost the job: it stops there."""
    from eventreg.adapters import badges

    def slow_render(ctxs, *, progress=None, **kwargs):
        with app.app_context():  # meanwhile, another worker took the job over
            db.session.execute(db.update(Job).where(Job.id == job_id).values(claimed_by="other"))
            db.session.commit()
        progress(1)
        raise AssertionError("not reached: the lost claim stops the render")

    monkeypatch.setattr(badges, "render_badge_sheet", slow_render)
    assert run_job(app, worker_id="w") == job_id
    job = get(job_id)
    assert (job.status, job.claimed_by, job.result_file_id) == (JobStatus.running, "other", None)


def test_the_chunked_renderer_reports_progress_per_chunk(app):
    from eventreg.adapters import badges
    from eventreg.domain.registration.passes import sign_pass

    def ctx(i):
        return {"qr_payload": sign_pass("progress-test-seed", 1, i + 1, 1),
                "event": {"title": "進捗テスト", "language": "ja"},
                "attendee": {"full_name": f"参加 {i}", "full_kana": "サンカ", "organization": "", "department": ""}}

    chunk = badges.CARDS_PER_PAGE * badges.CHUNK_PAGES
    seen = []
    with app.app_context():
        body = badges.render_badge_sheet([ctx(i) for i in range(2 * chunk + 3)], progress=seen.append)
    assert seen == [chunk, 2 * chunk, 2 * chunk + 3]
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(body)).pages) == 2 * badges.CHUNK_PAGES + 1
