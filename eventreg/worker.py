"""The worker: delivers the outbox, runs the periodic tick, and does background jobs.

An edge like cli.py: it reads the clock and commits. Transactions are kept short and never
span rendering or SMTP; the ones that write take SQLite's write lock up front (sqlite.writing).

- ``deliver_due``: claims due messages, renders and sends them, records the outcome;
- ``tick``: at least once a minute (TICK_SECONDS), the scheduled tasks that are due
  (domain.timing.periodic), each in its own transaction, each done once however many workers run;
- ``run_job``: claims one background job (domain.backoffice.jobs), e.g. a badge sheet, does it while
  reporting progress (which renews its lease) and stores the result.

Delivery is at least once: a message is marked sent after the SMTP server accepted it, so a
crash between the two can repeat it; the Message-ID stays the same on every attempt. Run one
or several workers; the conditional claim and attempt in domain.communication.outbox keep two workers from
sending the same message at the same time, and a crashed worker's messages are taken up again
when their one-minute lease runs out.

Logs name the outbox id, the kind, the registration id and SMTP codes: never an address, a
token or a link (SMTP exceptions carry the recipient in their text; it goes to last_error only).
"""

from __future__ import annotations

import logging
import os
import signal
import smtplib
import socket
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from . import clock
from .adapters import ics, mail, qr
from .domain.backoffice import exports, jobs, roster
from .domain.communication import building_list, outbox
from .domain.registration import pass_qr, passes
from .domain.timing import periodic
from .extensions import db
from .models import Event, EventSession, Job, JobKind, MailKind, OutboxMessage, Registration, StoredFile
from .outage import Outage
from .sqlite import writing
from .web import documents, followup_values, message_text
from .web.links import registration_links

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def deliver_due(
    app: Flask,
    *,
    worker_id: str,
    now: datetime | None = None,
    batch: int = 5,
    stop: threading.Event | None = None,
) -> int:
    """Delivers up to ``batch`` due messages; returns how many the SMTP server accepted.

    Runs in its own app context (and so its own database session); the caller must not hold
    an open write transaction on SQLite. The batch is claimed for OUTBOX_LEASE_SECONDS; each
    message's lease is renewed, and its attempt counted, right before it is sent, and each send
    is bounded to half the lease, so a live worker never loses a claim mid-send while a dead
    worker's messages wait at most one lease. Stops between messages once ``stop`` is set, or
    once half the lease has gone by, and gives the messages it did not try back at once.
    ``now`` (tests) fixes the time of the whole round.
    """
    lease = float(app.config["OUTBOX_LEASE_SECONDS"])
    with app.app_context():
        with writing():
            ids = outbox.claim(worker_id, now or clock.utcnow(), lease_seconds=lease, limit=batch)
            db.session.commit()
        give_up_at = time.monotonic() + lease / 2
        sent = 0
        try:
            while ids:
                if (stop is not None and stop.is_set()) or time.monotonic() > give_up_at:
                    break
                sent += _deliver_one(app, ids.pop(0), worker_id, now, lease)
        finally:
            if ids:
                _release(ids, worker_id)
        return sent


def _release(ids: list[int], worker_id: str) -> None:
    try:
        db.session.rollback()
        with writing():
            outbox.release(ids, worker_id)
            db.session.commit()
    except SQLAlchemyError:  # the lease runs out by itself
        db.session.rollback()
        log.warning("could not give back %d claimed message(s); they wait for their lease", len(ids))


def _describe(row: OutboxMessage) -> str:
    # Ids and the kind only: never an address, a token or a link.
    whom = f"registration #{row.registration_id}" if row.registration_id is not None else "not an attendee"
    return f"outbox #{row.id} ({row.kind.value}, {whom}, attempt {row.attempts})"


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename.rpartition('/')[2]}:{frames[-1].lineno}" if frames else "?"


