"""Retention (APPI): personal data removed after an event, and old sign-in and mail rows cleaned up.

An event's purge is due ``Event.retention_days`` (0-3650) after its last session ends. The purge
(``purge``) keeps what the statistics need (status, sector, session, the created / confirmed /
cancelled / checked-in times, walk-in, language, and ``repeat_attendee``, decided from the email
before it goes) and removes everything else that names a person: the registrations' names,
furigana, email, phone, organization, department and answers (their link secret and entry id are
replaced by random values, so old links and passes open nothing), the building-security list
snapshots, the event's stored files, job parameters, the event's outbox rows, the scan log's
links and pass hashes, the personal values in the audit log, invitations never accepted, and
the free-text survey answers (domain.insight.surveys_privacy: the scores stay).

Exactly once: the purge starts with ``UPDATE event SET purged_at = now WHERE id = … AND purged_at
IS NULL``; of two workers, one updates the row and does the work, the other does nothing.

``cleanup`` deletes, for every event, failed sign-in attempts and sent or failed outbox rows older
than their retention (the building-security list's rows stay until their event is purged: the
security page reads them), and staff sessions that expired or were revoked.

One person's request (開示・削除) is domain.privacy.person_requests; it anonymises as the purge does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, literal, or_, select, update

from eventreg.domain.backoffice import audit
from eventreg.domain.errors import DomainError
from eventreg.domain.insight import surveys_privacy
from eventreg.domain.people import person_keys
from eventreg.domain.registration import certificates, passes
from eventreg.extensions import db
from eventreg.models import (
    AttendeeMessage,
    AuditEntry,
    Event,
    EventSession,
    Invitation,
    Job,
    LoginAttempt,
    OutboxMessage,
    OutboxStatus,
    Registration,
    Scan,
    SecurityListSend,
    StaffSession,
    Status,
    StoredFile,
)
from eventreg.models.base import UTCDateTime

MIN_DAYS, MAX_DAYS = 0, 3650
# Global clean-up, in days (config: LOGIN_ATTEMPT_RETENTION_DAYS, OUTBOX_RETENTION_DAYS; see configure).
LIMITS = {"login_attempt_days": 30, "outbox_days": 30}
PERSONAL = ("family_name", "given_name", "family_kana", "given_kana", "email", "organization", "department",
            "phone", "answers")
BLANK = {"family_name": "", "given_name": "", "family_kana": "", "given_kana": "", "email": None,
         "organization": "", "department": "", "phone": "", "answers": {}}


def configure(config) -> None:
    """Takes the global clean-up limits from the app's configuration (create_app calls it)."""
    LIMITS["login_attempt_days"] = int(config.get("LOGIN_ATTEMPT_RETENTION_DAYS", LIMITS["login_attempt_days"]))
    LIMITS["outbox_days"] = int(config.get("OUTBOX_RETENTION_DAYS", LIMITS["outbox_days"]))


def check_days(value) -> int:
    """A retention period typed on the privacy page: whole days, 0-3650. DomainError otherwise."""
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError("invalid_retention_days") from None
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise DomainError("invalid_retention_days")
    return days


def purge_at(event: Event) -> datetime | None:
    """When the event's personal data goes: retention_days after its last session ends."""
    ends = [s.ends_at for s in event.sessions]
    return max(ends) + timedelta(days=event.retention_days) if ends else None


def _past_retention(now: datetime):
    last_end = func.max(EventSession.ends_at)
    moment = literal(now, UTCDateTime())
    if db.session.get_bind().dialect.name == "postgresql":
        return last_end + func.make_interval(0, 0, 0, Event.retention_days) <= moment
    return func.julianday(last_end) + Event.retention_days <= func.julianday(moment)


def due_events(now: datetime) -> list[int]:
    """Ids of events past their retention and not purged: one query."""
    return list(db.session.scalars(
        select(Event.id).join(EventSession, EventSession.event_id == Event.id)
        .where(Event.purged_at.is_(None)).group_by(Event.id).having(_past_retention(now)).order_by(Event.id)
    ))


def personal_strings(regs) -> set[str]:
    """Every personal value of ``regs`` (to find them in free text: audit notes, message filters)."""
    found = set()
    for r in regs:
        for name in PERSONAL[:-1]:
            value = getattr(r, name)
            if value:
                found.add(str(value))
        for value in (r.answers or {}).values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item:
                    found.add(item)
        if r.family_name and r.given_name:
            found.add(f"{r.family_name} {r.given_name}")
    return found


def scrub(value, strings: set[str]):
    """``value`` (JSON) with every string that contains a personal string replaced by None."""
    if isinstance(value, dict):
        return {k: scrub(v, strings) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, strings) for v in value]
    if isinstance(value, str) and any(s in value for s in strings):
        return None
    return value


def _scrub_text(value: str, strings: set[str]) -> str:
    for s in sorted(strings, key=len, reverse=True):
        value = value.replace(s, "＊")
    return value


