"""Certificates of attendance (参加証明書): issued once per registration of a person who came.

"Came" is ``Registration.checked_in_at IS NOT NULL``, on site (the desk) and online (the join
link's first opening) alike. ``issue`` is idempotent and safe under concurrency: it is one
``INSERT … ON CONFLICT DO NOTHING`` keyed on the registration, then a read of the one row, so two
workers (or the post-event loop and an organizer's click) issuing at the same moment get the same
certificate. ``issue_all`` does it for every attendee of an event in one statement (the
1,000-certificate job).

**What is printed is kept** (models.certificate): the name by the badge's rule (the attendee's
``full_name`` of domain.registration.passes.pass_context, the one rule for a printed name, in the
registrant's language), the event's title and organizer, the session's title and times, the venue
or "online", the language. A rename afterwards (event or person) changes nothing already issued:
the paper and /verify/<code> keep saying the same. The holder's name goes with the purge
(``forget_holders``).

**The code** is 12 characters of Crockford's base 32 (digits and capitals without I L O U):
60 random bits from ``secrets``, so codes cannot be guessed or enumerated (and /verify is
rate-limited). It is printed ABCD-EFGH-JKMN; ``normalize`` takes it as typed from paper: any case,
full-width forms (NFKC), with or without spaces and dashes of any kind (the long-vowel mark a
Japanese input method gives for "-" included), and the look-alikes read as the character they
resemble (O → 0, I and L → 1), which therefore never appear in a code.
"""

