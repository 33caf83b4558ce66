"""The desk's hot path on PostgreSQL: a pass checked in with one statement.

"Find the entry, check its event and version, check in, log the scan" is one round trip: data-
modifying CTEs. ``done`` is the guard: an UPDATE conditional on the event, the pass's version, the
status, the session and ``checked_in_at IS NULL``; under READ COMMITTED it waits for a desk that
is checking the same person in and re-checks its conditions on the row that desk committed.
``cur`` reads the row as the statement's snapshot shows it, ``verdict`` names the outcome from it
(the rule table is domain.reception.checkin's RESULT_OF_STATUS, written into the CASE below) and
``logged`` writes the scan log row.

``who`` is the scanning user: given (:user_id and the desk's name, a signed-in desk or a caller
that checked the token already), or found by a bearer token's hash (:token_hash) with the rule of
domain.access.api_tokens.grants_sql (not revoked, user active, the desk capability on this event
from the user's role and the token's). Without a ``who`` the result is NOT_ALLOWED and nothing is
written or returned: the caller answers as the step-by-step path does (401, 403 or 404).

Two refusals are not final here and are not logged: the snapshot shows the person not checked in
although the UPDATE found them checked in (another desk committed after the snapshot was taken:
domain.reception.checkin reads the row again for the winner's time and desk, or a status changed
meanwhile), and an offline desk's admission of someone checked in (the earliest admission counts).

The signature is checked before, in Python, with the event's key (domain.registration.passes);
``ev`` checks in the same statement that the event still has the key seed it was checked with
(``:seed``). If not (the seed was changed, the event is gone) the result is KEY_CHANGED: nothing
is written and the caller decides again from the event read anew.
"""

from __future__ import annotations

import re

from sqlalchemy import Boolean, Integer, String, bindparam, column, text

from eventreg.domain.access import api_tokens
from eventreg.domain.access.permissions import Capability
from eventreg.models import EventSession, Registration, ScanResult, Status
from eventreg.models.base import UTCDateTime

KEY_CHANGED = "key_changed"
NOT_ALLOWED = "not_allowed"
DESK_NAME_LENGTH = 50  # Scan.desk, Registration.checked_in_desk
COLUMNS = [c.name for c in Registration.__table__.columns]
# What a scanner app's answer needs of the registration (web/checkin_json.registration_json, and
# the building list's marker: communication.building_list_sheet.person_values): the statement
# that returns only these costs both ends less (checkin.scan_by_token).
ANSWER_COLUMNS = ("id", "session_id", "status", "family_name", "given_name", "family_kana", "given_kana",
                  "organization", "department", "email", "phone", "sector", "walk_in", "checked_in_at",
                  "checked_in_desk")
_WRITTEN = ("checked_in_at", "checked_in_desk", "changed_us")  # by ``done``
_session = EventSession.__table__.c
# What the statement returns besides the registration's columns.
EXTRA = (column("scan_result", String), column("session_title", _session.title.type),
         column("session_starts_at", UTCDateTime()), column("session_ends_at", UTCDateTime()),
         column("session_doors_at", UTCDateTime()), column("last_list_id", Integer),
         column("event_timezone", String), column("scan_user_id", Integer), column("scan_desk", String),
         column("token_id", Integer), column("token_last_used_at", UTCDateTime()))


def _status_case(result_of_status: dict[Status, ScanResult]) -> str:
    whens = " ".join(f"WHEN '{status.value}' THEN '{result.value}'" for status, result in result_of_status.items())
    return f"CASE cur.status {whens} END"