def _personal_key(key: str) -> bool:
    return key in PERSONAL or key.startswith("answers.")


def scrub_audit(entries, strings: set[str]) -> int:
    """Personal values out of audit entries: a personal field's [old, new] becomes [None, None]
    (the entry still says that it changed), free text naming someone is blanked. Returns how many."""
    n = 0
    for entry in entries:
        changes = {k: ([None, None] if _personal_key(k) else scrub(v, strings)) for k, v in (entry.changes or {}).items()}
        if entry.action in ("staff_invited", "invitation_revoked") and "email" in changes:
            changes["email"] = [None, None]
        note = _scrub_text(entry.note or "", strings)  # a code, or an old row's free text
        params = scrub(entry.note_params or {}, strings)
        if entry.action == "personal_data_exported":  # a filter may hold a name searched for
            note = note.split("; filter", 1)[0]
            params.pop("filter", None)
        if changes != (entry.changes or {}) or note != (entry.note or "") or params != (entry.note_params or {}):
            entry.changes, entry.note, entry.note_params = changes, note, params
            n += 1
    return n


def _repeat_flags(regs: list[Registration]) -> dict[int, bool]:
    """For each registration: whether the same email had an earlier non-cancelled registration in
    another event. Also marks later registrations of other events (not yet anonymised) of those
    emails, whose earlier one is about to lose its email."""
    emails = sorted({r.email for r in regs if r.email})
    others = []
    for i in range(0, len(emails), 500):
        others += db.session.execute(
            select(Registration.id, Registration.email, Registration.event_id, Registration.created_at,
                   Registration.status, Registration.anonymised_at)
            .where(Registration.email.in_(emails[i:i + 500]))).all()
    by_email: dict[str, list] = {}
    for row in others:
        by_email.setdefault(row.email, []).append(row)
    flags, later = {}, set()
    mine = {r.id for r in regs}
    for r in regs:
        rows = by_email.get(r.email, []) if r.email else []
        flags[r.id] = bool(r.repeat_attendee) or any(
            o.event_id != r.event_id and o.status != Status.cancelled and o.created_at < r.created_at for o in rows)
        if r.status != Status.cancelled:
            later.update(o.id for o in rows if o.id not in mine and o.event_id != r.event_id
                         and o.anonymised_at is None and o.created_at > r.created_at)
    if later:
        db.session.execute(update(Registration).where(Registration.id.in_(sorted(later)))
                           .values(repeat_attendee=True).execution_options(synchronize_session=False))
    return flags


def anonymise(regs: list[Registration], now: datetime) -> int:
    flags = _repeat_flags(regs)
    certificates.forget_holders([r.id for r in regs])  # the name printed on a certificate goes too
    for r in regs:
        for name, value in BLANK.items():
            setattr(r, name, value)
        person_keys.refresh(r)
        r.token, r.entry_id = passes.new_token(), passes.new_entry_id()
        r.repeat_attendee, r.anonymised_at = flags[r.id], now
    db.session.flush()
    return len(regs)


def _event_outbox_ids(event_id: int, reg_ids) -> list[int]:
    """The event's outbox rows: to its attendees, and to others (venue, contact, staff) by the
    event_id of their template values."""
    rows = db.session.execute(select(OutboxMessage.id, OutboxMessage.registration_id, OutboxMessage.context)
                              .where(or_(OutboxMessage.registration_id.in_(reg_ids),
                                         OutboxMessage.registration_id.is_(None)))).all()
    return [row.id for row in rows if row.registration_id is not None
            or (row.context or {}).get("event_id") == event_id]


def _claim(event_id: int, now: datetime) -> bool:
    """The guard: True for the one caller whose UPDATE found the event not purged."""
    return db.session.execute(update(Event).where(Event.id == event_id, Event.purged_at.is_(None))
                              .values(purged_at=now).execution_options(synchronize_session=False)).rowcount == 1


