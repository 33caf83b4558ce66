"""Check-in at the desk: one place for the rule, used by the desk page and the JSON API.

``scan`` always returns an outcome and always writes a log row; it never raises for a bad pass.
The check-in itself is a conditional update (``… WHERE checked_in_at IS NULL``), so the same pass
scanned at two desks at once gives exactly one "ok" and one "already_checked_in".

Offline desks (``apart=True``, domain.reception.desk_batches) admit people without seeing each
other: ``now`` is then the admission's device time, and a person already checked in at another
desk is a ``conflict``: the earliest admission is the check-in (a later one stored is moved to it
by an UPDATE conditional on the exact time and desk read), the other one is reported back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm.attributes import set_committed_value

from eventreg.domain.errors import DomainError
from eventreg.domain.people import text
from eventreg.domain.reception import scan_statement
from eventreg.domain.registration import passes
from eventreg.extensions import db
from eventreg.models import Event, Registration, Scan, ScanMethod, ScanResult, Status
from eventreg.models.registration import changed_now

# What a scan of a valid, current pass answers for each registration status. Only "ok" lets the
# desk check the person in; a new status must be added here (tests/domain/test_checkin.py checks
# that every Status is listed).
RESULT_OF_STATUS: dict[Status, ScanResult] = {
    Status.confirmed: ScanResult.ok,
    Status.held: ScanResult.unconfirmed,
    Status.waitlisted: ScanResult.waitlisted,
    Status.cancelled: ScanResult.cancelled,
}


@dataclass(frozen=True)
class Admissions:
    """The same person admitted at two desks apart: the one that counts and the other."""

    kept_at: datetime
    kept_desk: str
    other_at: datetime
    other_desk: str


@dataclass
class ScanOutcome:
    result: ScanResult
    # Only for passes of this event: a desk never sees another event's attendee. A Registration,
    # or (scan_by_token) the one statement's row, which has the same attribute names.
    registration: Registration | None = None
    admissions: Admissions | None = None  # for result conflict
    # Read with the check-in (PostgreSQL's one statement), so the answer needs no other query:
    # the registration's session as plain values (id, title, doors_at, starts_at, ends_at), and
    # whether a building list was sent for it yet (False: nobody can be missing from one).
    session: dict | None = None
    list_sent: bool | None = None

    @property
    def ok(self) -> bool:
        return self.result == ScanResult.ok


# Core statements, built once: a scan is the desk's hot path.
DESK_NAME_LENGTH = scan_statement.DESK_NAME_LENGTH


def desk_name(value: str | None, *, default: str) -> str:
    """The desk's name as each scan logs it and the attendee list shows it: cleaned as any text
    people type (NFKC, spaces collapsed; a control, zero-width or bidi character is refused with
    DomainError control_characters), cut to DESK_NAME_LENGTH; empty: ``default``."""
    cleaned = text.clean((value or "")[:1000], max_length=1000)
    return (cleaned or default)[:DESK_NAME_LENGTH]


_LOG = insert(Scan.__table__)
_reg = Registration.__table__.c
_CHECK_IN = (
    update(Registration.__table__)
    .where(_reg.id == bindparam("rid"), _reg.checked_in_at.is_(None), _reg.status == Status.confirmed.value)
    .values(checked_in_at=bindparam("now"), checked_in_desk=bindparam("desk"))
)
# An earlier admission replaces the stored one only if the row still holds what was read.
_MOVE = (
    update(Registration.__table__)
    .where(_reg.id == bindparam("rid"), _reg.checked_in_at == bindparam("seen_at", type_=_reg.checked_in_at.type),
           _reg.checked_in_desk == bindparam("seen_desk"), _reg.status == Status.confirmed.value)
    .values(checked_in_at=bindparam("now"), checked_in_desk=bindparam("desk"))
)


def log_scan(event_id: int, result: ScanResult, *, registration: Registration | None, token: str,
         method: ScanMethod, desk: str, user_id: int | None, session_id: int | None, now: datetime) -> None:
    """``token`` is what identifies the pass (the entry id, or the unreadable text); only a
    short hash of it is stored."""
    db.session.execute(_LOG, {
        "event_id": event_id, "session_id": session_id,
        "registration_id": registration.id if registration is not None else None,
        "token_hash": passes.token_hash(token) if token else "",
        "result": result, "method": method, "desk": desk[:50], "user_id": user_id, "at": now,
    })


def scan(payload: str, *, event: Event, session_id: int | None = None, method: ScanMethod, desk: str,
         user_id: int | None, now: datetime, apart: bool = False) -> ScanOutcome:
    """Checks in the holder of an entry credential (the QR payload) at ``event`` (and ``session_id``).
    ``now`` is when the person was admitted (an offline desk's device time, ``apart``).

    The signature is verified with the key of the pass's event; a pass whose entry version is
    older than the registration's was replaced (cancelled, or moved to another session).
    """
    credential = passes.parse(payload or "")
    if (credential is not None and credential.format == 3 and 1 <= credential.registration_id <= passes.MAX_ID
            and db.session.get_bind().dialect.name == "postgresql"
            and passes.verify(credential, event.pass_key, event.id)):
        # A pass of this event (the usual scan): one round trip. Any other text (an ER2 pass, a
        # pass of another event, a forgery) takes the steps below, which tell them apart.
        outcome = _scan_at_once(credential, payload, event_id=event.id, seed=event.pass_key, session_id=session_id,
                                method=method, desk=desk[:DESK_NAME_LENGTH], user_id=user_id, now=now, apart=apart)
        if outcome is not None:
            return outcome[0]
        db.session.refresh(event)  # its key changed since it was read: decide with the new one
    registration = passes.find_entry(credential) if credential is not None else None
    if registration is None:
        outcome = ScanOutcome(ScanResult.unknown_pass)
    elif registration.event_id != event.id:
        outcome = ScanOutcome(ScanResult.wrong_event)
    elif credential.entry_version != registration.entry_version:
        outcome = _stale(registration, credential.entry_version)
    else:
        outcome = check_in(registration, session_id=session_id, desk=desk, now=now, apart=apart)
    logged = _logged_name(credential, registration, payload)
    log_scan(event.id, outcome.result, registration=outcome.registration, token=logged,
         method=method, desk=desk, user_id=user_id, session_id=session_id, now=now)
    return outcome


_AT_ONCE = None  # PostgreSQL's statement (domain.reception.scan_statement), built at first use
# Each event's key seed as this process last read it. Nothing is decided from it: the one
# statement checks that the event still has it, and answers KEY_CHANGED otherwise.
_SEEDS: dict[int, str] = {}


def _statements():
    """(the statement loading a Registration, the same statement for the answer's plain values)."""
    global _AT_ONCE
    if _AT_ONCE is None:
        loading = select(Registration, *scan_statement.EXTRA).from_statement(scan_statement.statement(RESULT_OF_STATUS))
        plain = scan_statement.statement(RESULT_OF_STATUS, scan_statement.ANSWER_COLUMNS)
        _AT_ONCE = (loading.execution_options(populate_existing=True), plain)
    return _AT_ONCE


def _one_statement_pass(payload: str, dialect: str) -> passes.EntryCredential | None:
    """The pass, if the one statement can check it in: a format 3 pass, on PostgreSQL."""
    credential = passes.parse(payload or "")
    if (credential is None or credential.format != 3 or not 1 <= credential.registration_id <= passes.MAX_ID
            or dialect != "postgresql"):
        return None
    return credential


def scan_at(payload: str, *, event_id: int, method: ScanMethod, desk: str, user_id: int | None,
            now: datetime) -> tuple[ScanOutcome, str] | None:
    """``scan`` of an online desk without the event loaded: a pass of ``event_id`` is checked in
    (or refused) in one statement; returns the outcome and the event's time zone. None when this
    does not apply (not PostgreSQL, not a format 3 pass signed with the key this process knows for
    the event, the event's key changed or the event is gone): the caller loads the event and calls
    ``scan``, which tells those cases apart."""
    credential = _one_statement_pass(payload, db.session.get_bind().dialect.name)
    if credential is None:
        return None
    seed = _SEEDS.get(event_id)
    if seed is None:
        seed = db.session.scalar(select(Event.pass_key).where(Event.id == event_id))
        if seed is None:
            return None
        _SEEDS[event_id] = seed
    if not passes.verify(credential, seed, event_id):
        return None
    done = _scan_at_once(credential, payload, event_id=event_id, seed=seed, session_id=None, method=method,
                         desk=desk[:DESK_NAME_LENGTH], user_id=user_id, now=now, apart=False)
    if done is None:
        _SEEDS.pop(event_id, None)
    return done


@dataclass(frozen=True)
class TokenScan:
    """What scan_by_token did, and the token's last use (the caller touches it when due)."""

    outcome: ScanOutcome
    timezone: str
    token_id: int
    token_last_used_at: datetime | None


def scan_by_token(payload: str, *, connection: Connection, token_hash: str, event_id: int, method: ScanMethod,
                  desk: str, now: datetime) -> TokenScan | None:
    """``scan_at`` for a scanner app whose bearer token the one statement checks itself (by its
    hash, domain.access.api_tokens.grants_sql): the token, its user's role and the check-in in one
    round trip, on ``connection`` (the caller's, in autocommit: no ORM session is opened for the
    usual scan). ``desk``: the desk's cleaned name, empty for the token user's name. The outcome's
    registration is the statement's row (plain values, no Registration loaded). None when this
    does not apply (as scan_at, and for an event whose key seed this process has not read: nothing
    is read before the token is checked), when the token may not use the desk here, or when
    another desk checked the person in after the statement's snapshot (the statement then logs
    nothing: the step-by-step way decides again from the committed state, as scan_at does). In
    every None case nothing was written, and the caller takes the step-by-step way."""
    credential = _one_statement_pass(payload, connection.dialect.name)
    seed = _SEEDS.get(event_id)
    if credential is None or seed is None or not passes.verify(credential, seed, event_id):
        return None
    row = connection.execute(_statements()[1], _parameters(
        credential, payload, event_id=event_id, seed=seed, session_id=None, method=method,
        desk=desk[:DESK_NAME_LENGTH], user_id=None, token_hash=token_hash, now=now, apart=False)).one()
    if row.scan_result in (scan_statement.KEY_CHANGED, scan_statement.NOT_ALLOWED):
        if row.scan_result == scan_statement.KEY_CHANGED:
            _SEEDS.pop(event_id, None)
        return None
    result = ScanResult(row.scan_result)
    if result in (ScanResult.unknown_pass, ScanResult.wrong_event):
        outcome = ScanOutcome(result)
    elif _not_final(result, row.checked_in_at, apart=False):
        return None
    else:
        outcome = ScanOutcome(result, row, **_read_with(row, row.session_id))
    return TokenScan(outcome, row.event_timezone, row.token_id, row.token_last_used_at)


def _parameters(credential: passes.EntryCredential, payload: str, *, event_id: int, seed: str,
                session_id: int | None, method: ScanMethod, desk: str, user_id: int | None,
                token_hash: str | None, now: datetime, apart: bool) -> dict:
    return {
        "rid": credential.registration_id, "event_id": event_id, "seed": seed, "entry_version": credential.entry_version,
        "session_id": session_id, "now": now, "desk": desk, "changed_us": changed_now(), "method": ScanMethod(method).value,
        "user_id": user_id, "token_hash": token_hash, "apart": apart,
        "read_hash": passes.token_hash(_logged_name(credential, None, payload)),
    }


def _read_with(row, session_id: int) -> dict:
    """What the statement read besides the registration: its session and whether a list was sent."""
    session = {"id": session_id, "title": row.session_title, "doors_at": row.session_doors_at,
               "starts_at": row.session_starts_at, "ends_at": row.session_ends_at}
    return {"session": session, "list_sent": row.last_list_id is not None}


def _not_final(result: ScanResult, checked_in_at: datetime | None, *, apart: bool) -> bool:
    """Not logged by the statement (scan_statement): another desk won after our snapshot, or an
    offline desk's admission of someone checked in, which the earliest admission decides."""
    return result == ScanResult.already_checked_in and (apart or checked_in_at is None)


def _scan_at_once(credential: passes.EntryCredential, payload: str, *, event_id: int, seed: str,
                  session_id: int | None, method: ScanMethod, desk: str, user_id: int | None, now: datetime,
                  apart: bool) -> tuple[ScanOutcome, str] | None:
    """(outcome, the event's time zone); None when the event no longer has the key ``seed``."""
    row = db.session.execute(_statements()[0], _parameters(
        credential, payload, event_id=event_id, seed=seed, session_id=session_id, method=method, desk=desk,
        user_id=user_id, token_hash=None, now=now, apart=apart)).one()
    if row.scan_result == scan_statement.KEY_CHANGED:
        return None
    registration, result, timezone = row[0], ScanResult(row.scan_result), row.event_timezone
    if result in (ScanResult.unknown_pass, ScanResult.wrong_event):
        return ScanOutcome(result), timezone
    read = _read_with(row, registration.session_id)
    if _not_final(result, registration.checked_in_at, apart=apart):
        return _decide_again(registration, credential, event_id=event_id, session_id=session_id, method=method,
                             desk=desk, user_id=user_id, now=now, apart=apart, read=read), timezone
    return ScanOutcome(result, registration, **read), timezone


def _decide_again(registration: Registration, credential: passes.EntryCredential, *, event_id: int,
                  session_id: int | None, method: ScanMethod, desk: str, user_id: int | None, now: datetime,
                  apart: bool, read: dict) -> ScanOutcome:
    """After a refusal the statement did not log (_not_final): decided and logged step by step."""
    if registration.checked_in_at is None:
        db.session.refresh(registration)  # the winner's time and desk, whoever won
    if registration.entry_version != credential.entry_version:  # cancelled or moved meanwhile
        outcome = _stale(registration, credential.entry_version)
    else:
        outcome = _after_lost_update(registration, desk=desk, now=now, apart=apart)
    log_scan(event_id, outcome.result, registration=outcome.registration, token=registration.entry_id,
             method=method, desk=desk, user_id=user_id, session_id=session_id, now=now)
    return ScanOutcome(outcome.result, outcome.registration, outcome.admissions, **read)


def _logged_name(credential: passes.EntryCredential | None, registration: Registration | None,
                 payload: str | None) -> str:
    """What the scan log hashes: the entry id of the pass's registration (ER2 carries it; a format 3
    pass names the registration), else what was read."""
    if registration is not None:
        return registration.entry_id
    if credential is not None and credential.entry_id is not None:
        return credential.entry_id
    return (payload or "").strip()[:200]


def _stale(registration: Registration, entry_version: int) -> ScanOutcome:
    if entry_version > registration.entry_version:  # signed but never issued: treat as unknown
        return ScanOutcome(ScanResult.unknown_pass)
    if registration.status == Status.cancelled:
        return ScanOutcome(ScanResult.cancelled, registration)
    return ScanOutcome(ScanResult.superseded, registration)


def lookup(payload: str, *, event: Event) -> Registration | None:
    """The registration of a current pass of ``event`` (nothing is checked in or logged)."""
    credential = passes.parse(payload or "")
    registration = passes.find_entry(credential) if credential is not None else None
    if registration is None or registration.event_id != event.id:
        return None
    return registration


def check_in_by_id(registration_id: int, *, event: Event, session_id: int | None = None, method: ScanMethod,
                   desk: str, user_id: int | None, now: datetime, apart: bool = False) -> ScanOutcome:
    """The same check-in for a person found by search (no pass at hand)."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise DomainError("not_found")
    outcome = check_in(registration, session_id=session_id, desk=desk, now=now, apart=apart)
    log_scan(event.id, outcome.result, registration=registration, token="", method=method, desk=desk,
         user_id=user_id, session_id=session_id, now=now)
    return outcome


def check_in(registration: Registration, *, session_id: int | None, desk: str, now: datetime,
             apart: bool = False) -> ScanOutcome:
    if session_id is not None and registration.session_id != session_id:
        return ScanOutcome(ScanResult.wrong_session, registration)
    admitted = RESULT_OF_STATUS[registration.status]
    if admitted != ScanResult.ok:
        return ScanOutcome(admitted, registration)
    result = db.session.execute(_CHECK_IN, {"rid": registration.id, "now": now, "desk": desk[:50]})
    if result.rowcount == 1:  # we won: the row holds exactly what we wrote
        set_committed_value(registration, "checked_in_at", now)
        set_committed_value(registration, "checked_in_desk", desk[:50])
        return ScanOutcome(ScanResult.ok, registration)
    db.session.refresh(registration)  # the winner's time and desk, whoever won
    return _after_lost_update(registration, desk=desk[:50], now=now, apart=apart)


def _after_lost_update(registration: Registration, *, desk: str, now: datetime, apart: bool) -> ScanOutcome:
    """The conditional check-in changed nothing; ``registration`` holds the row as it is now."""
    if RESULT_OF_STATUS[registration.status] != ScanResult.ok:  # changed between the read and the update
        return ScanOutcome(RESULT_OF_STATUS[registration.status], registration)
    if apart:
        return _earliest_admission(registration, desk=desk, at=now)
    return ScanOutcome(ScanResult.already_checked_in, registration)


def _earliest_admission(registration: Registration, *, desk: str, at: datetime) -> ScanOutcome:
    """``registration`` was just read checked in; an offline desk ``desk`` admitted them at ``at``."""
    # Each turn that does not end means another request committed a change to this row between our
    # read and our write (lock-free: someone always makes progress), so the loop ends.
    while True:
        seen_at, seen_desk = registration.checked_in_at, registration.checked_in_desk
        if RESULT_OF_STATUS[registration.status] != ScanResult.ok:
            return ScanOutcome(RESULT_OF_STATUS[registration.status], registration)
        if seen_at is None:  # taken back meanwhile: a plain check-in
            won = db.session.execute(_CHECK_IN, {"rid": registration.id, "now": at, "desk": desk}).rowcount == 1
        elif seen_desk == desk:  # the same desk saw its own admission
            return ScanOutcome(ScanResult.already_checked_in, registration)
        elif at >= seen_at:
            return ScanOutcome(ScanResult.conflict, registration, Admissions(seen_at, seen_desk, at, desk))
        else:
            won = move_check_in(registration.id, seen_at=seen_at, seen_desk=seen_desk, at=at, desk=desk)
        if won:
            set_committed_value(registration, "checked_in_at", at)
            set_committed_value(registration, "checked_in_desk", desk)
            if seen_at is None:
                return ScanOutcome(ScanResult.ok, registration)
            return ScanOutcome(ScanResult.conflict, registration, Admissions(at, desk, seen_at, seen_desk))
        db.session.refresh(registration)  # someone changed it between our read and our write: decide again


def move_check_in(registration_id: int, *, seen_at: datetime, seen_desk: str, at: datetime, desk: str) -> bool:
    """Moves the check-in to the earlier admission (``at``, ``desk``) if the row still holds the
    admission read (``seen_at``, ``seen_desk``); False when another request changed it first."""
    return db.session.execute(_MOVE, {"rid": registration_id, "seen_at": seen_at, "seen_desk": seen_desk,
                                      "now": at, "desk": desk}).rowcount == 1


def undo(registration_id: int, *, event: Event, desk: str, user_id: int | None, now: datetime) -> Registration:
    """Takes a check-in back (a mistake at the desk); logged with who and when."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise DomainError("not_found")
    result = db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.checked_in_at.is_not(None))
        .values(checked_in_at=None, checked_in_desk="")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise DomainError("not_checked_in")
    db.session.refresh(registration)
    log_scan(event.id, ScanResult.undone, registration=registration, token="", method=ScanMethod.undo, desk=desk,
         user_id=user_id, session_id=registration.session_id, now=now)
    return registration