from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime
from functools import lru_cache

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from eventreg.domain.backoffice import audit, jobs
from eventreg.domain.errors import DomainError
from eventreg.domain.people.text import clean
from eventreg.domain.registration import passes
from eventreg.extensions import db
from eventreg.models import AttendanceMode, Certificate, Job, JobKind, Registration

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
LENGTH = 12
GROUP = 4
NOT_ATTENDED = "certificate_not_attended"
# Dashes and spaces people type between the groups (ASCII, Unicode dashes, the katakana
# long-vowel mark a Japanese IME gives for "-", full-width forms are folded by NFKC first).
_SEPARATORS = dict.fromkeys(map(ord, " -\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\u3000\u00ad_."), None)
_LOOK_ALIKES = str.maketrans("OIL", "011")
MAX_TYPED = 64  # longer than any way of typing a code: refused before any work
MAX_REASON = 500  # the organizer's words when withdrawing (models.certificate.revoked_reason)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def formatted(code: str) -> str:
    """ABCDEFGHJKMN → ABCD-EFGH-JKMN (as printed and as the verify URL carries it)."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def normalize(typed: str) -> str | None:
    """The stored form of a code as someone typed it, or None if it cannot be one."""
    if not isinstance(typed, str) or len(typed) > MAX_TYPED:
        return None
    code = unicodedata.normalize("NFKC", typed).translate(_SEPARATORS).upper().translate(_LOOK_ALIKES)
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def find(typed: str) -> Certificate | None:
    """The certificate a typed or scanned code names; None for anything else."""
    code = normalize(typed)
    if code is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


NO_LINKS = dict.fromkeys(("registration", "cancel", "pdf", "ics"), "")


def as_printed(registration: Registration) -> dict:
    """What a certificate of ``registration`` prints, as of now (the columns of Certificate)."""
    ctx = passes.pass_context(registration, NO_LINKS)  # the printed name and language: one rule
    session, event = registration.session, registration.event
    online = session.attendance_mode == AttendanceMode.online
    return {
        "registration_id": registration.id, "event_id": registration.event_id,
        "holder_name": ctx["attendee"]["full_name"], "language": ctx["language"],
        "event_title": event.title, "organizer": event.organizer or "", "session_title": session.title or "",
        "venue": "" if online else (event.venue_name or ""), "online": online, "timezone": event.timezone,
        "starts_at": session.starts_at, "ends_at": session.ends_at,
    }


@lru_cache(maxsize=2)
def _insert_once(dialect: str):
    # No conflict target: a clash on the registration (issued already) and, far less likely, on
    # the code (60 random bits) both insert nothing; the read afterwards tells them apart.
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return dialect_insert(Certificate.__table__).on_conflict_do_nothing()


def _insert(rows: list[dict]) -> None:
    db.session.execute(_insert_once(db.session.get_bind().dialect.name), rows)


def _of(registration_id: int) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.registration_id == registration_id)
                             .execution_options(populate_existing=True))


def issue(registration: Registration, now: datetime) -> Certificate:
    """The registration's certificate, issued now if it has none. Only for a person who came:
    DomainError("certificate_not_attended") otherwise. Flushes; the caller commits."""
    if registration.checked_in_at is None:
        raise DomainError(NOT_ATTENDED)
    existing = _of(registration.id)
    if existing is not None:
        return existing
    values = as_printed(registration)
    for _ in range(5):  # a code already taken (about 1 in 10^18 per certificate): another one
        _insert([{**values, "code": new_code(), "issued_at": now}])
        found = _of(registration.id)
        if found is not None:
            return found
    raise RuntimeError("no free certificate code after 5 tries")  # pragma: no cover - 2^-290


def to_hand_out(registration: Registration, now: datetime) -> Certificate:
    """``issue``, for handing the certificate to its holder (a download, a resent mail): a
    withdrawn one is DomainError("certificate_withdrawn"), never handed out again."""
    certificate = issue(registration, now)
    if certificate.revoked_at is not None:
        raise DomainError("certificate_withdrawn")
    return certificate


def attendees(event_id: int):
    """The event's people who came, in 五十音 order (the certificate job's order)."""
    return (select(Registration).where(Registration.event_id == event_id, Registration.checked_in_at.is_not(None))
            .order_by(Registration.sort_key, Registration.id))


def issue_all(event_id: int, now: datetime) -> list[Certificate]:
    """Every attendee's certificate (issued now for those without one), in 五十音 order. One
    INSERT … ON CONFLICT DO NOTHING for all, so a concurrent issue() or job costs nothing twice."""
    people = db.session.scalars(attendees(event_id).options(
        selectinload(Registration.session), selectinload(Registration.event))).all()
    return _issue_each(people, Certificate.event_id == event_id, now)


def issue_for(registration_ids: list[int], now: datetime) -> None:
    """The certificates of these registrations of people who came (the post-event loop's
    recipients), issued as issue_all does: one INSERT for all, not one issue() each."""
    people = db.session.scalars(select(Registration).where(
        Registration.id.in_(registration_ids), Registration.checked_in_at.is_not(None)).options(
        selectinload(Registration.session), selectinload(Registration.event))).all()
    _issue_each(people, Certificate.registration_id.in_([r.id for r in people]), now)


def _issue_each(people: list[Registration], theirs, now: datetime) -> list[Certificate]:
    """``people``'s certificates in their order; ``theirs``: a condition on Certificate that
    takes in at least theirs (their event's, or their ids)."""
    have = set(db.session.scalars(select(Certificate.registration_id).where(theirs)))
    rows = [{**as_printed(r), "code": new_code(), "issued_at": now} for r in people if r.id not in have]
    if rows:
        _insert(rows)
    by_registration = {c.registration_id: c for c in db.session.scalars(
        select(Certificate).where(theirs).execution_options(populate_existing=True))}
    missing = [r for r in people if r.id not in by_registration]
    for r in missing:  # a code clash in the bulk insert (about 1 in 10^14 for 1,000): one at a time
        by_registration[r.id] = issue(r, now)
    return [by_registration[r.id] for r in people]


def forget_holders(registration_ids: list[int]) -> int:
    """Blanks the holder's name (and a withdrawal's reason: staff's words about the person) on the
    certificates of these registrations (the purge, a deletion request): the code still verifies
    as issued (or withdrawn) for the event, naming nobody."""
    if not registration_ids:
        return 0
    return db.session.execute(update(Certificate).where(Certificate.registration_id.in_(registration_ids))
                              .values(holder_name="", revoked_reason="")
                              .execution_options(synchronize_session=False)).rowcount


def queue_job(event_id: int, now: datetime, *, requested_by: int | None = None) -> Job:
    """The job that issues every attendee's certificate and makes one PDF of all, for printing."""
    total = db.session.scalar(select(func.count()).select_from(attendees(event_id).subquery()))
    return jobs.queue(JobKind.certificates, now, event_id=event_id, requested_by=requested_by, total=total)


def not_withdrawn():
    """The condition on Registration: it has no withdrawn certificate (the mail of one goes nowhere)."""
    return ~exists().where(Certificate.registration_id == Registration.id, Certificate.revoked_at.is_not(None))


def withdraw(certificate: Certificate, *, reason: str, actor, now: datetime) -> bool:
    """Withdraws an issued certificate: /verify/<code> says so from now on. One conditional UPDATE
    on "not withdrawn yet"; True when this call withdrew it, False when it already was (a double
    click, another staff member at the same moment): nothing is changed then. ``reason`` (optional)
    is kept for staff, never shown at /verify; DomainError from the text cleaner for a bad one
    (``too_long``, ``control_characters``). Writes an audit entry; flushes, the caller commits."""
    reason = clean(reason, max_length=MAX_REASON, multiline=True, fold=False)
    took = db.session.execute(
        update(Certificate).where(Certificate.id == certificate.id, Certificate.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason).execution_options(synchronize_session=False)).rowcount == 1
    db.session.expire(certificate, ["revoked_at", "revoked_reason"])
    if took:
        audit.record(certificate.event_id, "certificate_withdrawn", actor=actor, now=now,
                     registration_id=certificate.registration_id,
                     note="certificate_withdrawn_reason" if reason else "certificate_withdrawn",
                     params={"code": formatted(certificate.code), "reason": reason})
        db.session.flush()
    return took