def _deliver_one(app: Flask, message_id: int, worker_id: str, now: datetime | None, lease: float) -> bool:
    moment = now or clock.utcnow()
    with writing():
        if not outbox.start_attempt(message_id, worker_id, moment, lease_seconds=lease):
            db.session.rollback()  # gone, sent, or claimed by another worker since
            return False
        db.session.commit()
    row = db.session.get(OutboxMessage, message_id)
    if row is None:  # its registration was deleted meanwhile
        db.session.rollback()
        return False
    described = _describe(row)
    try:
        plan = _plan(app, row)
    except Exception as exc:  # a stored file gone, a registration without an address
        db.session.rollback()
        log.error("%s could not be prepared: %s at %s", described, type(exc).__name__, _where(exc))
        _failed(app, message_id, worker_id, moment, f"{type(exc).__name__}: {exc}",
                permanent=isinstance(exc, followup_values.CertificateWithdrawn))  # never to be sent
        return False
    db.session.rollback()  # end the read before the slow part; touch no ORM object after this
    try:
        files = [_render(spec, plan, moment) for spec in plan["attachments"]]
        outgoing = mail.build_message(
            kind=plan["kind"], lang=plan["lang"], values=plan["values"], to=plan["to"],
            reply_to=plan["reply_to"], message_id_left=plan["message_id"], date=moment, files=files,
        )
    except Exception as exc:  # a template or PDF bug: retried with back-off, then failed
        log.error("%s could not be built: %s at %s", described, type(exc).__name__, _where(exc))
        _failed(app, message_id, worker_id, moment, f"{type(exc).__name__}: {exc}")
        return False
    try:
        mail.send(outgoing, within=lease / 2)
    except (smtplib.SMTPException, OSError) as exc:
        words, permanent = mail.describe_error(exc)
        log.warning("%s not delivered: %s%s", described, words, " (permanent)" if permanent else "")
        _failed(app, message_id, worker_id, moment, f"{type(exc).__name__}: {exc}", permanent=permanent)
        return False
    with writing():
        if outbox.mark_sent(message_id, worker_id, moment):
            log.info("%s sent", described)
        else:
            log.warning("%s sent, but its claim had passed to another worker", described)
        for send_id, file in plan["keep"]:  # a building-security list: keep the file as sent
            building_list.keep_file(send_id, file.filename, file.content_type, file.data, moment)
        _keep_pass_code(plan.get("pass_code"))
        db.session.commit()
    return True


def _pass_code(registration: Registration) -> dict:
    """The QR code of the registration's pass as plain values, read from the kept one
    (domain.registration.pass_qr); ``new`` when it was missing or stale and was encoded now."""
    encoded = []

    def encode(payload: str) -> qr.Symbol:
        encoded.append(payload)
        return qr.symbol(payload)

    kept = pass_qr.symbol(registration, encode)
    code = {"registration_id": registration.id, "payload": kept.payload, "size": kept.size,
            "path": kept.path, "new": bool(encoded)}
    if encoded:  # kept once the mail is sent (_keep_pass_code); this read transaction writes nothing
        db.session.expunge(kept)
    return code


def _keep_pass_code(code: dict | None) -> None:
    """Keeps the code a mail's pass was drawn with: the mail issued that pass (see _keep_codes)."""
    if code and code["new"]:
        _keep_codes({code["registration_id"]: (code["payload"], qr.Symbol(code["size"], code["path"]))})


