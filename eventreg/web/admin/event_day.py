"""The event-day views and their background jobs.

GET  /admin/events/<event_id>/checkins     the check-in log (every scan, undo and walk-in), and what
                                           offline desks left to look at: conflicts, tasks, clock skew
POST /admin/events/<event_id>/desk-tasks/<task_id>/done   a desk task taken care of
GET  /admin/events/<event_id>/badges       the A4 badge sheet: a button, and the recent sheets
POST /admin/events/<event_id>/badges       queue the sheet as a worker job -> its job page
GET  /admin/jobs/<job_id>                  a job's progress bar, then its download link
GET  /admin/jobs/<job_id>.json             the job's state, polled by static/job.js
GET  /admin/jobs/<job_id>/download         the finished file

No request renders a badge sheet: the worker does (eventreg.worker.run_job).
"""

from __future__ import annotations

from io import BytesIO

from flask import abort, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ... import clock
from ...domain.access.permissions import Capability
from ...domain.backoffice import jobs
from ...domain.insight.counts import of_event
from ...domain.reception import desk_followups
from ...extensions import db
from ...models import Event, Job, JobKind, JobStatus, Scan, StoredFile
from ..access import event_access
from ..desk_words import conflict_text, skew_text, task_text, word
from ..error_words import message
from . import bp


def _job_event(kwargs: dict) -> int | None:
    """A job's pages are its event's: the job is loaded into ``job``."""
    job = db.session.get(Job, kwargs.pop("job_id"))
    if job is None:
        abort(404)
    kwargs["job"] = job
    return job.event_id


@bp.get("/events/<int:event_id>/checkins")
@event_access(Capability.view)
def checkins(event: Event):
    scans = db.session.scalars(
        select(Scan).where(Scan.event_id == event.id).order_by(Scan.at.desc(), Scan.id.desc()).limit(1000)
        .options(selectinload(Scan.registration), selectinload(Scan.user))
    ).all()
    return render_template("admin/checkins.html", event=event, scans=scans, counts=of_event(event.id, now=clock.utcnow()),
                           conflicts=desk_followups.conflicts(event.id), tasks=desk_followups.open_tasks(event.id),
                           skewed=desk_followups.skewed_operations(event.id),
                           desk_word=word, conflict_text=conflict_text, task_text=task_text, skew_text=skew_text)


@bp.post("/events/<int:event_id>/desk-tasks/<int:task_id>/done")
@event_access(Capability.manage_registrations)
def desk_task_done(event: Event, task_id: int):
    """Closes the task once (CSRF checked for every POST): a second press, or another organizer's,
    changes nothing."""
    if desk_followups.mark_done(task_id, event_id=event.id, actor=current_user, now=clock.utcnow()):
        db.session.commit()
        flash(_("Marked as done."))
    return redirect(url_for("admin.checkins", event_id=event.id) + "#desk-tasks", 303)


@bp.get("/events/<int:event_id>/badges")
@event_access(Capability.export_personal)
def badge_sheet(event: Event):
    recent = db.session.scalars(
        select(Job).where(Job.event_id == event.id, Job.kind == JobKind.badge_sheet)
        .order_by(Job.id.desc()).limit(10)
    ).all()
    return render_template("admin/jobs.html", event=event, jobs=recent, state=job_state)


@bp.post("/events/<int:event_id>/badges")
@event_access(Capability.export_personal)
def start_badge_sheet(event: Event):
    job_id = jobs.queue_badge_sheet(event.id, clock.utcnow(), requested_by=current_user.id).id
    db.session.commit()
    return redirect(url_for("admin.job_page", job_id=job_id), 303)


@bp.get("/jobs/<int:job_id>")
@event_access(Capability.export_personal, via=_job_event)
def job_page(event: Event, job: Job):
    if job.kind == JobKind.reception_list:
        title, back = _("Reception list"), url_for("admin.exports_page", event_id=event.id, **job.params.get("filter", {}))
    elif job.kind == JobKind.certificates:
        title, back = _("Certificates of attendance"), url_for("admin.certificates_page", event_id=event.id)
    else:
        title, back = _("Badge sheet"), url_for("admin.badge_sheet", event_id=event.id)
    return render_template("admin/job.html", job=job, event=event, state=job_state(job), title=title, back=back)


@bp.get("/jobs/<int:job_id>.json")
@event_access(Capability.export_personal, via=_job_event)
def job_status(event: Event, job: Job):
    response = jsonify(job_state(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobs/<int:job_id>/download")
@event_access(Capability.export_personal, via=_job_event)
def job_download(event: Event, job: Job):
    if job.status != JobStatus.done or job.result_file_id is None:
        abort(404)
    stored = db.session.get(StoredFile, job.result_file_id)
    return send_file(BytesIO(stored.data), mimetype=stored.content_type, as_attachment=True,
                     download_name=stored.filename, max_age=0)


def job_state(job: Job) -> dict:
    """What the job page shows, as plain values (also the JSON that static/job.js polls)."""
    total = job.total
    if job.status == JobStatus.queued:
        text = _("Waiting for a worker to start…")
    elif job.status == JobStatus.running and job.kind == JobKind.certificates:
        text = _("%(done)s of %(total)s certificates done…", done=job.progress, total=total)
    elif job.status == JobStatus.done and job.kind == JobKind.certificates:
        text = _("Ready: %(total)s certificates.", total=total)
    elif job.status == JobStatus.running and job.kind == JobKind.reception_list:
        text = _("Making the reception list of %(total)s people…", total=total)
    elif job.status == JobStatus.running:
        text = _("%(done)s of %(total)s badges done…", done=job.progress, total=total)
    elif job.status == JobStatus.done and job.kind == JobKind.reception_list:
        text = _("Ready: the reception list of %(total)s people.", total=total)
    elif job.status == JobStatus.done:
        text = _("Ready: %(total)s badges.", total=total)
    else:
        text = message(job.error or jobs.FAILED)
    return {
        "id": job.id,
        "status": job.status.value,
        "progress": job.progress,
        "total": total,
        "message": text,
        "download_url": url_for("admin.job_download", job_id=job.id) if job.status == JobStatus.done else None,
    }