def sql(result_of_status: dict[Status, ScanResult], columns=COLUMNS) -> str:
    """The statement returning ``columns`` of the registration (all, or ANSWER_COLUMNS)."""
    return f"""
WITH who AS (
    -- Who scans: the user and desk given, or the user of the bearer token allowed the desk on
    -- the event, at the desk named, else at their own name.
    SELECT u.id AS user_id, COALESCE(NULLIF(CAST(:desk AS VARCHAR), ''), left(u.name, {DESK_NAME_LENGTH})) AS desk,
           t.id AS token_id, t.last_used_at AS token_last_used_at
    FROM api_token t JOIN staff_user u ON u.id = t.user_id
    JOIN event_member m ON m.user_id = t.user_id AND m.event_id = :event_id
    WHERE {api_tokens.grants_sql(Capability.desk)}
    UNION ALL
    SELECT CAST(:user_id AS INTEGER), CAST(:desk AS VARCHAR), NULL, NULL WHERE CAST(:token_hash AS VARCHAR) IS NULL
), ev AS (
    SELECT timezone FROM event WHERE id = :event_id AND pass_key = :seed
), cur AS (
    SELECT * FROM registration WHERE id = :rid
), done AS (
    UPDATE registration SET checked_in_at = :now, checked_in_desk = (SELECT desk FROM who), changed_us = :changed_us
    WHERE id = :rid AND event_id = :event_id AND entry_version = :entry_version
      AND status = '{Status.confirmed.value}' AND checked_in_at IS NULL
      AND (CAST(:session_id AS INTEGER) IS NULL OR session_id = :session_id)
      AND EXISTS (SELECT 1 FROM ev) AND EXISTS (SELECT 1 FROM who)
    RETURNING checked_in_at, checked_in_desk, changed_us
), verdict AS (
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM who) THEN '{NOT_ALLOWED}'
        WHEN EXISTS (SELECT 1 FROM done) THEN '{ScanResult.ok.value}'
        WHEN NOT EXISTS (SELECT 1 FROM ev) THEN '{KEY_CHANGED}'
        WHEN cur.id IS NULL THEN '{ScanResult.unknown_pass.value}'
        -- Verified with this event's key but another event's person: a forgery, not that
        -- event's pass (whose signature this key refuses, and which the caller calls wrong_event).
        WHEN cur.event_id <> :event_id THEN '{ScanResult.unknown_pass.value}'
        WHEN :entry_version > cur.entry_version THEN '{ScanResult.unknown_pass.value}'
        WHEN :entry_version < cur.entry_version THEN
            CASE WHEN cur.status = '{Status.cancelled.value}' THEN '{ScanResult.cancelled.value}'
                 ELSE '{ScanResult.superseded.value}' END
        WHEN CAST(:session_id AS INTEGER) IS NOT NULL AND cur.session_id <> :session_id
            THEN '{ScanResult.wrong_session.value}'
        WHEN cur.status <> '{Status.confirmed.value}' THEN {_status_case(result_of_status)}
        ELSE '{ScanResult.already_checked_in.value}'
    END AS result
    FROM (SELECT 1) AS one LEFT JOIN cur ON true
), logged AS (
    INSERT INTO scan (event_id, session_id, registration_id, token_hash, result, method, desk, user_id, at)
    SELECT :event_id, :session_id, CASE WHEN cur.event_id = :event_id THEN cur.id END,
           COALESCE(left(encode(sha256(convert_to(cur.entry_id, 'UTF8')), 'hex'), 12), :read_hash),
           verdict.result, :method, who.desk, who.user_id, :now
    FROM verdict CROSS JOIN who LEFT JOIN cur ON true
    WHERE verdict.result NOT IN ('{KEY_CHANGED}', '{NOT_ALLOWED}')
      AND NOT (verdict.result = '{ScanResult.already_checked_in.value}' AND (:apart OR cur.checked_in_at IS NULL))
)
-- The row as it is now: what this statement wrote, else the snapshot; nothing of it for a caller
-- who may not use the desk (the caller answers as the step-by-step path does).
SELECT {", ".join(_now_column(name) for name in columns)}, verdict.result AS scan_result,
       s.title AS session_title, s.starts_at AS session_starts_at, s.ends_at AS session_ends_at,
       s.doors_at AS session_doors_at,
       (SELECT x.id FROM security_list_send x WHERE x.session_id = cur.session_id
        ORDER BY x.seq DESC LIMIT 1) AS last_list_id,
       (SELECT timezone FROM ev) AS event_timezone,
       who.user_id AS scan_user_id, who.desk AS scan_desk, who.token_id, who.token_last_used_at
FROM verdict LEFT JOIN who ON true LEFT JOIN cur ON verdict.result <> '{NOT_ALLOWED}'
LEFT JOIN done ON true LEFT JOIN event_session s ON s.id = cur.session_id
"""


def _now_column(name: str) -> str:
    return f"COALESCE(done.{name}, cur.{name}) AS {name}" if name in _WRITTEN else f"cur.{name}"


def compact(sql_text: str) -> str:
    """The text without comments and runs of blanks: psycopg converts a statement of at most
    4096 characters once per process, a longer one at every execution (0.5 ms of this one's)."""
    return " ".join(re.sub(r"--[^\n]*", "", sql_text).split())


def statement(result_of_status: dict[Status, ScanResult], columns=COLUMNS):
    """The statement, built once per process (domain.reception.checkin)."""
    return text(compact(sql(result_of_status, columns))).bindparams(
        bindparam("now", type_=UTCDateTime()), bindparam("session_id", type_=Integer()),
        bindparam("apart", type_=Boolean()), bindparam("desk", type_=String()), bindparam("seed", type_=String()),
        bindparam("user_id", type_=Integer()), bindparam("token_hash", type_=String()),
    ).columns(*(Registration.__table__.c[name] for name in columns), *EXTRA)
