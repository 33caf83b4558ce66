"""Background jobs: heavy work asked for on a page, done by a worker, followed by its progress.

A page queues a job (``queue``) and polls its row; a worker claims it (``claim``: a conditional
UPDATE, and ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so workers never wait for each other),
reports ``progress`` as it goes, which renews its lease, and ends with ``finish`` (the result is
a StoredFile) or ``fail``. A worker that dies stops renewing: its job becomes claimable again
when the lease runs out (about a minute) and another worker starts it over. A job whose worker
was lost MAX_ATTEMPTS times is failed with ``job_abandoned`` instead of being tried forever.

Every write that a worker makes names the worker (``claimed_by``): once a job was taken over,
the old worker's progress and result are refused, and it stops.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from eventreg.domain.backoffice import hybrid_rules, roster
from eventreg.extensions import db
from eventreg.models import Event, Job, JobKind, JobStatus, Registration, Status, StoredFile

MAX_ATTEMPTS = 3
FAILED = "job_failed"  # error codes, worded in web/error_words.py
ABANDONED = "job_abandoned"


def queue(kind: JobKind, now: datetime, *, event_id: int | None = None, requested_by: int | None = None,
          total: int = 0, params: dict | None = None) -> Job:
    job = Job(kind=kind, event_id=event_id, requested_by=requested_by, total=total,
              params=params or {}, status=JobStatus.queued, progress=0, attempts=0, created_at=now)
    db.session.add(job)
    db.session.flush()
    return job


def badge_sheet_people(event_id: int) -> list[Registration]:
    """Who gets a badge on the sheet: confirmed registrations of on-site sessions, in 五十音 order."""
    return list(db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event_id, Registration.status == Status.confirmed,
               hybrid_rules.at_the_venue())
        .order_by(Registration.sort_key, Registration.id)
        .options(selectinload(Registration.session), selectinload(Registration.event))
    ))


def queue_badge_sheet(event_id: int, now: datetime, *, requested_by: int | None = None) -> Job:
    total = db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == event_id, Registration.status == Status.confirmed, hybrid_rules.at_the_venue()))
    return queue(JobKind.badge_sheet, now, event_id=event_id, requested_by=requested_by, total=total)


def queue_reception_list(event: Event, flt: roster.ListFilter, now: datetime, *,
                         requested_by: int | None = None) -> Job:
    """The 受付名簿 PDF of the confirmed people ``flt`` selects (the attendee list's filter, kept
    in the job's params so the worker selects the same people)."""
    total = roster.count(event, flt.but(status="confirmed"), now=now)
    return queue(JobKind.reception_list, now, event_id=event.id, requested_by=requested_by, total=total,
                 params={"filter": flt.as_args()})


def _claimable(now: datetime):
    return or_(
        Job.status == JobStatus.queued,
        and_(Job.status == JobStatus.running, Job.claimed_until < now, Job.attempts < MAX_ATTEMPTS),
    )


def give_up(now: datetime) -> int:
    """Fails the jobs whose worker was lost MAX_ATTEMPTS times; returns how many."""
    result = db.session.execute(
        update(Job)
        .where(Job.status == JobStatus.running, Job.claimed_until < now, Job.attempts >= MAX_ATTEMPTS)
        .values(status=JobStatus.failed, error=ABANDONED, finished_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def claim(worker: str, now: datetime, *, lease_seconds: float) -> int | None:
    """Claims the oldest claimable job for ``worker``; returns its id (None: nothing to do).

    Ids first, then a conditional UPDATE of one id at a time: never ``UPDATE … WHERE id IN
    (SELECT … LIMIT … FOR UPDATE SKIP LOCKED)``, which PostgreSQL may run again while re-checking
    a row a concurrent claim changed, taking far more than the limit (see outbox.claim)."""
    give_up(now)
    candidates = select(Job.id).where(_claimable(now)).order_by(Job.id).limit(5)
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    for job_id in db.session.scalars(candidates).all():
        result = db.session.execute(
            update(Job)
            .where(Job.id == job_id, _claimable(now))
            .values(status=JobStatus.running, claimed_by=worker,
                    claimed_until=now + timedelta(seconds=lease_seconds),
                    attempts=Job.attempts + 1, progress=0,
                    started_at=func.coalesce(Job.started_at, now))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            return job_id
    return None


def _owned(job_id: int, worker: str):
    return (Job.id == job_id, Job.status == JobStatus.running, Job.claimed_by == worker)


def progress(job_id: int, worker: str, now: datetime, done: int, *, lease_seconds: float,
             total: int | None = None) -> bool:
    """Records ``done`` units (of ``total``, when given) and renews the lease. False: the job is
    no longer this worker's (taken over after its lease ran out): the worker must stop."""
    values = {"progress": done, "claimed_until": now + timedelta(seconds=lease_seconds)}
    if total is not None:
        values["total"] = total
    result = db.session.execute(
        update(Job).where(*_owned(job_id, worker)).values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def finish(job_id: int, worker: str, now: datetime, *, filename: str, content_type: str,
           data: bytes) -> bool:
    """Stores the result and marks the job done; False (and nothing stored) when the job is no
    longer this worker's."""
    row = db.session.execute(select(Job.event_id).where(*_owned(job_id, worker))).first()
    if row is None:
        return False
    event_id = row.event_id
    stored = StoredFile(event_id=event_id, filename=filename, content_type=content_type,
                        size=len(data), data=data, created_at=now)
    db.session.add(stored)
    db.session.flush()
    result = db.session.execute(
        update(Job).where(*_owned(job_id, worker))
        .values(status=JobStatus.done, progress=Job.total, finished_at=now, claimed_until=None,
                result_file_id=stored.id, error=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.delete(stored)
        db.session.flush()
        return False
    return True


def fail(job_id: int, worker: str, now: datetime, code: str = FAILED) -> bool:
    result = db.session.execute(
        update(Job).where(*_owned(job_id, worker))
        .values(status=JobStatus.failed, error=code, finished_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
