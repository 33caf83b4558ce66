"""One person's request under APPI (開示・削除), by email address: everything held about them, or
all of it anonymised across the events staff may handle.

The anonymising itself is the purge's (domain.privacy.retention): the same fields go, in the same
way, so a person deleted before the purge looks afterwards like everyone else purged.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from eventreg.domain.backoffice import audit
from eventreg.domain.insight import surveys_privacy
from eventreg.domain.people import text
from eventreg.domain.privacy.retention import PERSONAL, anonymise, personal_strings, scrub, scrub_audit, scrub_messages
from eventreg.domain.registration import signup
from eventreg.extensions import db
from eventreg.models import (
    AttendeeMessage,
    AuditEntry,
    Job,
    OutboxMessage,
    Registration,
    Scan,
    SecurityListSend,
    Status,
    StoredFile,
)


def _person_regs(email: str, event_ids=None) -> list[Registration]:
    address = text.normalize_email(email)
    query = select(Registration).where(Registration.email == address)
    if event_ids is not None:  # staff answer only for the events they may handle
        query = query.where(Registration.event_id.in_(sorted(event_ids)))
    return list(db.session.scalars(query.order_by(Registration.created_at, Registration.id)))


def _iso(value):
    return value.isoformat() if value else None


def export_person(email: str, *, event_ids=None) -> dict:
    """Everything held about one email address, as plain JSON values (DomainError for text that
    is no email address)."""
    out = []
    for r in _person_regs(email, event_ids):
        event = r.event
        labels = {str(q.id): q.label for q in event.questions}
        out.append({
            "event": {"id": event.id, "title": event.title, "organizer": event.organizer},
            "session": {"id": r.session_id, "title": r.session.title, "starts_at": r.session.starts_at.isoformat()},
            "registration": {"id": r.id, "status": r.status.value, "walk_in": r.walk_in, "language": r.language,
                             **{name: getattr(r, name) for name in PERSONAL[:-1]}, "sector": r.sector.value,
                             "created_at": _iso(r.created_at), "confirmed_at": _iso(r.confirmed_at),
                             "cancelled_at": _iso(r.cancelled_at), "checked_in_at": _iso(r.checked_in_at)},
            "answers": [{"question": labels.get(k, k), "answer": v} for k, v in (r.answers or {}).items()],
            "scans": [{"at": s.at.isoformat(), "result": s.result.value, "desk": s.desk} for s in db.session.scalars(
                select(Scan).where(Scan.registration_id == r.id).order_by(Scan.at))],
            "emails": [{"kind": m.kind.value, "status": m.status.value, "queued_at": m.created_at.isoformat(),
                        "sent_at": _iso(m.sent_at)} for m in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.registration_id == r.id).order_by(OutboxMessage.id))],
            "building_security_lists": [
                {"sent_at": s.created_at.isoformat(), "recipient": s.recipient, "values": s.people[str(r.id)]}
                for s in db.session.scalars(select(SecurityListSend).where(
                    SecurityListSend.session_id == r.session_id).order_by(SecurityListSend.seq))
                if str(r.id) in (s.people or {})],
            "survey_responses": surveys_privacy.person_answers(r.id),
        })
    return {"email": text.normalize_email(email), "registrations": out}


def delete_person(email: str, now: datetime, *, actor=None, event_ids=None) -> dict[str, int]:
    """Anonymises every registration of one email address: an active one is cancelled first
    (its seat released, the next waiting person promoted, no email to the person), then its
    personal fields go as in the purge; its emails, scan links, security-list rows, the files
    of its events and the audit log's personal values go too. The audit entry it writes names
    no one. Flushes."""
    regs = [r for r in _person_regs(email, event_ids) if r.anonymised_at is None]
    strings = personal_strings(regs)
    promoted = 0
    for r in regs:
        if r.status != Status.cancelled:
            promoted += len(signup.cancel(r, now=now, notify=False, by_staff=True))
    ids = [r.id for r in regs]
    counts = {"registration": len(regs), "promoted": promoted}
    if not ids:
        return counts
    counts["outbox_message"] = db.session.execute(delete(OutboxMessage).where(OutboxMessage.registration_id.in_(ids))
                                                  .execution_options(synchronize_session=False)).rowcount
    counts["survey_response"] = surveys_privacy.delete_responses(ids)
    counts["scan"] = db.session.execute(update(Scan).where(Scan.registration_id.in_(ids))
                                        .values(registration_id=None, token_hash="")
                                        .execution_options(synchronize_session=False)).rowcount
    keys = {str(i) for i in ids}
    n = 0
    for send in db.session.scalars(select(SecurityListSend).where(
            SecurityListSend.session_id.in_({r.session_id for r in regs}))):
        named = set(send.people or {}) | set(map(str, send.added or [])) | set(map(str, send.removed or []))
        if keys & named:
            send.people = {k: v for k, v in (send.people or {}).items() if k not in keys}
            send.added = [k for k in send.added or [] if str(k) not in keys]
            send.removed = [k for k in send.removed or [] if str(k) not in keys]
            send.count = len(send.people)
            n += 1
    counts["security_list_send"] = n
    events = {r.event_id for r in regs}
    for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.registration_id.is_(None))):
        if (row.context or {}).get("event_id") in events:  # a venue's email may name the person
            row.context = scrub(row.context, strings)
    db.session.flush()
    counts["stored_file"] = db.session.execute(  # lists, badge sheets: they may name the person
        delete(StoredFile).where(StoredFile.event_id.in_(events)).execution_options(synchronize_session=False)).rowcount
    counts["audit_entry"] = scrub_audit(list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.event_id.in_(events)))), strings)
    counts["attendee_message"] = scrub_messages(list(db.session.scalars(
        select(AttendeeMessage).where(AttendeeMessage.event_id.in_(events)))), strings, search_too=False)
    for job in db.session.scalars(select(Job).where(Job.event_id.in_(events))):
        job.params = scrub(job.params or {}, strings)
    anonymise(regs, now)
    for r in regs:
        audit.record(r.event_id, "person_deleted", actor=actor, now=now, registration_id=r.id,
                     note="deleted_on_request")
    db.session.flush()
    return counts