def _plan(app: Flask, row: OutboxMessage) -> dict:
    """Plain values for one message, read in the worker's short read transaction."""
    plan = {"kind": row.kind.value, "message_id": row.message_id, "files": {}, "lists": {}, "keep": []}
    if row.registration_id is not None:
        ctx = passes.pass_context(row.registration, registration_links(row.registration))
        # Why this mail goes out, for kinds sent for several reasons (pass_resent: "duplicate"
        # sign-up, "moved" to another session, "staff" resend).
        ctx["reason"] = (row.context or {}).get("reason", "")
        # A "moved" one between on site and online (domain.registration.signup.move): the mail says so.
        ctx["mode_changed"] = bool((row.context or {}).get("mode_changed"))
        event = ctx["event"]
        address = row.to_address or ctx["attendee"]["email"]
        if not address:
            raise ValueError("the registration has no email address")
        plan.update(
            ctx=ctx, values=ctx,
            lang=outbox.language(ctx["language"], row.language, event["language"]),
            to=(row.to_name or ctx["attendee"]["full_name"], address),
            reply_to=(event["contact_name"] or event["organizer"], event["contact_email"]),
            attachments=outbox.deliverable_attachments(row.attachments, ctx["status"],
                                                       entry_pass=ctx["entry_pass"]),
        )
        if any(spec["kind"] == "pass_pdf" for spec in plan["attachments"]):
            plan["pass_code"] = _pass_code(row.registration)
        if row.kind == MailKind.message:  # an organizer's message, filled in for this person
            ctx.update(message_text.for_row(row.attendee_message_id, ctx, plan["lang"]))
        if followup_values.is_followup(row.kind):  # the post-event loop: survey link, no-show words
            ctx.update(followup_values.values(row.registration, row.kind.value, ctx, lang=plan["lang"]))
        if any(spec["kind"] == "certificate" for spec in plan["attachments"]):
            plan["certificate"] = followup_values.certificate_page(row.registration, plan["lang"])
    else:
        values = {key: _datetime(key, value) for key, value in (row.context or {}).items()}
        values.setdefault("recipient_name", row.to_name)
        event = db.session.get(Event, values["event_id"]) if isinstance(values.get("event_id"), int) else None
        plan.update(
            ctx=None, values=values,
            lang=outbox.language(row.language, event.language if event else None,
                                 app.config["BABEL_DEFAULT_LOCALE"]),
            to=(row.to_name, row.to_address), reply_to=None,
            attachments=list(row.attachments or []),
        )
        if row.kind in (MailKind.security_list, MailKind.security_list_diff) and values.get("contact_email"):
            plan["reply_to"] = (values.get("contact_name") or values.get("organizer") or "", values["contact_email"])
    for spec in plan["attachments"]:
        if spec["kind"] == "file":
            stored = db.session.get(StoredFile, spec["file_id"])
            if stored is None:
                raise LookupError(f"stored file #{spec['file_id']} is gone")
            plan["files"][stored.id] = mail.File(stored.filename, stored.content_type, stored.data)
        elif spec["kind"] == "security_list":
            plan["lists"][spec["send_id"]] = building_list.frozen_sheet(spec["send_id"], spec["format"])
    return plan


def _datetime(key: str, value):
    """Context values named ``*_at`` travel as ISO 8601 strings; templates get datetimes."""
    if key.endswith("_at") and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _render(spec: dict, plan: dict, moment: datetime) -> mail.File:
    if spec["kind"] == "file":
        return plan["files"][spec["file_id"]]
    if spec["kind"] == "security_list":
        # Rendered from the values frozen when the list was sent, so a retry attaches the same
        # list; kept (StoredFile) once the SMTP server accepted it.
        frozen = plan["lists"][spec["send_id"]]
        file, problems = mail.security_list_file(frozen["format"], frozen["header"], frozen["rows"],
                                                 frozen["filename"])
        if problems:  # the email says which characters made it UTF-8 instead of CP932
            plan["values"]["cp932_problems"] = [list(problem) for problem in problems]
        plan["keep"].append((spec["send_id"], file))
        return file
    if plan["ctx"] is None:
        raise ValueError(f"a {spec['kind']} attachment needs a registration")
    if spec["kind"] == "pass_pdf":
        code = plan["pass_code"]
        return mail.File("pass.pdf", "application/pdf",
                         documents.pass_pdf(plan["ctx"], qr.Symbol(code["size"], code["path"])))
    if spec["kind"] == "certificate":
        return mail.File("certificate.pdf", "application/pdf", followup_values.certificate_pdf(plan["certificate"]))
    if spec["kind"] == "ics":
        body = ics.session_event(plan["ctx"], now=moment, method=spec["method"],
                                 organizer_email=mail.sender().addr_spec)
        return mail.File("calendar.ics", f"text/calendar; charset=utf-8; method={spec['method']}", body)
    raise ValueError(f"unknown attachment {spec['kind']!r}")


