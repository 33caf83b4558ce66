"""A claim takes at most ``limit`` rows, also when several workers claim a long queue at once.

On PostgreSQL ``UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`` is no limit:
when a row it meets was changed by a concurrent claim, PostgreSQL re-checks it and runs the
sub-select again, which skips what is locked now and returns the next n, so one worker took
thousands of messages and the others idled. SQLite serialises claims: there it must simply hold.
"""

from __future__ import annotations

import uuid
from collections import Counter
from functools import partial

from sqlalchemy import insert

from eventreg import clock
from eventreg.domain.backoffice import jobs
from eventreg.domain.communication import outbox
from eventreg.extensions import db
from eventreg.models import Job, JobKind, JobStatus, MailKind, OutboxMessage, OutboxStatus
from eventreg.sqlite import writing

from ..races.edge import at_once

QUEUE = 3000
WORKERS = 6
LIMIT = 5
ROUNDS = 15


def _queue(now) -> None:
    db.session.execute(insert(OutboxMessage.__table__), [{
        "kind": MailKind.invitation, "to_address": f"p{n}@example.org", "to_name": "", "context": {},
        "attachments": [], "message_id": uuid.uuid4().hex, "status": OutboxStatus.pending,
        "attempts": 0, "created_at": now, "next_attempt_at": now,
    } for n in range(QUEUE)])
    db.session.commit()


def _claim_together(app, claim_once) -> tuple[list[int], Counter]:
    """Each of WORKERS workers claims ROUNDS times, all released together; returns every claim's
    size and how many rows each worker got."""

    def work(name: str) -> list[int]:
        with app.app_context():
            sizes = []
            for _ in range(ROUNDS):
                with writing():
                    sizes.append(claim_once(name))
                    db.session.commit()
            db.session.remove()
            return sizes

    names = [f"worker-{i}" for i in range(WORKERS)]
    results = at_once([partial(work, name) for name in names], timeout=60)
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors
    return [size for sizes in results for size in sizes], Counter(
        {name: sum(sizes) for name, sizes in zip(names, results, strict=True)})


def test_outbox_claim_takes_at_most_limit_rows_under_concurrency(app, ctx):
    now = clock.utcnow()
    _queue(now)

    def claim_once(name):
        return len(outbox.claim(name, now, lease_seconds=60, limit=LIMIT))

    sizes, per_worker = _claim_together(app, claim_once)
    assert max(sizes) <= LIMIT, f"a claim took {max(sizes)} rows (limit {LIMIT})"
    assert sum(sizes) == WORKERS * ROUNDS * LIMIT  # the queue is long: every claim is full
    assert set(per_worker.values()) == {ROUNDS * LIMIT}  # spread: every worker got its share
    claimed = Counter(db.session.scalars(
        db.select(OutboxMessage.claimed_by).where(OutboxMessage.claimed_by.is_not(None))))
    assert claimed == per_worker  # nothing claimed twice, nothing claimed unreported


def test_job_claim_takes_one_job_each(app, ctx):
    now = clock.utcnow()
    db.session.execute(insert(Job.__table__), [{
        "kind": JobKind.badge_sheet, "status": JobStatus.queued, "progress": 0, "total": 0,
        "attempts": 0, "params": {}, "created_at": now,
    } for _ in range(WORKERS * ROUNDS + 20)])
    db.session.commit()

    def claim_once(name):
        return 1 if jobs.claim(name, now, lease_seconds=60) is not None else 0

    sizes, per_worker = _claim_together(app, claim_once)
    assert set(per_worker.values()) == {ROUNDS}  # every worker got a job every time
    running = Counter(db.session.scalars(db.select(Job.claimed_by).where(Job.status == JobStatus.running)))
    assert running == per_worker