def purge(event_id: int, now: datetime, *, dry_run: bool = False) -> dict[str, int] | None:
    """Removes the event's personal data (flushes); returns counts per table, or None when the
    event is gone or was purged already. ``dry_run``: the counts only, nothing changed."""
    event = db.session.get(Event, event_id)
    if event is None or event.purged_at is not None:
        return None
    if not dry_run and not _claim(event_id, now):
        return None
    regs = list(db.session.scalars(select(Registration).where(Registration.event_id == event_id,
                                                               Registration.anonymised_at.is_(None))))
    reg_ids = select(Registration.id).where(Registration.event_id == event_id)
    strings = personal_strings(regs)
    outbox_ids = _event_outbox_ids(event_id, reg_ids)
    sends = list(db.session.scalars(select(SecurityListSend).where(SecurityListSend.event_id == event_id)))
    files = list(db.session.scalars(select(StoredFile.id).where(StoredFile.event_id == event_id)))
    jobs = list(db.session.scalars(select(Job).where(Job.event_id == event_id)))
    scans = db.session.scalar(select(func.count()).select_from(Scan).where(
        Scan.event_id == event_id, or_(Scan.registration_id.is_not(None), Scan.token_hash != "")))
    invitations = db.session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.event_id == event_id, Invitation.accepted_at.is_(None)))
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.event_id == event_id)))
    messages = list(db.session.scalars(select(AttendeeMessage).where(AttendeeMessage.event_id == event_id)))
    counts = {"registration": len(regs), "scan": scans, "security_list_send": len(sends), "stored_file": len(files),
              "job": len(jobs), "outbox_message": len(outbox_ids), "invitation": invitations}
    if dry_run:
        counts["audit_entry"] = sum(1 for e in entries if e.changes or e.note or e.note_params)
        counts["attendee_message"] = len(messages)
        counts["survey_answer"] = surveys_privacy.free_text_count(event_id)
        return counts
    anonymise(regs, now)
    counts["survey_answer"] = surveys_privacy.purge_free_text(event_id)  # the scales and choices stay
    db.session.execute(update(Scan).where(Scan.event_id == event_id).values(registration_id=None, token_hash="")
                       .execution_options(synchronize_session=False))
    for send in sends:
        send.people, send.added, send.removed, send.file_id = {}, [], [], None
    for job in jobs:
        job.params, job.result_file_id = {}, None
    db.session.flush()
    db.session.execute(delete(StoredFile).where(StoredFile.event_id == event_id).execution_options(synchronize_session=False))
    if outbox_ids:
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(outbox_ids))
                           .execution_options(synchronize_session=False))
    db.session.execute(delete(Invitation).where(Invitation.event_id == event_id, Invitation.accepted_at.is_(None))
                       .execution_options(synchronize_session=False))
    counts["audit_entry"] = scrub_audit(entries, strings)
    counts["attendee_message"] = scrub_messages(messages, strings)
    audit.record(event_id, "personal_data_purged", actor=None, now=now,
                 note="purged", params={"counts": counts})
    db.session.flush()
    return counts


def scrub_messages(messages, strings: set[str], *, search_too: bool = True) -> int:
    """Names out of organizers' messages; ``search_too``: the recipient filter's free-text search
    goes whatever it holds (after the event nobody searches again)."""
    n = 0
    for m in messages:
        flt = {k: v for k, v in (m.filter or {}).items() if k != "q"} if search_too else scrub(m.filter or {}, strings)
        subject, body = _scrub_text(m.subject or "", strings), _scrub_text(m.body or "", strings)
        if (flt, subject, body) != (m.filter or {}, m.subject, m.body):
            m.filter, m.subject, m.body = flt, subject, body
            n += 1
    return n


def purge_due(event_id: int, now: datetime) -> bool:
    """The tick's sweep: purges one event if it is (still) due."""
    event = db.session.get(Event, event_id)
    if event is None or event.purged_at is not None:
        return False
    due = purge_at(event)
    if due is None or due > now:
        return False
    return purge(event_id, now) is not None


def cleanup(now: datetime, *, login_attempt_days: int | None = None, outbox_days: int | None = None,
            dry_run: bool = False) -> dict[str, int]:
    """Deletes old sign-in attempts, old sent/failed outbox rows and ended staff sessions; returns
    the counts. Outbox rows kept until their event's purge: mail to an attendee (the history of a
    message, a reminder and a registration page reads them) and a venue's security list (its page
    reads them); what goes here is mail to staff and contacts (invitations, summaries)."""
    login_cut = now - timedelta(days=LIMITS["login_attempt_days"] if login_attempt_days is None else login_attempt_days)
    outbox_cut = now - timedelta(days=LIMITS["outbox_days"] if outbox_days is None else outbox_days)
    wheres = {
        LoginAttempt: [LoginAttempt.at < login_cut],
        OutboxMessage: [OutboxMessage.status.in_([OutboxStatus.sent, OutboxStatus.failed]),
                        OutboxMessage.created_at < outbox_cut,
                        OutboxMessage.registration_id.is_(None),
                        or_(OutboxMessage.idempotency_key.is_(None),
                            ~OutboxMessage.idempotency_key.like("security_list:%"))],
        StaffSession: [or_(StaffSession.expires_at < now, StaffSession.revoked_at < now)],
    }
    counts = {}
    for model, where in wheres.items():
        if dry_run:
            counts[model.__tablename__] = db.session.scalar(select(func.count()).select_from(model).where(*where))
        else:
            counts[model.__tablename__] = db.session.execute(
                delete(model).where(*where).execution_options(synchronize_session=False)).rowcount
    return counts


CLEANUP = 0  # the sweep's id for the global clean-up (events have ids >= 1)


def find(now: datetime) -> list[int]:
    """The sweep: the events due, and CLEANUP when anything global is old enough to go."""
    due = due_events(now)
    return [CLEANUP, *due] if any(cleanup(now, dry_run=True).values()) else due


def do(item_id: int, now: datetime) -> bool:
    if item_id == CLEANUP:
        return any(cleanup(now).values())
    return purge_due(item_id, now)


# ---- one person's request (開示・削除) ----