def _failed(app: Flask, message_id: int, worker_id: str, now: datetime, error: str, *,
            permanent: bool = False) -> None:
    with writing():
        outbox.mark_failed(message_id, worker_id, now, error, max_attempts=app.config["OUTBOX_MAX_ATTEMPTS"],
                           permanent=permanent)
        db.session.commit()


def tick(app: Flask, *, now: datetime | None = None, batch: int = 200) -> Counter:
    """Does the scheduled tasks due at ``now``, then sends the difference of every
    building-security list that changed since it was sent, then runs the sweeps of
    domain.timing.periodic.SWEEPS (scheduled messages due, expired holds, retention, seat-count
    drift); returns how many ended with each outcome ("done", "skipped", "missed", "difference",
    a sweep's name, "error").

    Nothing due costs one indexed query, plus one that reads the sessions with a list sent and
    not yet ended, and no write lock. Each task and each difference is its own transaction
    (domain.timing.periodic.do_task marks a task done in the transaction of its effect; a difference is
    one insert under the unique (session, seq)); one that fails is logged and stays due.
    """
    outcomes: Counter = Counter()
    with app.app_context():
        now = now or clock.utcnow()
        while True:
            ids = periodic.due_work(now, limit=batch)
            db.session.rollback()
            for task_id in ids:
                try:
                    with writing():
                        outcome = periodic.do_task(task_id, now)
                        db.session.commit()
                except Exception:  # a bug or a database error in one task must not stop the others
                    db.session.rollback()
                    log.exception("scheduled task #%d failed; it stays due", task_id)
                    outcomes["error"] += 1
                    continue
                if outcome:
                    outcomes[outcome] += 1
                    log.info("scheduled task #%d: %s", task_id, outcome)
            if len(ids) < batch or outcomes["error"]:
                break
        _send_differences(now, outcomes)
        for sweep in periodic.SWEEPS:
            _sweep(sweep, now, outcomes)
        return outcomes


def _sweep(sweep: periodic.Sweep, now: datetime, outcomes: Counter) -> None:
    """One sweep of work found from state (expired holds, messages due, events past retention):
    one query finds the ids, each id is its own transaction, and ``sweep.do`` is written so that
    a second worker doing the same id at the same moment does nothing (a conditional UPDATE)."""
    ids = sweep.find(now)
    db.session.rollback()
    for item_id in ids:
        try:
            with writing():
                done = sweep.do(item_id, now)
                db.session.commit()
        except Exception:  # one bad row must not stop the others; it is found again next tick
            db.session.rollback()
            log.exception("%s #%d failed; tried again next tick", sweep.name, item_id)
            outcomes["error"] += 1
            continue
        if done:
            outcomes[sweep.name] += 1
            log.info("%s #%d: done", sweep.name, item_id)


def _send_differences(now: datetime, outcomes: Counter) -> None:
    """One transaction per changed session: the loser of a race with another worker finds the
    seq taken (or, on SQLite, nothing changed any more) and sends nothing."""
    session_ids = periodic.changed_security_lists(now)
    db.session.rollback()
    for session_id in session_ids:
        try:
            with writing():
                session = db.session.get(EventSession, session_id)
                sent = building_list.send_difference(session, now=now) if session else None
                what = None if sent is None else ("difference" if sent.kind == building_list.DIFF else "list")
                db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("security list of session #%d: the difference failed; tried again next tick", session_id)
            outcomes["error"] += 1
            continue
        if what:
            outcomes[what] += 1
            log.info("security list of session #%d: %s queued", session_id, what)


class LostClaim(Exception):
    """The job was taken over by another worker (this one's lease had run out)."""


def run_job(app: Flask, *, worker_id: str, now: datetime | None = None) -> int | None:
    """Claims one job and does it; returns its id (None: no job was waiting).

    Progress is recorded after each step in a short transaction of its own, which renews the
    lease; if the job was taken over meanwhile, this worker stops. ``now`` fixes the time of
    every write (tests); by default each write reads the clock.
    """
    lease = float(app.config["JOB_LEASE_SECONDS"])
    stamp: Callable[[], datetime] = (lambda: now) if now else clock.utcnow
    with app.app_context():
        with writing():
            job_id = jobs.claim(worker_id, stamp(), lease_seconds=lease)
            db.session.commit()
        if job_id is None:
            return None
        job = db.session.get(Job, job_id)
        described = f"job #{job_id} ({job.kind.value}, event #{job.event_id}, attempt {job.attempts})"
        log.info("%s started", described)

        def report(done: int, total: int | None = None) -> None:
            with writing():
                owned = jobs.progress(job_id, worker_id, stamp(), done, lease_seconds=lease, total=total)
                db.session.commit()
            if not owned:
                raise LostClaim(job_id)

        try:
            filename, content_type, data = _RUNNERS[job.kind](app, job, report)
            with writing():
                finished = jobs.finish(job_id, worker_id, stamp(), filename=filename,
                                       content_type=content_type, data=data)
                db.session.commit()
            if not finished:
                raise LostClaim(job_id)
        except LostClaim:
            db.session.rollback()
            log.warning("%s was taken over by another worker; stopped", described)
        except Exception:
            db.session.rollback()
            log.exception("%s failed", described)
            with writing():
                jobs.fail(job_id, worker_id, stamp())
                db.session.commit()
        else:
            log.info("%s done: %s, %d bytes", described, filename, len(data))
        return job_id


def _badge_contexts(app: Flask, event_id: int) -> tuple[str, list[dict], dict[int, tuple[str, qr.Symbol]]]:
    """The people of the sheet as plain values, each with its pass's kept QR code (``qr_code``),
    and the codes that were missing or stale, encoded now, for _keep_codes. Only
    reads: on SQLite nobody waits for the encoding (a second or more for a thousand new codes)."""
    from .adapters import badges  # typst-backed: the compiler and its fonts load with the first job

    slug = db.session.get(Event, event_id).slug
    people = jobs.badge_sheet_people(event_id)
    codes = pass_qr.symbols(people, qr.symbol)
    ctxs = []
    for r in people:
        ctx = passes.pass_context(r, badges.NO_LINKS)
        ctx["qr_code"] = {"size": codes[r.id].size, "path": codes[r.id].path}
        ctxs.append(ctx)
    encoded = {row.registration_id: (row.payload, qr.Symbol(row.size, row.path)) for row in codes.values()
               if row in db.session.new or row in db.session.dirty}
    db.session.rollback()  # the read ends, writing nothing; touch no ORM object after this
    return slug, ctxs, encoded


def _keep_codes(drawn: dict[int, tuple[str, qr.Symbol]]) -> None:
    """Keeps codes drawn for a mail or a sheet ({registration id: (pass text, code)}), in the
    caller's transaction, in a savepoint. They only spare later documents the encoding: a pass
    changed since is kept with its current code, and if another process kept the same code first
    (the unique key), ours is dropped without undoing the caller's work (a mail recorded as sent)."""
    by_text = dict(drawn.values())
    registrations = db.session.scalars(select(Registration).where(Registration.id.in_(drawn))).all()
    try:
        with db.session.begin_nested():
            pass_qr.symbols(registrations, lambda payload: by_text.get(payload) or qr.symbol(payload))
    except IntegrityError:
        log.info("a pass's QR code was kept by another process first")


def _badge_sheet(app: Flask, job: Job, report: Callable[..., None]) -> tuple[str, str, bytes]:
    """The A4 badge sheet of the job's event, in furigana order; progress counts badges."""
    from .adapters import badges

    slug, ctxs, encoded = _badge_contexts(app, job.event_id)
    if encoded:
        with writing():  # SQLite's write lock up front, held only for the INSERTs
            _keep_codes(encoded)
            db.session.commit()
    report(0, total=len(ctxs))
    body = badges.render_badge_sheet(ctxs, progress=report)
    return f"badges-{slug}.pdf", "application/pdf", body


def _reception_list(app: Flask, job: Job, report: Callable[..., None]) -> tuple[str, str, bytes]:
    """The 受付名簿 PDF: the confirmed people of the job's filter, in 五十音 order."""
    from flask_babel import force_locale

    event = db.session.get(Event, job.event_id)
    flt = roster.ListFilter.from_args(job.params.get("filter") or {})
    ctx = exports.reception_list(event, flt, now=clock.utcnow())
    slug = event.slug
    db.session.rollback()  # end the read before the slow part; touch no ORM object after this
    report(0, total=ctx["count"])
    with force_locale(ctx["language"]):
        body = documents.reception_list_pdf(ctx)
    return f"reception-list-{slug}.pdf", "application/pdf", body


def _certificates(app: Flask, job: Job, report: Callable[..., None]) -> tuple[str, str, bytes]:
    """Every attendee's certificate of attendance in one PDF, in furigana order: issued now for
    those without one (domain.registration.certificates.issue_all), then drawn; progress counts pages."""
    from .domain.registration import certificates
    from .web import certificates as certificate_pages

    slug = db.session.get(Event, job.event_id).slug
    db.session.rollback()
    with writing():  # the write lock for the one INSERT and the read of the rows
        pages = certificate_pages.pages([c for c in certificates.issue_all(job.event_id, clock.utcnow())
                                         if c.revoked_at is None])  # a withdrawn one is not printed
        db.session.commit()
    report(0, total=len(pages))
    body = certificate_pages.certificates_pdf(pages, progress=report)
    return f"certificates-{slug}.pdf", "application/pdf", body


_RUNNERS = {JobKind.badge_sheet: _badge_sheet, JobKind.reception_list: _reception_list,
            JobKind.certificates: _certificates}


def run(app: Flask, *, once: bool = False) -> None:
    """Delivers the outbox every OUTBOX_POLL_SECONDS, runs the tick every TICK_SECONDS and
    does queued jobs, until SIGTERM or Ctrl-C. While the database fails, waits OUTBOX_POLL_SECONDS,
    then twice as long each time up to WORKER_BACKOFF_MAX_SECONDS, and logs one line when the
    outage starts and one when it ends (eventreg/outage.py).

    With ``once``, delivers what is due now (batch after batch), ticks once, does the queued
    jobs and returns.
    """
    # A bare `flask worker`: log to stderr, unless Flask's own handler on the app's logger (the
    # parent of ours) does already: both would print every line twice.
    if not logging.getLogger().handlers and not logging.getLogger(app.logger.name).handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not log.isEnabledFor(logging.INFO):
        log.setLevel(logging.INFO)
    worker_id = worker_name()
    poll = float(app.config["OUTBOX_POLL_SECONDS"])
    every = float(app.config["TICK_SECONDS"])
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("worker %s started (outbox every %.1f s, tick every %.0f s)", worker_id, poll, every)
    total = 0
    next_tick = time.monotonic()
    database = Outage("database", log, first=poll, cap=float(app.config["WORKER_BACKOFF_MAX_SECONDS"]))
    try:
        while not stop.is_set():
            sent, job = 0, None
            try:
                sent = deliver_due(app, worker_id=worker_id, stop=stop)
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + every
                    tick(app)
                job = run_job(app, worker_id=worker_id)
            except SQLAlchemyError as exc:  # down, or its disk full: wait longer each time
                wait = database.failed(exc)
                if once:
                    break
                stop.wait(wait)
                continue
            database.succeeded()
            total += sent
            if sent:
                log.info("sent %d message(s), %d since start", sent, total)
            if sent or job is not None:  # more may be due: look again at once
                continue
            if once:
                break
            stop.wait(max(0.0, min(poll, next_tick - time.monotonic())))
    except KeyboardInterrupt:
        log.info("interrupted")
    finally:
        signal.signal(signal.SIGTERM, previous)
    log.info("worker %s stopped; %d message(s) sent", worker_id, total)
